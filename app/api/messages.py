"""Wire messages: every WebSocket frame a client sends or the server answers with.

These pydantic models are the single source of the protocol. Each carries its JSON example
(`json_schema_extra["examples"]`); `tests/api/test_protocol_doc.py` checks that every example
validates against its model and appears in docs/protocol.md, and that every error code and
close code is documented there. `python -m app.api.messages` prints the frame reference.

Client frames are discriminated unions on `type` (`ChatClientFrame`, `AssistClientFrame`);
server frames are encoded with `encode`, which leaves out the optional fields that are unset.
"""

from __future__ import annotations

import inspect
import json
import types
from enum import Enum
from typing import Annotated, Any, ClassVar, Final, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from app.vocab import Channel, Role, WireMode

# A client's own message id: safe to log and to use as a key; `#` and `:` stay free for the
# ids the server derives from it (bot rows of a turn, agent messages), so they never collide.
ClientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
Text = Annotated[str, StringConstraints(min_length=1)]  # the length limit is a setting, checked at the edge
SlotName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=128)]

# code → when it is sent. The connection stays open after every one of them, except `too_large`
# and, on the agent endpoint, a failed authentication or an unknown conversation (close 1008).
ERROR_CODES: Final[dict[str, str]] = {
    "bad_json": "the frame is not a JSON object, is a binary frame, or is JSON nobody can read (nested too "
    "deeply, an integer of more than 4,300 digits)",
    "unknown_type": "`type` is missing or names no frame this endpoint accepts",
    "invalid_field": "a field is missing, has the wrong type, is out of range, or holds text no store can "
    "keep (a lone surrogate such as \\ud800, or a NUL \\u0000) (the message names it); final: do not resend",
    "not_started": "`message` before `start` or `resume` on this connection",
    "already_started": "`start` or `resume` on a connection that already has its conversation",
    "not_found": "no conversation with that id (told to agents; a customer's `resume` or REST read of an unknown "
    "id is `unauthorized`, exactly as a wrong token, so ids cannot be probed)",
    "unauthorized": "wrong or missing customer token, agent token or ticket",
    "rate_limited": "too many frames on this connection; wait, then resend with the same `id`",
    "unknown_state": "`goto` names a state the conversation's flow does not have",
    "engine_error": "the script could not handle the message; it is stored and acked, the bot stays silent",
    "unavailable": "the database failed (or other workers kept writing to this conversation first); the message "
    "was NOT stored: resend it with the same `id`",
    "transition_refused": "REST: a complaint record cannot take that step (out of order, or a required fact is "
    "missing: the message names it); nothing changed",
    "conflict": "REST: the complaint record changed since it was read; read it again and redo the change",
    "too_large": "the frame is larger than the limit; the connection closes with 1009",
    "internal_error": "an unexpected server error; the frame was not processed",
}

# WebSocket close codes the server uses (RFC 6455).
CLOSE_CODES: Final[dict[int, str]] = {
    1000: "normal closure",
    1001: "the server is shutting down; reconnect and `resume`",
    1008: "agent endpoint: wrong credentials or ticket, or no such conversation (after an `unauthorized` or "
    "`not_found` error frame)",
    1009: "a frame was larger than HUASHU_MAX_FRAME_BYTES",
    1011: "unexpected server error",
    1012: "the server is restarting; reconnect and `resume`",
    1013: "the client did not read its frames fast enough (over 1,000 queued); reconnect and `resume`",
}


class Frame(BaseModel):
    """Base of every frame: strict (unknown fields are refused), immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str
    omit_if_none: ClassVar[frozenset[str]] = frozenset()


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", frozen=True, json_schema_extra={"examples": list(examples)})


# ================================================================ customer → server (/ws/chat)


class StartFrame(Frame):
    """Start a new conversation. `mode: "human"` means a person answers and the engine only suggests."""

    model_config = _examples(
        {
            "type": "start",
            "flow": "default",
            "mode": "bot",
            "channel": "online",
            "customer": {"name": "王女士"},
        }
    )
    type: Literal["start"] = "start"
    flow: Name | None = None
    mode: WireMode = WireMode.BOT
    channel: Channel = Channel.ONLINE
    customer: dict[str, Any] | None = None


class ResumeFrame(Frame):
    """Re-attach to a conversation after a reconnect; everything after `last_seq` comes back as `history`."""

    model_config = _examples(
        {
            "type": "resume",
            "conversation_id": "9f1c2e7a4b0d4a52b3d1c0e8f7a6b5c4",
            "token": "q0Wm…",
            "last_seq": 3,
        }
    )
    type: Literal["resume"] = "resume"
    conversation_id: Name
    token: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    last_seq: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0


class MessageFrame(Frame):
    """A customer message. `id` is the client's own id: a resend with the same id is never stored twice."""

    model_config = _examples({"type": "message", "id": "c-7", "text": "我的快递到哪了,订单号202611180001"})
    type: Literal["message"] = "message"
    id: ClientId
    text: Text


class RateFrame(Frame):
    """The customer's satisfaction rating (1–5, with an optional comment), answered by an `ack` with the
    stored seq. Usually sent after the end, when the flow has asked for it; a later rating replaces an
    earlier one. `id` is optional: with one, a resend is acked again and stored once."""

    model_config = _examples(
        {"type": "rate", "score": 5, "comment": "回复很及时,问题解决了"},
        {"type": "rate", "id": "r-1", "score": 2, "comment": ""},
    )
    type: Literal["rate"] = "rate"
    score: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, StringConstraints(max_length=500)] = ""
    id: ClientId | None = None


class PingFrame(Frame):
    """Keep-alive from either kind of client; answered with `pong`."""

    model_config = _examples({"type": "ping"})
    type: Literal["ping"] = "ping"


# ================================================================ agent → server (/ws/assist/{id})


class AgentMessageFrame(Frame):
    """The agent says something to the customer; `phrase_id` names the suggestion used, if any.

    On a conversation the bot is answering, this takes it over first (as `takeover` would).
    """

    model_config = _examples(
        {
            "type": "message",
            "id": "a-1",
            "text": "为您查询到,订单202611180001目前运输中,预计2026-11-24送达。",
            "phrase_id": "answer.order_status.lookup",
        }
    )
    type: Literal["message"] = "message"
    text: Text
    phrase_id: Name | None = None
    id: ClientId | None = None


class SetSlotFrame(Frame):
    """Fill or correct a slot (e.g. the order number the customer gave by phone)."""

    model_config = _examples({"type": "set_slot", "name": "order_id", "value": "202611180001"})
    type: Literal["set_slot"] = "set_slot"
    name: SlotName
    value: Annotated[str, StringConstraints(max_length=512)]


class GotoFrame(Frame):
    """Move the script to a state by hand (in bot mode the bot then says that state's line)."""

    model_config = _examples({"type": "goto", "state": "promise"})
    type: Literal["goto"] = "goto"
    state: Name


class TakeoverFrame(Frame):
    """Switch the conversation to human mode: the bot stops answering, the agent answers. A handed-off conversation leaves `handoff` for the flow's `takeover` state, and `agent_name` becomes the agent's own name (docs/flows.md)."""

    model_config = _examples({"type": "takeover"})
    type: Literal["takeover"] = "takeover"


class ReleaseFrame(Frame):
    """Hand the conversation back to the bot."""

    model_config = _examples({"type": "release"})
    type: Literal["release"] = "release"


HISTORY_PAGE: Final = 200  # stored messages per `history` / `snapshot` frame
MAX_HISTORY_PAGE: Final = 500


class HistoryRequestFrame(Frame):
    """The next page of stored messages, after `after_seq` (a `history` or `snapshot` frame said `more`)."""

    model_config = _examples({"type": "history", "after_seq": 200, "limit": 200})
    type: Literal["history"] = "history"
    after_seq: Annotated[int, Field(ge=0, le=2**31 - 1)]
    limit: Annotated[int, Field(ge=1, le=MAX_HISTORY_PAGE)] = HISTORY_PAGE


ChatClientFrame = Annotated[
    StartFrame | ResumeFrame | MessageFrame | RateFrame | PingFrame | HistoryRequestFrame, Field(discriminator="type")
]
AssistClientFrame = Annotated[
    AgentMessageFrame | SetSlotFrame | GotoFrame | TakeoverFrame | ReleaseFrame | PingFrame | HistoryRequestFrame,
    Field(discriminator="type"),
]
CHAT_CLIENT: Final = TypeAdapter[ChatClientFrame](ChatClientFrame)
ASSIST_CLIENT: Final = TypeAdapter[AssistClientFrame](AssistClientFrame)
CHAT_CLIENT_TYPES: Final = frozenset({"start", "resume", "message", "rate", "ping", "history"})
ASSIST_CLIENT_TYPES: Final = frozenset({"message", "set_slot", "goto", "takeover", "release", "ping", "history"})
QUEUE_CLIENT: Final = TypeAdapter[PingFrame](PingFrame)
QUEUE_CLIENT_TYPES: Final = frozenset({"ping"})


# ================================================================ server → clients


class StartedFrame(Frame):
    """Answer to `start` and `resume`. Keep `token`: it is the only way back into this conversation."""

    model_config = _examples(
        {
            "type": "started",
            "conversation_id": "9f1c2e7a4b0d4a52b3d1c0e8f7a6b5c4",
            "token": "q0Wm3…",
            "flow": "default",
            "flow_version": "2026.11.1",
            "state": "listen",
            "mode": "bot",
            "ended": False,
        }
    )
    type: Literal["started"] = "started"
    conversation_id: str
    token: str
    flow: str
    flow_version: str
    state: str
    mode: WireMode
    ended: bool = False  # a resumed conversation that has ended (the widget shows its end and the rating)
    rating: int | None = None  # its rating, once given
    omit_if_none: ClassVar[frozenset[str]] = frozenset({"rating"})


class HistoryMessage(BaseModel):
    """One stored message as clients see it (in `history` and `snapshot`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    seq: int
    role: Role
    text: str
    ts: str  # ISO 8601, UTC
    state: str  # the script's state after this message
    id: str | None = None  # the client's id (customer messages)
    phrase_id: str | None = None
    intent: str | None = None


class HistoryFrame(Frame):
    """After `resume` (or asked for with a `history` frame): the customer, bot and agent messages with
    `seq > last_seq`, in order, a page at a time: `more` says another page follows from `next_after_seq`."""

    model_config = _examples(
        {
            "type": "history",
            "messages": [
                {
                    "seq": 4,
                    "role": "customer",
                    "text": "我的快递到哪了",
                    "ts": "2026-11-22T10:00:03+00:00",
                    "state": "ask_order_id",
                    "id": "c-2",
                    "intent": "order_status",
                },
                {
                    "seq": 5,
                    "role": "bot",
                    "text": "为了尽快帮您处理,麻烦您提供一下订单号,好吗?",
                    "ts": "2026-11-22T10:00:03+00:00",
                    "state": "ask_order_id",
                    "phrase_id": "clarify.ask_order_id",
                },
            ],
            "more": False,
        }
    )
    type: Literal["history"] = "history"
    messages: list[HistoryMessage]
    more: bool = False
    next_after_seq: int | None = None


class NoticeFrame(Frame):
    """The service's own state, to customers and agents: `degraded` while frames between workers are held
    up (the Redis bus is down; messages are still stored), `recovered` once it is back — what was missed
    arrives as a `history` frame just before."""

    model_config = _examples({"type": "notice", "code": "degraded",
                              "message": "messages to and from the other side may be delayed"})
    type: Literal["notice"] = "notice"
    code: Literal["degraded", "recovered"]
    message: str


class AckFrame(Frame):
    """The message is durably stored as `seq`. A resend with the same `id` gets this same ack.

    `replies` (customer acks): how many `reply` frames of this message's turn follow the ack, so a
    widget knows when the bot has finished answering (0 when a person answers). A resend's ack
    has the same count, though the replies are not sent again (`resume` gives them as `history`).
    """

    model_config = _examples({"type": "ack", "id": "c-7", "seq": 6, "replies": 2})
    type: Literal["ack"] = "ack"
    id: str | None
    seq: int
    replies: int | None = None
    omit_if_none: ClassVar[frozenset[str]] = frozenset({"replies"})


class ReplyFrame(Frame):
    """A line the bot says (bot mode); `intent` is what it understood of the customer's message."""

    model_config = _examples(
        {
            "type": "reply",
            "seq": 6,
            "text": "为您查询到,订单202611180001目前运输中,已到达北京顺义分拣中心,由顺丰速运配送,"
            "运单号是SF1402658823115,预计2026-11-24送达。",
            "phrase_id": "answer.order_status.lookup",
            "state": "close_check",
            "intent": "order_status",
        }
    )
    type: Literal["reply"] = "reply"
    seq: int
    text: str
    phrase_id: str
    state: str
    intent: str | None


class AgentMessageOutFrame(Frame):
    """A human agent's message. Customers get `seq` and `text`; agents also see who and which phrase."""

    model_config = _examples(
        {"type": "agent_message", "seq": 12, "text": "您好,我是客服小王,马上为您处理。"},
        {
            "type": "agent_message",
            "seq": 12,
            "text": "您好,我是客服小王,马上为您处理。",
            "agent": "alice",
            "phrase_id": "greeting.standard",
        },
    )
    omit_if_none: ClassVar[frozenset[str]] = frozenset({"agent", "phrase_id"})
    type: Literal["agent_message"] = "agent_message"
    seq: int
    text: str
    agent: str | None = None
    phrase_id: str | None = None


class StatusFrame(Frame):
    """Who answers now: sent on takeover/release, on hand-off (`awaiting_agent`), on `goto`/`set_slot`.

    Agents also get `slots` and the `agent` who made the change.
    """

    model_config = _examples(
        {"type": "status", "state": "handoff", "mode": "bot", "awaiting_agent": True, "ended": False},
        {
            "type": "status",
            "state": "listen",
            "mode": "human",
            "awaiting_agent": False,
            "ended": False,
            "slots": {"order_id": "202611180001"},
            "agent": "alice",
        },
    )
    omit_if_none: ClassVar[frozenset[str]] = frozenset({"slots", "agent"})
    type: Literal["status"] = "status"
    state: str
    mode: WireMode
    awaiting_agent: bool
    ended: bool
    slots: dict[str, str] | None = None
    agent: str | None = None


class ErrorFrame(Frame):
    """Every problem; `ref` is the `id` of the message concerned, when there is one."""

    model_config = _examples(
        {
            "type": "error",
            "code": "invalid_field",
            "message": "text: String should have at least 1 character",
            "ref": "c-8",
        },
        {"type": "error", "code": "bad_json", "message": "invalid JSON: Expecting value (column 1)"},
    )
    omit_if_none: ClassVar[frozenset[str]] = frozenset({"ref"})
    type: Literal["error"] = "error"
    code: str
    message: str
    ref: str | None = None


class PongFrame(Frame):
    """Answer to `ping`."""

    model_config = _examples({"type": "pong"})
    type: Literal["pong"] = "pong"


class QueueItem(BaseModel):
    """One conversation as the agents' queue shows it (`/ws/queue`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    conversation_id: str
    state: str
    state_title: str  # the flow's name for the state, for people (`title:` in the flow)
    stage: str
    mode: WireMode
    awaiting_agent: bool
    ended: bool
    agent: str | None = None
    channel: str
    flow: str
    customer: str | None = None  # the customer's name, when the conversation knows it
    last_customer_text: str | None = None  # the customer's latest line (None: unchanged, or none yet)
    at: str  # ISO 8601, UTC: when this changed


class QueueFrame(Frame):
    """`/ws/queue`, first frame: the open conversations, newest first (at most 100)."""

    model_config = _examples({"type": "queue", "items": [{
        "conversation_id": "9f1c2e7a4b0d4a52b3d1c0e8f7a6b5c4", "state": "handoff", "state_title": "转人工",
        "stage": "hand-off", "mode": "bot", "awaiting_agent": True, "ended": False,
        "channel": "online", "flow": "default", "customer": "王女士", "last_customer_text": "我要找人工",
        "at": "2026-12-05T08:00:00+00:00"}]})
    type: Literal["queue"] = "queue"
    items: list[QueueItem]


class QueueItemFrame(Frame):
    """`/ws/queue`: a conversation started, was handed to a person, changed who answers, ended, or a customer
    waiting for or talking to a person wrote again. Bot conversations' other turns are not sent."""

    model_config = _examples({"type": "queue_item", "item": {
        "conversation_id": "9f1c2e7a4b0d4a52b3d1c0e8f7a6b5c4", "state": "handoff", "state_title": "转人工",
        "stage": "hand-off", "mode": "bot", "awaiting_agent": True, "ended": False,
        "channel": "online", "flow": "default", "last_customer_text": "转人工",
        "at": "2026-12-05T08:00:00+00:00"}})
    type: Literal["queue_item"] = "queue_item"
    item: QueueItem


class SnapshotFrame(Frame):
    """First frame on the agent endpoint: where the conversation is and everything said so far."""

    model_config = _examples(
        {
            "type": "snapshot",
            "conversation_id": "9f1c2e7a4b0d4a52b3d1c0e8f7a6b5c4",
            "flow": "default",
            "mode": "human",
            "state": "greeting",
            "slots": {"agent_name": "小华"},
            "awaiting_agent": False,
            "ended": False,
            "messages": [],
            "more": False,
        }
    )
    type: Literal["snapshot"] = "snapshot"
    conversation_id: str
    flow: str
    mode: WireMode
    state: str
    slots: dict[str, str]
    awaiting_agent: bool
    ended: bool
    messages: list[HistoryMessage]
    more: bool = False  # more stored messages after this page: ask with a `history` frame from `next_after_seq`
    next_after_seq: int | None = None


class CustomerMessageFrame(Frame):
    """To agents: the customer said something (stored as `seq`)."""

    model_config = _examples(
        {
            "type": "customer_message",
            "seq": 3,
            "text": "我的快递到哪了",
            "id": "c-2",
            "intent": "order_status",
        }
    )
    type: Literal["customer_message"] = "customer_message"
    seq: int
    text: str
    id: str | None
    intent: str | None


class SuggestionItem(BaseModel):
    """One ranked phrasing in `suggestions`; `text` has the slots filled, missing ones left as `{name}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    phrase_id: str
    text: str
    score: float
    missing_slots: list[str]
    stage: str
    reason: str


class SuggestionsFrame(Frame):
    """To agents: the phrasings that fit now, best first — the current state's, then one of each of the flow's
    `assist_also` stages not offered yet (docs/flows.md; an item's `stage` says which) — `missing_slots` still
    show as `{name}`."""

    model_config = _examples(
        {
            "type": "suggestions",
            "state": "ask_order_id",
            "intent": "order_status",
            "items": [
                {
                    "phrase_id": "clarify.ask_order_id",
                    "text": "为了尽快帮您处理,麻烦您提供一下订单号,好吗?",
                    "score": 0.62,
                    "missing_slots": [],
                    "stage": "clarify",
                    "reason": "stage clarify",
                }
            ],
        }
    )
    type: Literal["suggestions"] = "suggestions"
    state: str
    intent: str | None
    items: list[SuggestionItem]


CLIENT_FRAMES: Final[tuple[tuple[str, type[Frame]], ...]] = (
    ("/ws/chat", StartFrame),
    ("/ws/chat", ResumeFrame),
    ("/ws/chat", MessageFrame),
    ("/ws/chat", RateFrame),
    ("/ws/chat, /ws/assist and /ws/queue", PingFrame),
    ("/ws/chat and /ws/assist", HistoryRequestFrame),
    ("/ws/assist", AgentMessageFrame),
    ("/ws/assist", SetSlotFrame),
    ("/ws/assist", GotoFrame),
    ("/ws/assist", TakeoverFrame),
    ("/ws/assist", ReleaseFrame),
)
SERVER_FRAMES: Final[tuple[tuple[str, type[Frame]], ...]] = (
    ("customer", StartedFrame),
    ("customer and agent", HistoryFrame),
    ("customer and agent", NoticeFrame),
    ("customer and agent", AckFrame),
    ("customer and agent", ReplyFrame),
    ("customer and agent", AgentMessageOutFrame),
    ("customer and agent", StatusFrame),
    ("customer and agent", ErrorFrame),
    ("customer and agent", PongFrame),
    ("agent", SnapshotFrame),
    ("agent", CustomerMessageFrame),
    ("agent", SuggestionsFrame),
    ("agent (/ws/queue)", QueueFrame),
    ("agent (/ws/queue)", QueueItemFrame),
)


def encode(frame: Frame) -> str:
    """The frame as JSON text; fields in `omit_if_none` are left out when None."""
    exclude = {name for name in frame.omit_if_none if getattr(frame, name) is None}
    return frame.model_dump_json(exclude=exclude or None)


def examples(model: type[BaseModel]) -> list[dict[str, Any]]:
    extra = model.model_config.get("json_schema_extra")
    return list(extra.get("examples", [])) if isinstance(extra, dict) else []  # type: ignore[arg-type]


def _constraints(metadata: Any) -> str:
    for item in metadata:
        if getattr(item, "pattern", None):
            return f" `{item.pattern.strip('^$')}`"
    return ""


def _type_name(annotation: Any) -> str:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _type_name(args[0]) + _constraints(args[1:])
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " \\| ".join(json.dumps(member.value) for member in annotation)
    if origin is Literal:
        return " \\| ".join(json.dumps(a) for a in args)
    if origin in (Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        return " \\| ".join(names) + (" \\| null" if type(None) in args else "")
    if origin is list:
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict or annotation is dict:
        return "object"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.__name__
    return {str: "string", int: "integer", float: "number", bool: "boolean"}.get(annotation, str(annotation))


def fields_table(model: type[BaseModel]) -> str:
    rows = ["| field | type | required |", "| --- | --- | --- |"]
    for name, info in model.model_fields.items():
        if name == "type":
            continue
        if info.is_required():
            required = "yes"
        else:
            required = (
                "no"
                if info.default is None
                else f"no (default `{json.dumps(info.default, ensure_ascii=False)}`)"
            )
        rows.append(f"| `{name}` | {_type_name(info.annotation)}{_constraints(info.metadata)} | {required} |")
    return "\n".join(rows) + "\n" if len(rows) > 2 else ""


def reference() -> str:
    """The frame reference in Markdown (the source of the frame sections of docs/protocol.md)."""
    out: list[str] = []
    for title, frames in (("Client frames", CLIENT_FRAMES), ("Server frames", SERVER_FRAMES)):
        out.append(f"### {title}\n")
        for where, model in frames:
            name = model.model_fields["type"].default
            out.append(f"#### `{name}` ({where})\n\n{inspect.cleandoc(model.__doc__ or '')}\n")
            table = fields_table(model)
            if table:
                out.append(table)
            for example in examples(model):
                out.append("```json\n" + json.dumps(example, ensure_ascii=False) + "\n```\n")
    for part in (HistoryMessage, SuggestionItem):
        out.append(f"#### `{part.__name__}` (inside frames)\n\n{inspect.cleandoc(part.__doc__ or '')}\n")
        out.append(fields_table(part))
    out.append("### Error codes\n\n| code | sent when |\n| --- | --- |")
    out.append("\n".join(f"| `{code}` | {meaning} |" for code, meaning in ERROR_CODES.items()) + "\n")
    out.append("### Close codes\n\n| code | meaning |\n| --- | --- |")
    out.append("\n".join(f"| {code} | {meaning} |" for code, meaning in CLOSE_CODES.items()) + "\n")
    return "\n".join(out)


if __name__ == "__main__":
    print(reference())
