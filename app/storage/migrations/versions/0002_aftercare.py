"""Aftercare: satisfaction ratings, commitments and complaint records (issue 14, docs/aftercare.md).

Three new tables beside the transcript; the existing ones are untouched, so upgrading a live
database is a quick, additive change.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _conversation_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["conversation_id"], ["conversations.id"], name=f"fk_{table}_conversation_id", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "ratings",
        sa.Column("conversation_id", sa.String(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("flow", sa.String(), nullable=False),
        sa.Column("agent", sa.String(), nullable=True),
        sa.Column("intent", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id"),
        _conversation_fk("ratings"),
    )
    op.create_index("ix_ratings_at", "ratings", ["at"])

    op.create_table(
        "commitments",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("conversation_id", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("customer", sa.String(), nullable=False),
        sa.Column("promised_by", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("phrase_id", sa.String(), nullable=True),
        sa.Column("window", sa.String(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        _conversation_fk("commitments"),
    )
    op.create_index("ix_commitments_done_due", "commitments", ["done_at", "due_at"])
    op.create_index("ix_commitments_conversation_id", "commitments", ["conversation_id"])

    op.create_table(
        "complaints",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("conversation_id", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        _conversation_fk("complaints"),
        sa.UniqueConstraint("conversation_id", name="uq_complaints_conversation_id"),
    )
    op.create_index("ix_complaints_status_created_at", "complaints", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_complaints_status_created_at", table_name="complaints")
    op.drop_table("complaints")
    op.drop_index("ix_commitments_conversation_id", table_name="commitments")
    op.drop_index("ix_commitments_done_due", table_name="commitments")
    op.drop_table("commitments")
    op.drop_index("ix_ratings_at", table_name="ratings")
    op.drop_table("ratings")
