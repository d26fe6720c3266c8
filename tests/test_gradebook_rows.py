"""The coordinator writes a student's grades with a few bulk statements
(`instructor.coordinator.gradebook.Recorder`); nbgrader's own Gradebook API is the oracle. The same
results (new students, a failed result, a regrade with another timestamp and other scores, a cell
left for manual grading, cells missing from a result) are written once by the Recorder and once
through nbgrader's ORM (`update_or_create_student`, `update_or_create_submission`, scores set on the
grade objects), and every row nbgrader reads back must be the same."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import nbformat
import pytest

import course_tools
from instructor.coordinator.gradebook import Recorder
from instructor.coordinator.job import Grade, Result

ASSIGNMENT = "01_bptt"


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    """Notebook 01 released, with a task cell added (the course has none: nbgrader gives a
    task cell both a grade and a comment)."""
    root = course_tools.copy_course(tmp_path_factory.mktemp("rows") / "course")
    source = course_tools.notebook_path(root / "solutions", ASSIGNMENT)
    nb = course_tools.read(source)
    task = nbformat.v4.new_markdown_cell("Describe what you saw.")
    task.metadata["nbgrader"] = {
        "task": True,
        "grade": False,
        "solution": False,
        "locked": True,
        "points": 2,
        "grade_id": "task_describe",
        "schema_version": 3,
    }
    nb.cells.append(task)
    nbformat.write(nb, source)
    course_tools.generate_release(root, [ASSIGNMENT])
    return root


def _cells(root: Path) -> list[tuple[str, str, float]]:
    """(notebook, cell, max score) of every graded cell and task cell of the assignment."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return [
            (nb.name, cell.name, float(cell.max_score))
            for nb in gb.find_assignment(ASSIGNMENT).notebooks
            for cell in [*nb.grade_cells, *nb.task_cells]
        ]


def _results(cells: list[tuple[str, str, float]]) -> list[Result]:
    full = [Grade(nb, cell, points, points) for nb, cell, points in cells]
    half = [Grade(nb, cell, points / 2, points) for nb, cell, points in cells]
    manual = [Grade(nb, cell, 0.0, points, needs_manual_grade=True) for nb, cell, points in cells]
    return [
        Result(ASSIGNMENT, "ada", full, timestamp="2026-11-01T10:00:00"),
        Result(ASSIGNMENT, "bob", half[: len(half) // 2], timestamp="2026-11-01T11:30:00.250000"),
        Result(ASSIGNMENT, "cyd", full, failed=True),
        Result(ASSIGNMENT, "eve", full, failed=True, timestamp="2026-11-02T07:00:00"),
        Result(ASSIGNMENT, "dee", manual[:1] + full[1:], timestamp="2026-11-02T09:00:00+01:00"),
        Result(ASSIGNMENT, "ada", half, timestamp="2026-11-03T08:00:00"),  # a regrade
        Result(ASSIGNMENT, "cyd", half),  # a regrade, now graded, with no timestamp
    ]


def _oracle(root: Path, results: list[Result]) -> None:
    """The results written through nbgrader's ORM, one student at a time."""
    from datetime import datetime

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for result in results:
            found = {(g.notebook, g.cell): g for g in result.grades}
            gb.update_or_create_student(result.student)
            stamp = datetime.fromisoformat(result.timestamp) if result.timestamp else None
            submission = gb.update_or_create_submission(
                result.assignment, result.student, **({"timestamp": stamp} if stamp else {})
            )
            for nb in submission.notebooks:
                for grade in nb.grades:
                    graded = found.get((nb.name, grade.name))
                    ok = graded is not None and not result.failed
                    grade.auto_score = graded.score if ok else 0.0
                    grade.needs_manual_grade = graded.needs_manual_grade if ok else False
            gb.db.commit()


def _rows(root: Path) -> dict[str, list[tuple]]:
    """Every student's rows, with nbgrader's random ids replaced by what they point to, and the
    type SQLite stores each value as (Python's 1 == 1.0 == True would hide a change)."""
    queries = {
        "student": """select id, first_name, last_name, email, lms_user_id,
            typeof(first_name) || typeof(last_name) || typeof(email) || typeof(lms_user_id)
            from student""",
        "submitted_assignment": """select s.student_id, a.name, s.timestamp,
            typeof(s.timestamp), s.extension, typeof(s.extension)
            from submitted_assignment s join assignment a on s.assignment_id = a.id""",
        "submitted_notebook": """select s.student_id, n.name, sn.flagged, typeof(sn.flagged),
            sn.late_submission_penalty, typeof(sn.late_submission_penalty)
            from submitted_notebook sn
            join submitted_assignment s on sn.assignment_id = s.id
            join notebook n on sn.notebook_id = n.id""",
        "grade": """select s.student_id, n.name, c.name, g.auto_score, typeof(g.auto_score),
            g.manual_score, typeof(g.manual_score), g.extra_credit, typeof(g.extra_credit),
            g.needs_manual_grade, typeof(g.needs_manual_grade) from grade g
            join submitted_notebook sn on g.notebook_id = sn.id
            join submitted_assignment s on sn.assignment_id = s.id
            join notebook n on sn.notebook_id = n.id join base_cell c on g.cell_id = c.id""",
        "comment": """select s.student_id, n.name, c.name, m.auto_comment,
            typeof(m.auto_comment), m.manual_comment, typeof(m.manual_comment)
            from comment m join submitted_notebook sn on m.notebook_id = sn.id
            join submitted_assignment s on sn.assignment_id = s.id
            join notebook n on sn.notebook_id = n.id join base_cell c on m.cell_id = c.id""",
    }
    with sqlite3.connect(root / "gradebook.db") as db:
        return {name: sorted(db.execute(query).fetchall()) for name, query in queries.items()}


def _scores(root: Path) -> dict[str, tuple]:
    """What nbgrader's API computes from the rows: each submission's scores and flags."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {
            s.student_id: (s.score, s.max_score, s.needs_manual_grade, str(s.timestamp))
            for s in gb.assignment_submissions(ASSIGNMENT)
        }


def _two_copies(released: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Two copies of the released course: one for the Recorder, one for nbgrader's API."""
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for root in (ours, theirs):
        shutil.copytree(released, root)
    return ours, theirs


def test_the_recorder_writes_the_rows_nbgrader_writes(released, tmp_path):
    ours, theirs = _two_copies(released, tmp_path)
    results = _results(_cells(released))
    with Recorder(ours, batch=3) as recorder:
        for result in results:
            recorder.record(result)
    _oracle(theirs, results)
    got, expected = _rows(ours), _rows(theirs)
    assert ("eve", ASSIGNMENT, "task_describe") in {row[:3] for row in expected["grade"]}
    assert ("eve", ASSIGNMENT, "task_describe") in {row[:3] for row in expected["comment"]}
    assert len(expected["grade"]) == 5 * len(_cells(released))
    for table in expected:
        assert got[table] == expected[table], f"{table}: the Recorder's rows differ from nbgrader's"
    assert _scores(ours) == _scores(theirs)
    assert _scores(ours)["ada"][0] == sum(p for _, _, p in _cells(released)) / 2
    assert _scores(ours)["eve"][0] == 0.0


def test_a_failed_write_forgets_the_students_added_since_the_last_commit(released, tmp_path):
    ours, theirs = _two_copies(released, tmp_path)
    results = _results(_cells(released))
    with Recorder(ours, batch=100) as recorder:
        recorder.record(results[0])  # "ada", new: rolled back with the failure below
        with pytest.raises(Exception, match="no_such_assignment"):
            recorder.record(Result("no_such_assignment", "zed"))
        for result in results:
            recorder.record(result)
    _oracle(theirs, results)
    assert _rows(ours) == _rows(theirs)
