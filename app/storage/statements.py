"""The SQL store's Core statements, built once at import and executed with bound parameters.

Building a statement costs more than running it: constructing `insert(...).values(**row)` or a
`select(...).where(...)` and computing its cache key took most of an append's ~2.5 ms of CPU
when it was done per row. Statements built here are compiled on first use per dialect and then
served from SQLAlchemy's compiled cache; the writer binds parameter lists to them
(`executemany`) for a whole group of appends at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnClause,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    cast,
    column,
    func,
    insert,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import JSON
from sqlmodel import SQLModel

from app.storage.tables import (
    CommitmentRecord,
    ComplaintRow,
    ConversationRecord,
    DemoOrderRecord,
    MessageRecord,
    RatingRecord,
)

conversations: Table = SQLModel.metadata.tables[ConversationRecord.__tablename__]
messages_t: Table = SQLModel.metadata.tables[MessageRecord.__tablename__]
demo_orders: Table = SQLModel.metadata.tables[DemoOrderRecord.__tablename__]
ratings_t: Table = SQLModel.metadata.tables[RatingRecord.__tablename__]
commitments_t: Table = SQLModel.metadata.tables[CommitmentRecord.__tablename__]
complaints_t: Table = SQLModel.metadata.tables[ComplaintRow.__tablename__]

# Everything but the surrogate `id`, which never leaves the database.
MESSAGE_COLUMNS = [c for c in messages_t.c if c.name != "id"]
MESSAGE_FIELDS = [c.name for c in MESSAGE_COLUMNS]
CONVERSATION_FIELDS = [c.name for c in conversations.c]
# What an append's snapshot sets; bound as `new_<field>` (SQLAlchemy reserves the column names).
SNAPSHOT_FIELDS = ("state", "slots", "counters", "mode", "agent", "ended_at", "updated_at")

_conversation_id = conversations.c.id
_message_conversation = messages_t.c.conversation_id

# -- conversations --------------------------------------------------------------------------

CONVERSATION = select(conversations).where(_conversation_id == bindparam("id"))
CONVERSATION_ID = select(_conversation_id).where(_conversation_id == bindparam("id"))
INSERT_CONVERSATION = insert(conversations)
UPDATE_SNAPSHOT = (
    update(conversations)
    .where(_conversation_id == bindparam("cid"))
    .values({name: bindparam(f"new_{name}") for name in SNAPSHOT_FIELDS})
)

# -- messages -------------------------------------------------------------------------------

INSERT_MESSAGE = insert(messages_t)
MESSAGES_AFTER = (
    select(*MESSAGE_COLUMNS)
    .where(_message_conversation == bindparam("id"), messages_t.c.seq > bindparam("after"))
    .order_by(messages_t.c.seq)
)
MESSAGE_BY_CLIENT_ID = select(*MESSAGE_COLUMNS).where(
    _message_conversation == bindparam("id"), messages_t.c.client_message_id == bindparam("client_id")
)


@dataclass(frozen=True)
class GroupStatements:
    """What a group of appends runs, for one dialect.

    Each takes one JSON text parameter, read as a table-valued function (`json_each` on SQLite,
    `jsonb_array_elements` on PostgreSQL): the SQL text is the same for every group size, so the
    driver's prepared-statement cache holds it (an expanding `IN` renders new SQL per size), and
    each key is looked up in an index. `(a, b) IN (...)` scans the table on SQLite and takes
    milliseconds to plan on PostgreSQL; `a IN (...) AND b IN (...)` probes every combination of
    the two lists.

    On PostgreSQL each key's look-up is a `LATERAL` subquery with `LIMIT 1` (the keys are unique),
    which the planner cannot flatten into a join. As a plain join, the planner guesses 100 rows for
    the function and prefers hashing the whole table below ~50,000 rows; the prepared statement
    keeps that plan, so every commit scanned `messages` (2–8 ms at 12,000 rows, seen with
    auto_explain in a paced run). tests/storage/test_sql_store.py checks the plans.
    """

    lock: Select[Any]  # `ids`: ["conv", ...] -> the conversation ids that exist, now locked
    last_seqs: Select[Any]  # `ids` -> (conversation id, its highest seq or None)
    stored_by_client_ids: Select[Any]  # `keys`: [["conv", "client id"], ...] -> those messages


# LIMIT 1 as SQL text, not a bound parameter: a generic plan cannot know a parameter's value.
_ONE: ColumnClause[int] = literal_column("1", Integer())


def _group_statements(dialect: str) -> GroupStatements:
    ids_text, keys_text = bindparam("ids", type_=String()), bindparam("keys", type_=String())
    if dialect == "postgresql":
        ids = func.jsonb_array_elements_text(cast(ids_text, JSONB)).table_valued("value", name="i")
        keys = func.jsonb_array_elements(cast(keys_text, JSONB)).table_valued(
            column("value", JSONB), name="k"
        )
        key_conversation, key_client_id = keys.c.value[0].astext, keys.c.value[1].astext
    else:
        ids = func.json_each(ids_text).table_valued("value", name="i")
        keys = func.json_each(keys_text).table_valued(column("value", JSON), name="k")
        key_conversation = func.json_extract(keys.c.value, "$[0]")
        key_client_id = func.json_extract(keys.c.value, "$[1]")
    # FOR UPDATE serialises appends to a conversation across processes on PostgreSQL, so two
    # service instances cannot both pick the same next seq; every writer takes a group's row
    # locks in the same order (ids sorted by the caller, locked one by one in that order on
    # PostgreSQL; ORDER BY elsewhere), so two groups cannot deadlock. SQLite renders no lock
    # clause and is serialised by BEGIN IMMEDIATE instead.
    if dialect == "postgresql":
        locked = (
            select(_conversation_id)
            .where(_conversation_id == ids.c.value)
            .limit(_ONE)
            .with_for_update()
            .lateral("c")
        )
        lock = select(locked.c.id).select_from(ids).join(locked, true())
    else:
        lock = (
            select(_conversation_id)
            .where(_conversation_id.in_(select(ids.c.value)))
            .order_by(_conversation_id)
        )
    # A separate statement from the lock, on purpose: under READ COMMITTED each statement sees
    # what was committed before it started, so only a statement issued after the lock is granted
    # sees the rows the previous lock holder added. One max() per conversation (not GROUP BY),
    # so each is a seek to the end of the (conversation_id, seq) index, however long the
    # conversation.
    last_seq = (
        select(func.max(messages_t.c.seq)).where(_message_conversation == ids.c.value).scalar_subquery()
    )
    on = and_(_message_conversation == key_conversation, messages_t.c.client_message_id == key_client_id)
    if dialect == "postgresql":
        stored = select(*MESSAGE_COLUMNS).where(on).limit(_ONE).lateral("m")
        stored_by_client_ids = select(*stored.c).select_from(keys).join(stored, true())
    else:
        stored_by_client_ids = select(*MESSAGE_COLUMNS).select_from(keys.join(messages_t, on))
    return GroupStatements(
        lock=lock,
        last_seqs=select(ids.c.value, last_seq),
        stored_by_client_ids=stored_by_client_ids,
    )


GROUP_STATEMENTS = {name: _group_statements(name) for name in ("sqlite", "postgresql")}

# -- demo orders ----------------------------------------------------------------------------

DEMO_ORDER = select(demo_orders).where(demo_orders.c.order_id == bindparam("id"))
