"""Due dates, lateness and the late penalty, as the course configures them.

pyproject.toml holds them, beside the course's other settings:

    [tool.rnn-course.due]
    "01_bptt" = "2027-02-01T23:59:00+01:00"     # ISO 8601, with its UTC offset

    [tool.rnn-course.late-penalty]              # optional: no penalty without it
    percent-per-day = 10                        # of the score, per day or part of a day late
    max-percent = 50                            # at most this much in all (default 100)

A submission is late when its LMS says so (Canvas's `_late_` marker in the bulk download's file
name, which `collect` records with the student's LMS id) or when the time `collect` recorded (the
LMS's date in its bulk download: Moodle's and Canvas's submission time; or the file's time on the
instructor's disk) is after the assignment's due date. Days late are counted from the due date,
a part of a day counting as a day; a submission late by the LMS's marker alone (no due date, or
a recorded time before it) is flagged late and loses nothing. A due date or policy that cannot
be read is an error naming it, never silently no penalty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

DAY = timedelta(days=1)


@dataclass(frozen=True)
class LatePolicy:
    """The penalty: `percent_per_day` of the score per (started) day late, at most
    `max_percent` in all."""

    percent_per_day: float
    max_percent: float = 100.0

    def percent(self, days: int) -> float:
        """The share of the score lost, in percent, `days` days late."""
        return min(self.max_percent, self.percent_per_day * max(0, days))


@dataclass(frozen=True)
class Deadlines:
    """The course's due dates (assignment -> aware datetime) and its penalty (None: none)."""

    due: dict[str, datetime]
    policy: LatePolicy | None = None


@dataclass(frozen=True)
class Lateness:
    """When a submission was handed in, against its due date, and what its LMS said."""

    submitted: datetime | None  # the time collect recorded (UTC), None when unknown
    due: datetime | None  # the assignment's due date, None when none is configured
    lms_marker: bool = False  # the LMS marked it late (Canvas's `_late_`)

    @property
    def days(self) -> int:
        """Days late by the recorded time, a started day counting as one (0: on time or
        unknown)."""
        if self.submitted is None or self.due is None or self.submitted <= self.due:
            return 0
        return math.ceil((self.submitted - self.due) / DAY)

    @property
    def late(self) -> bool:
        return self.lms_marker or self.days > 0

    def describe(self) -> str:
        """'' when on time; else how late, and who says so."""
        if not self.late:
            return ""
        parts = [f"{self.days} day(s) after the due date"] if self.days else []
        if self.lms_marker:
            parts.append("marked late by the LMS")
        return "late: " + ", ".join(parts)


def parse_time(text: str, where: str) -> datetime:
    """An ISO 8601 time with its UTC offset; ValueError naming `where` otherwise."""
    try:
        when = datetime.fromisoformat(str(text))
    except ValueError:
        raise ValueError(
            f"{where}: {text!r} is not a date and time; write it as ISO 8601 with its UTC "
            'offset, e.g. "2027-02-01T23:59:00+01:00"'
        ) from None
    if when.tzinfo is None:
        raise ValueError(
            f"{where}: {text!r} has no UTC offset; add one, e.g. {text}+01:00 (or Z for UTC)"
        )
    return when.astimezone(UTC)


def _number(table: dict, key: str, default: float | None, where: str) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise ValueError(f"{where}: {key} must be a number from 0 to 100, got {value!r}")
    return float(value)


def deadlines(root: Path, known: list[str] | None = None) -> Deadlines:
    """The due dates and penalty of the course at `root` (its pyproject.toml, see
    `stamp.pyproject`); `known`: the course's assignment ids, to refuse a due date for another."""
    from instructor.infrastructure.stamp import pyproject

    tool = pyproject(root).get("tool", {}).get("rnn-course", {})
    where = "pyproject.toml [tool.rnn-course.due]"
    due = {str(a): parse_time(t, f"{where} {a!r}") for a, t in tool.get("due", {}).items()}
    unknown = sorted(set(due) - set(known)) if known is not None else []
    if unknown:
        raise ValueError(f"{where}: no assignment {unknown}; the course has {sorted(known or [])}")
    table = tool.get("late-penalty")
    policy = None
    if table is not None:
        where = "pyproject.toml [tool.rnn-course.late-penalty]"
        if "percent-per-day" not in table:
            raise ValueError(f"{where}: set percent-per-day (e.g. 10), or remove the table")
        policy = LatePolicy(
            _number(table, "percent-per-day", None, where),
            _number(table, "max-percent", 100.0, where),
        )
    return Deadlines(due, policy)
