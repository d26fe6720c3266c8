"""The gradebook copy that every grading job carries holds the assignments and nobody's data."""

from __future__ import annotations

import shutil
import sqlite3
import warnings

from instructor.coordinator.gradebook import STUDENT_TABLES, snapshot
from instructor.infrastructure.course_folder import db_url


def _add_students(root, assignment: str, count: int) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(db_url(root)) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(count):
            student = f"student{i:04d}"
            gb.update_or_create_student(student)
            submission = gb.update_or_create_submission(assignment, student)
            for nb in submission.notebooks:
                for grade in nb.grades:
                    grade.auto_score = 1.0
            gb.db.commit()


def _rows(data: bytes, tmp_path, table: str) -> int:
    path = tmp_path / "copy.db"
    path.write_bytes(data)
    with sqlite3.connect(path) as db:
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_a_jobs_gradebook_holds_the_assignments_and_no_student(generated_course, tmp_path):
    root = tmp_path / "course"
    root.mkdir()
    for name in ("gradebook.db", "nbgrader_config.py"):
        shutil.copy(generated_course / name, root / name)
    assignment = "01_bptt"
    empty = snapshot(root)
    cells = _rows(empty, tmp_path, "grade_cells")
    assert cells > 0, "the snapshot lost the assignment's graded cells"

    _add_students(root, assignment, 60)
    assert _rows((root / "gradebook.db").read_bytes(), tmp_path, "grade") >= 60
    copy = snapshot(root)
    for table in STUDENT_TABLES:
        assert _rows(copy, tmp_path, table) == 0, f"the job's gradebook copy holds {table} rows"
    assert _rows(copy, tmp_path, "grade_cells") == cells
    assert len(copy) <= len(empty) + 4096, (
        f"a job's gradebook grew from {len(empty)} to {len(copy)} bytes with 60 students"
    )
