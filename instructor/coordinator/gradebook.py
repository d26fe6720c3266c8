"""The course's gradebook, written by the coordinator alone, several students per transaction.

Grading jobs start from a `snapshot` (the assignments and their cells); their results come back
as data and `Recorder.record` writes each one into an open transaction. `Recorder.flush` commits
them together, then puts each one's autograded files in place and marks the submission done
with the digest of what was graded: a submission is marked done only once its grades are
committed, so an interrupted run regrades exactly what it had not committed.

Speed over the ORM: `Recorder._write` writes a student's rows with SQL on nbgrader's own tables
(student, submitted_assignment, submitted_notebook, grade, comment) as nbgrader's
`update_or_create_submission` would, a few statements instead of an ORM object per cell. That
schema is nbgrader's private detail, held by the `nbgrader==0.9.6` pin. **An nbgrader upgrade
must re-check**: the tables and columns `_add_submission` and `_update_submission` write (and
their defaults: ids, timestamps, `needs_manual_grade`, `auto_score`), the relationships nbgrader
reads back (its Gradebook API, formgrader, `nbgrader export`), and that
`tests/test_gradebook_rows.py`, which compares these rows with the ones nbgrader's API writes,
still passes; if the schema moved, go back to the API (`Gradebook.update_or_create_submission`)
and accept the cost.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from instructor.coordinator.job import Grade, Result
from instructor.infrastructure.course_folder import db_url
from instructor.infrastructure.release import generate_release
from instructor.output.inert_terminal import inert_line
from instructor.records.diagnosis import Diagnosis
from instructor.records.problems import Problem, sentences
from instructor.records.submission import Submission

FAILED_NOTE = "GRADING-FAILED.txt"
# A transaction holds at most BATCH students, and the first waits at most BATCH_SECONDS for its
# commit while results keep coming (an idle coordinator commits at once: see Recorder.flush).
BATCH = 16
BATCH_SECONDS = 2.0


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
    jobs to start from (each assignment's `Kit` carries it): no student's data, so a job sees
    nobody else's grades and its size does not grow with the class."""
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


@dataclass
class _NotebookLayout:
    """One notebook of an assignment in the gradebook: its id and name, the (name, id) of each
    cell that gets a grade, the id of each cell that gets a comment."""

    id: str
    name: str
    graded: list[tuple[str, str]]
    commented: list[str]


@dataclass
class _Layout:
    """An assignment in the gradebook: its id and its notebooks."""

    assignment: str
    notebooks: list[_NotebookLayout]


class Recorder:
    """The coordinator's gradebook, open for a whole run (opening nbgrader's Gradebook costs more
    than a student's transaction). `record` writes one student's grades into the open
    transaction; `flush` commits every student recorded since the last commit, then puts their
    autograded files in place and marks their submissions done. `record` flushes by itself once
    `batch` results wait or the first has waited `seconds`; leaving the `with` block flushes the
    rest, and a caller with nothing else to do may flush at any time.

        with Recorder(root) as recorder:
            recorder.record(result)
    """

    def __init__(self, root: Path, batch: int = BATCH, seconds: float = BATCH_SECONDS):
        self.root, self.batch, self.seconds = root, batch, seconds
        self.gb = None
        self.pending: list[Result] = []  # recorded, not yet committed
        self.students: set[str] = set()  # known to be in the gradebook
        self.layouts: dict[str, _Layout] = {}  # by assignment
        self.since = 0.0  # when the first of them was recorded

    def __enter__(self) -> Recorder:
        from nbgrader.api import Gradebook

        self.gb = Gradebook(db_url(self.root))
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.flush()
        finally:
            self.gb.close()

    def zero_grades(self, result: Result) -> None:
        """Give a result that graded nothing one zero per graded cell (so its maximum shows)."""
        assignment = self.gb.find_assignment(result.assignment)
        result.grades = [
            Grade(nb.name, cell.name, 0.0, float(cell.max_score))
            for nb in assignment.notebooks
            for cell in [*nb.grade_cells, *nb.task_cells]
        ]

    def record(self, result: Result) -> None:
        """Write one student's grades into the open transaction (a failed result scores zero on
        every cell); flush when `batch` results wait or the first has waited `seconds`. Should
        the write fail, nothing recorded since the last commit is kept: those submissions are
        not marked done, so the next run grades them again."""
        try:
            self._write(result)
        except BaseException:
            self._roll_back()
            raise
        if not self.pending:
            self.since = time.monotonic()
        self.pending.append(result)
        if len(self.pending) >= self.batch or time.monotonic() - self.since >= self.seconds:
            self.flush()

    def _write(self, result: Result) -> None:
        """One student's rows, as nbgrader's `update_or_create_student` and
        `update_or_create_submission` write them, with the scores set: a few SQL statements on
        the session's transaction instead of an ORM object per cell (tests/test_gradebook_rows.py
        holds them to nbgrader's own)."""
        from nbgrader.utils import parse_utc

        if result.student not in self.students:
            if self._sql("SELECT 1 FROM student WHERE id = ?", (result.student,)).first() is None:
                self._sql("INSERT INTO student (id) VALUES (?)", (result.student,))
            self.students.add(result.student)
        layout = self.layouts.get(result.assignment) or self._layout(result.assignment)
        found = {(g.notebook, g.cell): g for g in result.grades}
        scores = {}
        for nb in layout.notebooks:
            for name, _ in nb.graded:
                graded = found.get((nb.name, name))
                ok = graded is not None and not result.failed
                scores[nb.name, name] = (
                    graded.score if ok else 0.0,
                    int(graded.needs_manual_grade) if ok else 0,
                )
        stamp = self._stamp(parse_utc(result.timestamp)) if result.timestamp else None
        submission = self._sql(
            "SELECT id FROM submitted_assignment WHERE assignment_id = ? AND student_id = ?",
            (layout.assignment, result.student),
        ).first()
        if submission is None:
            self._add_submission(layout, result.student, stamp, scores)
        else:
            self._update_submission(submission[0], stamp, scores)

    def _sql(self, statement: str, rows: tuple | list[tuple]):
        """Run a statement on the session's transaction: once for a tuple of values, once per
        tuple for a list of them."""
        return self.gb.db.connection().exec_driver_sql(statement, rows)

    def _stamp(self, stamp: datetime) -> str:
        """A timestamp as SQLAlchemy stores nbgrader's DateTime columns in SQLite."""
        from nbgrader.api import SubmittedAssignment

        column = SubmittedAssignment.__table__.c.timestamp
        dialect = self.gb.db.get_bind().dialect
        return column.type.dialect_impl(dialect).bind_processor(dialect)(stamp)

    def _layout(self, assignment: str) -> _Layout:
        """The assignment's notebooks and cells, read once per run."""
        found = self.gb.find_assignment(assignment)
        layout = _Layout(found.id, [])
        for nb in found.notebooks:
            layout.notebooks.append(
                _NotebookLayout(
                    nb.id,
                    nb.name,
                    [(c.name, c.id) for c in [*nb.grade_cells, *nb.task_cells]],
                    [c.id for c in [*nb.solution_cells, *nb.task_cells]],
                )
            )
        self.layouts[assignment] = layout
        return layout

    def _add_submission(
        self, layout: _Layout, student: str, stamp: str | None, scores: dict
    ) -> None:
        """nbgrader's `add_submission`: the submission, a submitted notebook per notebook, a
        grade per graded cell (with its score) and a comment per solution or task cell, each
        row's other columns at their defaults (NULL; `flagged` false)."""
        from nbgrader.api import new_uuid

        submission = new_uuid()
        self._sql(
            "INSERT INTO submitted_assignment (id, assignment_id, student_id, timestamp) "
            "VALUES (?, ?, ?, ?)",
            (submission, layout.assignment, student, stamp),
        )
        notebooks, grades, comments = [], [], []
        for nb in layout.notebooks:
            submitted = new_uuid()
            notebooks.append((submitted, submission, nb.id, 0))
            grades += [
                (new_uuid(), submitted, cell, *scores[nb.name, name]) for name, cell in nb.graded
            ]
            comments += [(new_uuid(), submitted, cell) for cell in nb.commented]
        for statement, rows in (
            (
                "INSERT INTO submitted_notebook (id, assignment_id, notebook_id, flagged) "
                "VALUES (?, ?, ?, ?)",
                notebooks,
            ),
            (
                "INSERT INTO grade (id, notebook_id, cell_id, auto_score, needs_manual_grade) "
                "VALUES (?, ?, ?, ?, ?)",
                grades,
            ),
            ("INSERT INTO comment (id, notebook_id, cell_id) VALUES (?, ?, ?)", comments),
        ):
            if rows:
                self._sql(statement, rows)

    def _update_submission(self, submission: str, stamp: str | None, scores: dict) -> None:
        """A submission graded before: its timestamp (when the new one has one) and scores."""
        if stamp is not None:
            self._sql(
                "UPDATE submitted_assignment SET timestamp = ? WHERE id = ?", (stamp, submission)
            )
        rows = self._sql(
            "SELECT g.id, n.name, c.name FROM grade g "
            "JOIN submitted_notebook s ON g.notebook_id = s.id "
            "JOIN notebook n ON s.notebook_id = n.id JOIN base_cell c ON g.cell_id = c.id "
            "WHERE s.assignment_id = ?",
            (submission,),
        ).all()
        updates = [(*scores[nb, cell], row) for row, nb, cell in rows if (nb, cell) in scores]
        if updates:
            self._sql(
                "UPDATE grade SET auto_score = ?, needs_manual_grade = ? WHERE id = ?", updates
            )

    def _roll_back(self) -> None:
        """Forget every result since the last commit, and the students added with them."""
        self.gb.db.rollback()
        self.pending.clear()
        self.students.clear()

    def flush(self) -> None:
        """Commit every result recorded since the last commit (one transaction), then put their
        autograded files in place and mark their submissions done."""
        if not self.pending:
            return
        done, self.pending = self.pending, []
        try:
            self.gb.db.commit()
        except BaseException:
            self._roll_back()
            raise
        for result in done:
            _place_files(Submission(self.root, result.assignment, result.student), result)


def _place_files(sub: Submission, result: Result) -> None:
    """Put a recorded result's autograded files (or the note of its failure) in place, then
    write the done-marker with the digest of what was graded."""
    shutil.rmtree(sub.autograded, ignore_errors=True)
    sub.autograded.mkdir(parents=True)
    if result.failed:
        lines = [inert_line(s) for s in sentences(result.problems)]  # a file people `cat`
        (sub.autograded / FAILED_NOTE).write_text("\n".join(lines) + "\n")
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
    """What grading recorded about `sub` (its done-marker, written by `Recorder.flush`), or
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
