"""The HR report: hidden cells can't be recovered, counts are of people, complete months only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session

from bot.core.models import (
    FeedbackMeeting,
    FeedbackRequest,
    Goal,
    Journey,
    JourneyStatus,
    MeetingStatus,
    Person,
)
from bot.core.report import (
    MEASURES,
    Month,
    Report,
    ReportRangeError,
    Scope,
    build_report,
    count_people,
    months_between,
    report_range,
)
from handlers.admin_report import report_table
from messages.loader import load_content

FIRST = Month(2025, 1)
WINDOW = months_between(FIRST, Month(2026, 6))  # 18 months

counts_strategy = st.dictionaries(
    st.sampled_from(WINDOW),
    st.fixed_dictionaries({m: st.integers(0, 40) for m in MEASURES}),
)


def _ranges(data: st.DataObject) -> list[list[Month]]:
    """A few ranges an admin might ask for, overlapping or not."""
    found = []
    for _ in range(3):
        a = data.draw(st.integers(0, len(WINDOW) - 1))
        b = data.draw(st.integers(a, len(WINDOW) - 1))
        found.append(WINDOW[a : b + 1])
    return found


def _shown(
    counts: dict[Month, dict[str, int]], ranges: list[list[Month]], cell: int
) -> list[Report]:
    """Everything an admin sees from several reports over the same data."""
    return [build_report(counts, months, min_cell=cell) for months in ranges]


@settings(max_examples=300, deadline=None)
@given(counts=counts_strategy, min_cell=st.integers(3, 10), data=st.data())
def test_no_hidden_cell_can_be_recovered_from_any_set_of_reports(
    counts: dict[Month, dict[str, int]], min_cell: int, data: st.DataObject
) -> None:
    ranges = _ranges(data)
    seen = _shown(counts, ranges, min_cell)
    for report in seen:
        for row in report.rows:
            for measure, shown in zip(MEASURES, row.cells, strict=True):
                true = counts.get(row.month, {}).get(measure, 0)
                assert shown == (true if true >= min_cell else None)
    # Whatever value a hidden cell truly holds (any count under the threshold), every report
    # an admin can ask for reads the same: nothing shown depends on it, so nothing recovers it.
    hidden = [
        (month, measure)
        for month in WINDOW
        for measure in MEASURES
        if counts.get(month, {}).get(measure, 0) < min_cell
    ]
    if not hidden:
        return
    month, measure = data.draw(st.sampled_from(hidden))
    other = data.draw(st.integers(0, min_cell - 1))
    changed = {m: dict(v) for m, v in counts.items()}
    changed.setdefault(month, dict.fromkeys(MEASURES, 0))[measure] = other
    assert _shown(changed, ranges, min_cell) == seen


@given(counts=counts_strategy, data=st.data())
def test_a_month_reads_the_same_in_every_range(
    counts: dict[Month, dict[str, int]], data: st.DataObject
) -> None:
    months = _ranges(data)[0]
    whole = build_report(counts, months, min_cell=5)
    for row in whole.rows:
        assert build_report(counts, [row.month], min_cell=5).rows == (row,)


def test_the_table_hides_small_counts_and_shows_no_totals() -> None:
    counts = {Month(2026, 1): {"journeys_started": 12, "goals_set": 4}}
    report = build_report(counts, [Month(2026, 1), Month(2026, 2)], min_cell=5)
    table = report_table(report, load_content().for_locale(None, "slack"))
    lines = table.splitlines()
    assert lines[0].split() == ["Month", "Started", "Feedback", "Goals", "Meetings", "Finished"]
    assert lines[1].split() == ["2026-01", "12", "<5", "<5", "<5", "<5"]
    assert lines[2].split() == ["2026-02", "<5", "<5", "<5", "<5", "<5"]
    assert len(lines) == 3
    assert report.as_json()["months"][0] == {
        "month": "2026-01",
        "journeys_started": 12,
        "feedback_requested": None,
        "goals_set": None,
        "meetings_held": None,
        "journeys_completed": None,
    }


def test_only_complete_months_are_reported() -> None:
    now = datetime(2026, 3, 15, 12, tzinfo=UTC)
    default = report_range(now, None, None)
    assert (default[0], default[-1], len(default)) == (Month(2025, 3), Month(2026, 2), 12)
    assert report_range(now, Month(2026, 1), None) == [Month(2026, 1), Month(2026, 2)]
    with pytest.raises(ReportRangeError, match="complete months only: the latest is 2026-02"):
        report_range(now, None, Month(2026, 3))
    with pytest.raises(ReportRangeError, match="after"):
        report_range(now, Month(2026, 2), Month(2026, 1))
    with pytest.raises(ReportRangeError, match="at most 120"):
        report_range(now, Month(2000, 1), None)
    with pytest.raises(ReportRangeError, match="looks like 2026-03"):
        Month.parse("2026-13")
    assert Month(2025, 12).plus(1) == Month(2026, 1) and Month(2026, 1).plus(-1) == Month(2025, 12)


# -- counting, on both databases -------------------------------------------------------------

JAN = datetime(2026, 1, 10, 9, tzinfo=UTC)
FEB = datetime(2026, 2, 10, 9, tzinfo=UTC)


def _person(session: Session, user: str, workspace: str = "T1") -> int:
    person = Person(platform="slack", workspace_id=workspace, user_id=user, created_at=JAN)
    session.add(person)
    session.flush()
    assert person.id is not None
    return person.id


def _journey(session: Session, person_id: int, started: datetime, **fields: object) -> None:
    session.add(
        Journey(
            person_id=person_id,
            stage_id="acknowledge",
            started_at=started,
            updated_at=started,
            **fields,  # type: ignore[arg-type]
        )
    )


def test_counts_are_distinct_people_per_utc_month(engine: Engine) -> None:
    with Session(engine) as session:
        people = [_person(session, f"U{n}") for n in range(7)]
        for person_id in people[:6]:
            _journey(session, person_id, JAN, status=JourneyStatus.STOPPED)
        # A second journey in the same month counts the person once; the last minute of
        # January in UTC is January.
        _journey(session, people[0], datetime(2026, 1, 31, 23, 59, tzinfo=UTC))
        _journey(
            session,
            people[6],
            FEB,
            status=JourneyStatus.COMPLETED,
            ended_at=FEB + timedelta(days=5),
        )
        for person_id in people[:5]:
            session.add(FeedbackRequest(person_id=person_id, decider_user_id="U0", created_at=JAN))
            session.add(Goal(person_id=person_id, what="g", created_at=FEB, updated_at=FEB))
            session.add(Goal(person_id=person_id, what="h", created_at=FEB, updated_at=FEB))
        for number, person_id in enumerate(people[:6]):
            session.add(
                FeedbackMeeting(
                    person_id=person_id,
                    manager_id=people[6],
                    authority="grant",
                    status=MeetingStatus.ACCEPTED if number < 5 else MeetingStatus.DECLINED,
                    thanks="t",
                    observed="o",
                    gaps="g",
                    next_steps="n",
                    meeting_on=date(2026, 2, 3),
                    follow_up_on=date(2026, 3, 3),
                    created_at=JAN,
                )
            )
        elsewhere = _person(session, "U0OTHER", workspace="T2")
        _journey(session, elsewhere, JAN)
        session.commit()
        if engine.dialect.name == "postgresql":
            # Months are UTC months whatever the database session's own zone says.
            session.connection().exec_driver_sql("SET TIME ZONE 'Pacific/Auckland'")
        months = [Month(2026, 1), Month(2026, 2)]
        everyone = count_people(session, months=months)
        one_workspace = count_people(session, months=months, scope=Scope("slack", "T1"))
    assert everyone[Month(2026, 1)] == {"journeys_started": 7, "feedback_requested": 5}
    assert one_workspace[Month(2026, 1)] == {"journeys_started": 6, "feedback_requested": 5}
    assert one_workspace[Month(2026, 2)] == {
        "journeys_started": 1,
        "goals_set": 5,
        "meetings_held": 5,
        "journeys_completed": 1,
    }
    report: Report = build_report(one_workspace, months, min_cell=5)
    assert report.rows[1].cells == (None, None, 5, 5, None)
