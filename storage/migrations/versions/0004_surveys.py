"""surveys: questions, options, targets, recipients and answers

Revision ID: 0004_surveys
Revises: 0003_plan (and needs 0002_staff: surveys.created_by → users.id)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "0004_surveys"
down_revision: str | None = "0003_plan"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("intro", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("all_communities", sa.Boolean(), nullable=False),
        sa.Column("send_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closes_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("send_error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_surveys_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
    )
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surveys_created_by"), ["created_by"], unique=False)
        batch_op.create_index("ix_surveys_status_send_at", ["status", "send_at"], unique=False)

    op.create_table(
        "survey_targets",
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_survey_targets_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_survey_targets_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("survey_id", "community_id", name=op.f("pk_survey_targets")),
    )
    with op.batch_alter_table("survey_targets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_targets_community_id"), ["community_id"], unique=False
        )

    op.create_table(
        "survey_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_survey_questions_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_questions")),
    )
    with op.batch_alter_table("survey_questions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_questions_survey_id"), ["survey_id"], unique=False
        )

    op.create_table(
        "survey_options",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["survey_questions.id"],
            name=op.f("fk_survey_options_question_id_survey_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_options")),
    )
    with op.batch_alter_table("survey_options", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_options_question_id"), ["question_id"], unique=False
        )

    op.create_table(
        "survey_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("current_question_id", sa.Integer(), nullable=True),
        sa.Column("last_activity_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_survey_recipients_community_id_communities"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["current_question_id"],
            ["survey_questions.id"],
            name=op.f("fk_survey_recipients_current_question_id_survey_questions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox_messages.id"],
            name=op.f("fk_survey_recipients_outbox_id_outbox_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_survey_recipients_resident_id_residents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_survey_recipients_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_recipients")),
        sa.UniqueConstraint(
            "survey_id", "resident_id", name="uq_survey_recipients_survey_resident"
        ),
    )
    with op.batch_alter_table("survey_recipients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_recipients_outbox_id"), ["outbox_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_recipients_resident_id"), ["resident_id"], unique=False
        )
        batch_op.create_index(
            "ix_survey_recipients_survey_status", ["survey_id", "status"], unique=False
        )

    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("option_ids", sa.JSON(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("skipped", sa.Boolean(), nullable=False),
        sa.Column("classification", sa.JSON(), nullable=True),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["survey_questions.id"],
            name=op.f("fk_survey_answers_question_id_survey_questions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["survey_recipients.id"],
            name=op.f("fk_survey_answers_recipient_id_survey_recipients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_survey_answers_submission_id_submissions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answers")),
        sa.UniqueConstraint(
            "recipient_id", "question_id", name="uq_survey_answers_recipient_question"
        ),
    )
    with op.batch_alter_table("survey_answers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_answers_question_id"), ["question_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_answers_submission_id"), ["submission_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("survey_answers")
    op.drop_table("survey_recipients")
    op.drop_table("survey_options")
    op.drop_table("survey_questions")
    op.drop_table("survey_targets")
    op.drop_table("surveys")
