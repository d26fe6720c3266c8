"""Each notebook's time estimate is measured from what it asks of a student, not guessed.

A notebook states `**Time:** about N minutes`, each `##` section `(≈ N min)` and each exercise
heading `### Exercise ... (≈ N min)`. The measured time is

    markdown words / WORDS_PER_MINUTE            (careful reading of text with maths)
  + visible demo code lines / CODE_LINES_PER_MINUTE  (code cells a student reads and runs: not
                                                  exercises, tests or the collapsed checking tools)
  + the exercises' own estimates                 (writing and debugging code)
  + RUN_MINUTES                                  (the solved notebook's run-time budget)

and the stated total must lie within TOLERANCE of it. The sections' estimates, with a minute of
set-up, must add up to the stated total (within TOLERANCE as well), so that a student planning
by sections plans the same time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

import course_tools
from instructor.records import cells

WORDS_PER_MINUTE = 100
CODE_LINES_PER_MINUTE = 20
RUN_MINUTES = 1
SETUP_MINUTES = 1
TOLERANCE = 0.30

STATED = re.compile(r"\*\*Time:\*\* about (\d+) minutes")
SECTION = re.compile(r"^## [^\n]*\(≈ (\d+) min\)", re.M)
EXERCISE = re.compile(r"^### Exercises? [^\n]*\(≈ (\d+) min\)", re.M)


@dataclass(frozen=True)
class Estimate:
    """What a notebook asks of a student, in minutes (see the module docstring)."""

    stated: int
    sections: int
    reading: float
    code: float
    exercises: int

    @property
    def measured(self) -> float:
        return self.reading + self.code + self.exercises + RUN_MINUTES

    def describe(self) -> str:
        return (
            f"stated {self.stated} min; measured {self.measured:.0f} min = reading "
            f"{self.reading:.0f} ({WORDS_PER_MINUTE} words/min) + demo code {self.code:.0f} "
            f"({CODE_LINES_PER_MINUTE} lines/min) + exercises {self.exercises} + run "
            f"{RUN_MINUTES}; sections add up to {self.sections} + {SETUP_MINUTES} set-up"
        )


def is_demo_code(cell) -> bool:
    """A code cell a student reads and runs: not an exercise, a test or the checking tools."""
    return (
        cell.cell_type == "code"
        and not cells.is_solution_cell(cell)
        and not cells.is_test_cell(cell)
        and not cells.is_checking_tools_cell(cell)
    )


def estimate(nb) -> Estimate:
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    stated = STATED.search(markdown)
    assert stated, "the notebook states no `**Time:** about N minutes`"
    lines = sum(
        1 for c in nb.cells if is_demo_code(c) for line in c.source.splitlines() if line.strip()
    )
    return Estimate(
        stated=int(stated.group(1)),
        sections=sum(int(m) for m in SECTION.findall(markdown)),
        reading=len(markdown.split()) / WORDS_PER_MINUTE,
        code=lines / CODE_LINES_PER_MINUTE,
        exercises=sum(int(m) for m in EXERCISE.findall(markdown)),
    )


@pytest.mark.parametrize("assignment", course_tools.assignments())
def test_stated_time_is_measured(assignment):
    nb = course_tools.read(course_tools.notebook_path(course_tools.ROOT / "solutions", assignment))
    found = estimate(nb)
    assert abs(found.stated - found.measured) <= TOLERANCE * found.measured, (
        f"{assignment}: {found.describe()}. State the measured time, or cut what a student "
        f"must read."
    )
    planned = found.sections + SETUP_MINUTES
    assert abs(planned - found.stated) <= TOLERANCE * found.stated, (
        f"{assignment}: {found.describe()}. Make the sections' estimates add up to the total."
    )
    assert found.exercises > 0, f"{assignment}: no `### Exercise ... (≈ N min)` heading"


def test_estimate_counts_what_it_says():
    """The measure itself: prose, demo code and exercises count; checking tools do not."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "**Time:** about 9 minutes\n## 1. A (≈ 8 min)\n### Exercise 1 (≈ 5 min)\n"
            + "word " * 184  # 200 words with the headings
        ),
        nbformat.v4.new_code_cell("x = 1\n\ny = 2\n" * 10),
        nbformat.v4.new_code_cell("def f():\n    pass\n"),
    ]
    nb.cells[2].metadata["nbgrader"] = {
        "grade_id": cells.CHECKING_TOOLS_PREFIX,
        "locked": True,
        "grade": False,
    }
    found = estimate(nb)
    assert found.stated == 9 and found.sections == 8 and found.exercises == 5
    assert found.reading == pytest.approx(2.0)  # 200 words
    assert found.code == pytest.approx(1.0)  # 20 non-blank lines; the checking tools not counted
    assert found.measured == pytest.approx(9.0)
