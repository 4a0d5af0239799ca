"""The HR report as people read it: a table of months, for the admins' App Home and the CLI."""

from __future__ import annotations

import logging

from bot.core.dependencies import Services
from bot.core.person_ref import PersonRef
from bot.core.report import Report, Scope, build_report, count_people, report_range
from handlers.locale_lookup import person_locale
from messages.content import LocaleContent
from messages.model import Message, Paragraph, Preformatted

logger = logging.getLogger(__name__)

# The App Home shows the last six complete months; the CLI takes any range.
HOME_MONTHS = 6


def report_table(report: Report, locale: LocaleContent) -> str:
    """A fixed-width table: one line per month, one column per measure."""
    headers = [locale.text(f"report_{measure}") for measure in report.measures]
    hidden = locale.text("report_hidden", min_cell=report.min_cell)
    month_width = max(7, len(locale.text("report_month")))
    widths = [max(len(header), len(hidden), 4) for header in headers]
    lines = [
        "  ".join(
            [locale.text("report_month").ljust(month_width)]
            + [h.rjust(w) for h, w in zip(headers, widths, strict=True)]
        )
    ]
    for row in report.rows:
        cells = [hidden if v is None else str(v) for v in row.cells]
        lines.append(
            "  ".join(
                [str(row.month).ljust(month_width)]
                + [c.rjust(w) for c, w in zip(cells, widths, strict=True)]
            )
        )
    return "\n".join(lines)


def admin_section(services: Services, ref: PersonRef) -> Message | None:
    """The report for the admin's own workspace; None for everyone who is not an admin."""
    if ref.user_id not in services.settings.admin_users:
        return None
    locale = person_locale(services, ref)
    min_cell = services.settings.report_min_cell
    intro = Paragraph(locale.text("report_intro", min_cell=min_cell))
    title = locale.text("report_title")
    notification = locale.text("notification", app_name=services.settings.display_name)
    try:
        months = report_range(services.clock(), None, None)[-HOME_MONTHS:]
        with services.sessions.begin() as session:
            counts = count_people(
                session, months=months, scope=Scope(ref.platform, ref.workspace_id)
            )
    except Exception:
        logger.exception("could not count the HR report")
        return Message(
            notification=notification,
            title=title,
            blocks=(Paragraph(locale.text("report_unavailable")),),
        )
    report = build_report(counts, months, min_cell=min_cell)
    return Message(
        notification=notification,
        title=title,
        blocks=(intro, Preformatted(report_table(report, locale))),
        note=locale.text("report_legend"),
    )
