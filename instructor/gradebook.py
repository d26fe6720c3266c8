"""The course's gradebook, written by the coordinator alone, one student per transaction.

Grading jobs start from a `snapshot` (the assignments and their cells); their results come back
as data and `Recorder.record` commits each one, then puts the autograded files in place and
marks the submission done with the digest of what was graded.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import warnings
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from instructor.course_folder import db_url, generate_release
from instructor.diagnosis import Diagnosis
from instructor.job import Grade, Result
from instructor.problems import Problem, sentences
from instructor.submission import Submission

FAILED_NOTE = "GRADING-FAILED.txt"


def ensure_assignments(root: Path, ids: list[str]) -> None:
    """Record in the gradebook every assignment it does not know yet (by releasing it)."""
    from nbgrader.api import Gradebook, MissingEntry

    missing = []
    with Gradebook(db_url(root)) as gb:
        for assignment in ids:
            try:
                gb.find_assignment(assignment)
            except MissingEntry:
                missing.append(assignment)
    if missing:
        generate_release(root, missing)


# nbgrader's tables that hold students and what they handed in (the rest describe assignments).
STUDENT_TABLES = ("grade", "comment", "submitted_notebook", "submitted_assignment", "student")


def snapshot(root: Path) -> bytes:
    """A consistent copy of the gradebook's assignments and their cells, as bytes, for grading
    jobs to start from: no student's data, so a job sees nobody else's grades and its size
    does not grow with the class (every job carries one)."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "gradebook.db"
        with (
            sqlite3.connect(db_url(root).removeprefix("sqlite:///")) as src,
            sqlite3.connect(target) as dst,
        ):
            src.backup(dst)
            for table in STUDENT_TABLES:
                dst.execute(f"DELETE FROM {table}")
            dst.commit()
            dst.execute("VACUUM")
        return target.read_bytes()


class Recorder:
    """The coordinator's gradebook, open for a whole run (opening nbgrader's Gradebook costs more
    than a student's transaction): `record` commits one student's grades, puts their autograded
    files in place, then marks the submission done.

        with Recorder(root) as recorder:
            recorder.record(result)
    """

    def __init__(self, root: Path):
        self.root = root
        self.gb = None

    def __enter__(self) -> Recorder:
        from nbgrader.api import Gradebook

        self.gb = Gradebook(db_url(self.root))
        return self

    def __exit__(self, *exc) -> None:
        self.gb.close()

    def zero_grades(self, result: Result) -> None:
        """Give a result that graded nothing one zero per graded cell (so its maximum shows)."""
        assignment = self.gb.find_assignment(result.assignment)
        result.grades = [
            Grade(nb.name, cell.name, 0.0, float(cell.max_score))
            for nb in assignment.notebooks
            for cell in nb.grade_cells
        ]

    def record(self, result: Result) -> None:
        """Commit one student's grades (one transaction), put their autograded files in place,
        then mark the submission done. A failed result scores zero on every cell."""
        sub = Submission(self.root, result.assignment, result.student)
        found = {(g.notebook, g.cell): g for g in result.grades}
        gb = self.gb
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbgrader's own SQLAlchemy warnings
            gb.update_or_create_student(sub.student)
            stamp = datetime.fromisoformat(result.timestamp) if result.timestamp else None
            submission = gb.update_or_create_submission(
                sub.assignment, sub.student, **({"timestamp": stamp} if stamp else {})
            )
            for nb in submission.notebooks:
                for grade in nb.grades:
                    graded = found.get((nb.name, grade.name))
                    ok = graded is not None and not result.failed
                    grade.auto_score = graded.score if ok else 0.0
                    grade.needs_manual_grade = graded.needs_manual_grade if ok else False
            gb.db.commit()
        _place_files(sub, result)


def _place_files(sub: Submission, result: Result) -> None:
    """Put a recorded result's autograded files (or the note of its failure) in place, then
    write the done-marker with the digest of what was graded."""
    shutil.rmtree(sub.autograded, ignore_errors=True)
    sub.autograded.mkdir(parents=True)
    if result.failed:
        (sub.autograded / FAILED_NOTE).write_text("\n".join(sentences(result.problems)) + "\n")
    else:
        for name, data in result.autograded.items():
            path = sub.autograded / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    write_marker(sub, result)


def write_marker(sub: Submission, result: Result) -> None:
    """The done-marker of `sub`: what grading recorded (`recorded` reads it back), without the
    autograded files and the log."""
    sub.marker.parent.mkdir(parents=True, exist_ok=True)
    summary = {k: v for k, v in asdict(result).items() if k not in ("autograded", "log")}
    summary["problems"] = [p.to_json() for p in result.problems]
    summary["diagnoses"] = [d.to_json() for d in result.diagnoses]
    summary["score"] = result.score
    sub.marker.write_text(json.dumps(summary, indent=1))


def recorded(sub: Submission) -> Result | None:
    """What grading recorded about `sub` (its done-marker, written by `Recorder.record`), or
    None when it was not graded or its marker is not readable."""
    try:
        data = json.loads(sub.marker.read_text())
        return Result(
            sub.assignment,
            sub.student,
            grades=[Grade(**g) for g in data["grades"]],
            problems=[Problem.from_json(p) for p in data["problems"]],
            diagnoses=[Diagnosis.from_json(d) for d in data.get("diagnoses", [])],
            failed=bool(data["failed"]),
            timestamp=data.get("timestamp"),
            seconds=float(data.get("seconds", 0.0)),
            phases={str(k): float(v) for k, v in data.get("phases", {}).items()},
            digest=str(data.get("digest", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def is_current(sub: Submission) -> bool:
    """True when this submission was graded and has not changed since."""
    if not sub.marker.is_file() or not sub.autograded.is_dir():
        return False
    try:
        recorded = json.loads(sub.marker.read_text())["digest"]
    except (ValueError, KeyError):
        return False
    return recorded == sub.digest()
