"""The HR report: per month, how many people took each step, with small counts hidden.

Every cell counts people, not events: the people who, in that month (UTC), started a journey,
planned to ask for feedback, wrote goals, held a manager meeting (an accepted feedback meeting
whose date fell in that month), or completed every step. A person who did a thing twice in a
month counts once there.

Disclosure control, and why it is this simple:
- Any cell under the threshold (NOTPROMOTED_REPORT_MIN_CELL, default 5, never below 3) is
  hidden, zero included: a shown 0 would tell that a hidden cell holds at least one person.
- No totals are shown, neither per month nor per measure. A total is what lets a hidden cell be
  worked out (the total minus the cells shown), and complementary suppression, which hides a
  second cell so that the subtraction no longer lands, protects one table only: an admin can ask
  for the report over Jan-Mar and then Jan-Feb, and the difference of the two totals is March,
  hidden or not. With no totals, no cell is a function of the others in any report, so no
  combination of reports recovers a hidden one (tests/bot/test_report.py checks exactly that).
- Only complete months are shown: a count that moves from one day to the next tells who
  started yesterday to anyone who knows who had bad news yesterday.
- Nothing names anyone: the query returns numbers only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from bot.core.models import (
    FeedbackMeeting,
    FeedbackRequest,
    Goal,
    Journey,
    JourneyStatus,
    MeetingStatus,
    Person,
    UTCDateTime,
)

MEASURES = (
    "journeys_started",
    "feedback_requested",
    "goals_set",
    "meetings_held",
    "journeys_completed",
)
DEFAULT_MONTHS = 12
MAX_MONTHS = 120


class ReportRangeError(ValueError):
    """A --from/--to the report can't cover; the message says what to give instead."""


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ReportRangeError(f"a month looks like 2026-03, got {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, moment: datetime | date) -> Month:
        return cls(moment.year, moment.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def plus(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)


def months_between(first: Month, last: Month) -> list[Month]:
    months = []
    current = first
    while current <= last:
        months.append(current)
        current = current.plus(1)
    return months


def report_range(now: datetime, first: Month | None, last: Month | None) -> list[Month]:
    """The months to show: complete ones only, the last twelve unless told otherwise."""
    latest = Month.of(now.astimezone(UTC)).plus(-1)
    last = last or latest
    if last > latest:
        raise ReportRangeError(
            f"the report covers complete months only: the latest is {latest}, got {last}"
        )
    first = first or last.plus(1 - DEFAULT_MONTHS)
    if first > last:
        raise ReportRangeError(f"--from ({first}) is after --to ({last})")
    months = months_between(first, last)
    if len(months) > MAX_MONTHS:
        raise ReportRangeError(f"the report covers at most {MAX_MONTHS} months at a time")
    return months


Counts = Mapping[Month, Mapping[str, int]]


@dataclass(frozen=True)
class ReportRow:
    month: Month
    cells: tuple[int | None, ...]  # in MEASURES order; None is hidden (fewer than min_cell)


@dataclass(frozen=True)
class Report:
    rows: tuple[ReportRow, ...]
    min_cell: int
    measures: tuple[str, ...] = MEASURES

    def as_json(self) -> dict[str, Any]:
        return {
            "min_cell": self.min_cell,
            "hidden": f"null: fewer than {self.min_cell} people",
            "months": [
                {"month": str(row.month), **dict(zip(self.measures, row.cells, strict=True))}
                for row in self.rows
            ],
        }


def build_report(counts: Counts, months: Sequence[Month], *, min_cell: int) -> Report:
    """The report over `months`: a cell is shown only when it counts at least `min_cell`
    people. Each month's row depends on that month's counts alone, whatever the range."""
    rows = []
    for month in months:
        found = counts.get(month, {})
        values = (found.get(measure, 0) for measure in MEASURES)
        rows.append(ReportRow(month, tuple(v if v >= min_cell else None for v in values)))
    return Report(rows=tuple(rows), min_cell=min_cell)


@dataclass(frozen=True)
class Scope:
    """One workspace (an admin's App Home); None in its place counts every workspace."""

    platform: str
    workspace_id: str


def count_people(
    session: Session, *, months: Sequence[Month], scope: Scope | None = None
) -> dict[Month, dict[str, int]]:
    """For each month, how many distinct people did each of MEASURES. Numbers only."""
    if not months:
        return {}
    start, end = months[0].start(), months[-1].plus(1).start()
    dialect = session.get_bind().dialect.name

    def per_month(person: Any, moment: Any, low: datetime | date, high: datetime | date) -> Any:
        month = _month_label(dialect, moment.expression)
        query = (
            select(month, func.count(func.distinct(col(person))))
            .where(col(moment) >= low, col(moment) < high)
            .group_by(month)
        )
        if scope is not None:
            query = query.join(Person, col(Person.id) == col(person)).where(
                col(Person.platform) == scope.platform,
                col(Person.workspace_id) == scope.workspace_id,
            )
        return query

    queries: dict[str, Any] = {
        "journeys_started": per_month(Journey.person_id, Journey.started_at, start, end),
        "feedback_requested": per_month(
            FeedbackRequest.person_id, FeedbackRequest.created_at, start, end
        ),
        "goals_set": per_month(Goal.person_id, Goal.created_at, start, end),
        "meetings_held": per_month(
            FeedbackMeeting.person_id, FeedbackMeeting.meeting_on, start.date(), end.date()
        ).where(col(FeedbackMeeting.status) == MeetingStatus.ACCEPTED),
        "journeys_completed": per_month(Journey.person_id, Journey.ended_at, start, end).where(
            col(Journey.status) == JourneyStatus.COMPLETED
        ),
    }
    counts: dict[Month, dict[str, int]] = {}
    for measure, query in queries.items():
        for label, people in session.exec(query):
            counts.setdefault(Month.parse(label), {})[measure] = int(people)
    return counts


def _month_label(dialect: str, moment: Any) -> ColumnElement[str]:
    """ "YYYY-MM" of a UTC timestamp or a date, on either database."""
    if dialect == "postgresql":
        if isinstance(moment.type, UTCDateTime):  # timestamptz: the month in UTC, not the session's
            return func.to_char(func.timezone("UTC", moment), "YYYY-MM")
        return func.to_char(moment, "YYYY-MM")
    return func.strftime("%Y-%m", moment)
