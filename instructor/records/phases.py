"""How long each phase of grading a notebook took, carried in the autograded notebook's
metadata beside its problems (`instructor.records.notebook_record`): the coordinator, the class
benchmark and the report read it from there."""

from __future__ import annotations

from nbformat.notebooknode import NotebookNode

from instructor.records import notebook_record

KERNEL_RUN = "kernel run"  # the confined kernel executing the notebook for its outputs
TESTS = "tests"  # the instructor's tests against the student's functions, sandboxes included
DIAGNOSIS = "diagnosis"  # replaying a failing exercise's calls on the mistake catalogue


def record(nb: NotebookNode, phase: str, seconds: float) -> None:
    """Add `seconds` to `phase` in the notebook's record."""
    store = notebook_record.section(nb, "seconds", {})
    store[phase] = round(store.get(phase, 0.0) + float(seconds), 3)


def recorded(nb: NotebookNode) -> dict[str, float]:
    """phase -> seconds, as recorded in a notebook (empty when none)."""
    found = notebook_record.read_section(nb, "seconds", {})
    return {str(k): float(v) for k, v in found.items() if isinstance(v, int | float)}
