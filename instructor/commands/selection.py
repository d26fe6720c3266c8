"""The assignments and students a command may be asked about: a name that is neither is refused,
with the valid ones listed, before anything is written (a typo never yields an empty page or
nothing at all, quietly)."""

from __future__ import annotations

import argparse
from pathlib import Path

from instructor.infrastructure.course_folder import assignments

SHOWN = 30  # valid names listed in an error, at most


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    more = len(names) - SHOWN
    return (shown + (f" and {more} more" if more > 0 else "")) or "none yet"


def known_students(root: Path) -> list[str]:
    """Every student with a folder under submitted/ or autograded/."""
    found = set()
    for top in ("submitted", "autograded"):
        folder = root / top
        if folder.is_dir():
            found |= {p.name for p in folder.iterdir() if p.is_dir()}
    return sorted(found)


def check_assignments(root: Path, wanted: list[str] | None) -> None:
    """ValueError naming the unknown ones and listing the course's, when any of `wanted` is not
    an assignment of the course."""
    known = assignments(root)
    unknown = sorted(set(wanted or []) - set(known))
    if unknown:
        raise ValueError(
            f"no assignment {', '.join(unknown)} in this course; its assignments: {_listing(known)}"
        )


def check_students(root: Path, wanted: list[str] | None) -> None:
    """ValueError naming the unknown ones and listing the known students, when any of `wanted`
    has handed nothing in (`rnn-course collect` places students)."""
    if not wanted:
        return
    known = known_students(root)
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        raise ValueError(
            f"no student {', '.join(unknown)} has handed anything in; the students: "
            f"{_listing(known)}"
        )


def add_selection(sub: argparse.ArgumentParser, students: bool = True) -> None:
    """-a (and -s): the assignments (and students) a command works on."""
    sub.add_argument(
        "-a",
        "--assignment",
        action="append",
        help="assignment id, e.g. 01_bptt (repeatable; default: all)",
    )
    if students:
        sub.add_argument(
            "-s", "--student", action="append", help="student id (repeatable; default: all)"
        )
