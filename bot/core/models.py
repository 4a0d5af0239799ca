"""All tables. People are keyed by (platform, workspace, user) so Teams and many workspaces fit."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python on every database (SQLite keeps no offset of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc_column(*, nullable: bool, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class Platform:
    SLACK = "slack"
    TEAMS = "teams"


class JourneyStatus:
    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"
    COMPLETED = "completed"
    OPEN = (ACTIVE, PAUSED)


class CheckinStatus:
    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Person(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("platform", "workspace_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    workspace_id: str = Field(max_length=64)
    user_id: str = Field(max_length=64)
    # On Enterprise Grid, the org the workspace belongs to: an org-wide installation's token
    # is found by it, and uninstalling from the org erases everyone in it.
    enterprise_id: str | None = Field(default=None, max_length=64)
    dm_channel_id: str | None = Field(default=None, max_length=64)
    time_zone: str | None = Field(default=None, max_length=64)
    # The language the platform says the person uses ("de-DE"); refreshed with their profile.
    locale: str | None = Field(default=None, max_length=16)
    # The language the person chose themselves ("de"), over the platform's; None to follow it.
    language: str | None = Field(default=None, max_length=16)
    profile_checked_at: datetime | None = _utc_column(nullable=True)
    # The person's own working hours ("08:00-16:00") and days ("mon-thu"), over the workspace's.
    work_hours: str | None = Field(default=None, max_length=16)
    work_days: str | None = Field(default=None, max_length=32)
    # A zone the person chose over the one their Slack profile says.
    time_zone_override: str | None = Field(default=None, max_length=64)
    created_at: datetime = _utc_column(nullable=False)

    @property
    def zone_name(self) -> str | None:
        return self.time_zone_override or self.time_zone

    @property
    def preferred_locale(self) -> str | None:
        """The language to write to the person in: their own choice, else their platform's."""
        return self.language or self.locale


class Workspace(SQLModel, table=True):
    """Settings a workspace (or Teams tenant) has changed from the deployment's defaults."""

    __table_args__ = (UniqueConstraint("platform", "workspace_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    workspace_id: str = Field(max_length=64)
    work_hours: str | None = Field(default=None, max_length=16)
    work_days: str | None = Field(default=None, max_length=32)


class Journey(SQLModel, table=True):
    __table_args__ = (
        # At most one open (active or paused) journey per person.
        Index(
            "uq_journey_open_per_person",
            "person_id",
            unique=True,
            sqlite_where=text("status IN ('active', 'paused')"),
            postgresql_where=text("status IN ('active', 'paused')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    status: str = Field(default=JourneyStatus.ACTIVE, max_length=16)
    stage_id: str = Field(max_length=64)
    # The delivered stage message whose buttons are live; a click on any other is expired.
    current_checkin_id: int | None = Field(default=None)
    deliveries: int = Field(default=0)
    started_at: datetime = _utc_column(nullable=False)
    updated_at: datetime = _utc_column(nullable=False)
    ended_at: datetime | None = _utc_column(nullable=True)


class Checkin(SQLModel, table=True):
    """One message the bot sends on its own: an outbox row, claimed by a dispatcher."""

    __table_args__ = (
        UniqueConstraint("journey_id", "key"),
        UniqueConstraint(
            "meeting_id", "recipient_id", "key", name="uq_checkin_meeting_recipient_key"
        ),
        # The sweep pages through due rows in (due_at, id) order: the index gives that order,
        # with no sort of every waiting row, even when thousands fall due at the same moment.
        Index("ix_checkin_status_due_id", "status", "due_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The journey a message belongs to; none for a feedback meeting's messages.
    journey_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("journey.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    # Who receives it when that is not the journey's person: a manager, or anyone a meeting
    # is for. Exactly one of journey_id and recipient_id says who it goes to.
    recipient_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("person.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    meeting_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer,
            ForeignKey("feedbackmeeting.id", ondelete="CASCADE"),
            nullable=True,
            index=True,
        ),
    )
    kind: str = Field(max_length=32)
    key: str = Field(max_length=128)
    stage_id: str | None = Field(default=None, max_length=64)
    status: str = Field(default=CheckinStatus.PENDING, max_length=16)
    due_at: datetime = _utc_column(nullable=False)
    # False for an answer to something the person just did: it goes out at once, night or day.
    within_hours: bool = Field(default=True)
    attempts: int = Field(default=0)
    lease_owner: str | None = Field(default=None, max_length=64, index=True)
    lease_expires_at: datetime | None = _utc_column(nullable=True)
    # Set just before the platform is asked to post: if the outcome is then unknown (a crash,
    # a timeout), the next attempt looks for the message before it posts again.
    posting_since: datetime | None = _utc_column(nullable=True)
    # An earlier message of the same journey whose buttons this one replaces.
    supersedes_checkin_id: int | None = Field(default=None)
    channel_id: str | None = Field(default=None, max_length=64)
    message_ts: str | None = Field(default=None, max_length=64)
    # The language folder the message was written in ("de"), once sent: a click on it redraws
    # it in that language, whatever the person has chosen since.
    locale: str | None = Field(default=None, max_length=16)
    sent_at: datetime | None = _utc_column(nullable=True)
    answer: str | None = Field(default=None, max_length=32)
    answered_at: datetime | None = _utc_column(nullable=True)
    # A private note the person added to their answer (how a goal is going).
    note: str | None = Field(default=None, max_length=1000)
    last_error: str | None = Field(default=None, max_length=200)
    created_at: datetime = _utc_column(nullable=False)


class GoalStatus:
    ACTIVE = "active"
    DONE = "done"
    DROPPED = "dropped"


class Goal(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    journey_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("journey.id", ondelete="SET NULL"), nullable=True),
    )
    what: str = Field(max_length=300)
    why: str | None = Field(default=None, max_length=300)
    first_step: str | None = Field(default=None, max_length=300)
    by_when: date | None = Field(default=None)
    status: str = Field(default=GoalStatus.ACTIVE, max_length=16)
    created_at: datetime = _utc_column(nullable=False)
    updated_at: datetime = _utc_column(nullable=False)


class FeedbackRequest(SQLModel, table=True):
    """A person's plan to ask for feedback: who decided, what they want to understand."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    decider_user_id: str = Field(max_length=64)
    focus: str | None = Field(default=None, max_length=500)
    tone: str = Field(default="warm", max_length=16)
    created_at: datetime = _utc_column(nullable=False)


class FeedbackNote(SQLModel, table=True):
    """What the person took from the feedback: private, shown to nobody else."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    keep: str | None = Field(default=None, max_length=1000)
    work_on: str | None = Field(default=None, max_length=1000)
    created_at: datetime = _utc_column(nullable=False)


class ManagerGrant(SQLModel, table=True):
    """A person's invitation to their manager to prepare a feedback meeting for them."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    manager_user_id: str = Field(max_length=64)
    granted_at: datetime = _utc_column(nullable=False)
    revoked_at: datetime | None = _utc_column(nullable=True)


class MeetingStatus:
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class FeedbackMeeting(SQLModel, table=True):
    """A feedback meeting a manager prepared for a person, from the template."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    manager_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    # Why the manager could: the person invited them, their user group, or admin.
    authority: str = Field(max_length=16)
    status: str = Field(default=MeetingStatus.OFFERED, max_length=16)
    thanks: str = Field(max_length=1500)
    observed: str = Field(max_length=1500)
    gaps: str = Field(max_length=1500)
    next_steps: str = Field(max_length=1500)
    growth: str | None = Field(default=None, max_length=1500)
    meeting_on: date
    follow_up_on: date
    linked_to_goals: bool = Field(default=False)
    created_at: datetime = _utc_column(nullable=False)
    answered_at: datetime | None = _utc_column(nullable=True)


class AuditEntry(SQLModel, table=True):
    """Who did what, for whom, when, and the outcome: the managers' trail for HR.

    `actor`, `subject` (the person it is for) and `other` (the manager a grant names) hold a
    user id, or after that person erased their data, "h:" and a keyed hash of it.
    """

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _utc_column(nullable=False, index=True)
    platform: str = Field(max_length=16)
    workspace_id: str = Field(max_length=64)
    actor: str = Field(max_length=80, index=True)
    subject: str | None = Field(default=None, max_length=80, index=True)
    other: str | None = Field(default=None, max_length=80)
    action: str = Field(max_length=24)
    outcome: str = Field(max_length=24)
    reason: str | None = Field(default=None, max_length=40)


class SenderHeartbeat(SQLModel, table=True):
    """A sending process that lives: it writes `beat_at` every few seconds, and the rows it
    holds (checkin.lease_owner) are free for another as soon as it stops (see
    bot.core.storage.heartbeats)."""

    owner: str = Field(primary_key=True, max_length=64)
    started_at: datetime = _utc_column(nullable=False)
    beat_at: datetime = _utc_column(nullable=False)


class ProcessedEvent(SQLModel, table=True):
    """Slack event ids already handled, so a redelivered event has one effect."""

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = _utc_column(nullable=False, index=True)


# Slack's installations and OAuth states, in slack-sdk's own table shapes (its SQLAlchemy
# stores read and write them), created by our migrations like every other table. The columns
# that hold secrets are widened: they keep Fernet ciphertext, about twice a token's length.
SLACK_SECRET_COLUMNS = (
    "bot_token",
    "bot_refresh_token",
    "user_token",
    "user_refresh_token",
    "incoming_webhook_url",
)


def _with_room_for_ciphertext(table: Table) -> Table:
    for name in SLACK_SECRET_COLUMNS:
        if name in table.c:
            table.c[name].type = String(1000)
    return table


slack_installations = _with_room_for_ciphertext(
    SQLAlchemyInstallationStore.build_installations_table(SQLModel.metadata, "slack_installations")
)
slack_bots = _with_room_for_ciphertext(
    SQLAlchemyInstallationStore.build_bots_table(SQLModel.metadata, "slack_bots")
)
slack_oauth_states = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    SQLModel.metadata, "slack_oauth_states"
)


class TeamsConversation(SQLModel, table=True):
    """Where a Teams person's personal chat with the bot lives, for messages sent on our own.

    Written when the person installs the app or writes to it, refreshed on every activity:
    the service URL can move, and the time zone is the one their Teams client last reported.
    """

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("person.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        )
    )
    conversation_id: str = Field(max_length=512)
    service_url: str = Field(max_length=512)
    bot_id: str = Field(max_length=128)
    # The person's name as Teams shows it, to name them in someone else's card.
    name: str | None = Field(default=None, max_length=256)
    time_zone: str | None = Field(default=None, max_length=64)
    locale: str | None = Field(default=None, max_length=16)
    updated_at: datetime = _utc_column(nullable=False)
