"""Inserting rows without building ORM objects first, for the paths a person waits on; apart
because journeys and check-in planning both insert this way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

_INSERTS: dict[tuple[type[Any], bool], Any] = {}


def _inserting(model: type[Any], *, many: bool = False) -> Any:
    """An INSERT ... RETURNING id for the table, built once per table; with `many`, the ids
    come back in the order the rows were given."""
    if (model, many) not in _INSERTS:
        table = model.__table__
        _INSERTS[model, many] = insert(table).returning(table.c.id, sort_by_parameter_order=many)
    return _INSERTS[model, many]


def insert_row(session: Session, model: type[Any], /, **values: Any) -> int:
    """Insert one row and return its id, without building an ORM object first.

    For the paths a person waits on: a SQLModel table object costs far more to construct
    than the INSERT itself.
    """
    inserted: int = session.connection().execute(_inserting(model), values).scalar_one()
    return inserted


def insert_rows(session: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert several rows of one table in one statement; their ids, in the order given."""
    result = session.connection().execute(_inserting(model, many=True), list(rows))
    return [row_id for (row_id,) in result]
