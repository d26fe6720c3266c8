"""The coordinator's gradebook writes (`instructor.coordinator.gradebook.Recorder`): several
students per transaction, and a submission marked done only once its grades are committed. So a
coordinator killed with results recorded but not yet committed leaves exactly those to be graded
again, and the resumed run gives each student one grade. Grading is faked (tests/engine_fake.py)."""

from __future__ import annotations

import functools
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import engine_fake
import pytest

import course_tools
import instructor.coordinator.grade_job
from instructor import cli
from instructor.coordinator import engine
from instructor.coordinator.autograde import autograde, make_job, make_kit
from instructor.coordinator.gradebook import Recorder
from instructor.records.problems import Kind
from instructor.records.submission import Submission

pytestmark = pytest.mark.slow
ASSIGNMENT = "01_bptt"
STUDENTS = [f"student{i}" for i in range(1, 6)]


@pytest.fixture()
def course(tmp_path) -> Path:
    """A course with notebook 01 released and submitted, solved, by every student."""
    root = course_tools.copy_course(tmp_path / "course")
    course_tools.generate_release(root, [ASSIGNMENT])
    solution = course_tools.read(course_tools.notebook_path(root / "solutions", ASSIGNMENT))
    release = course_tools.read(course_tools.notebook_path(root / "notebooks", ASSIGNMENT))
    for student in STUDENTS:
        course_tools.submit(
            root, ASSIGNMENT, student, course_tools.make_submission(release, solution)
        )
    return root


def _committed(root: Path) -> list[str]:
    """The students with a submission in the gradebook, read by another connection."""
    with sqlite3.connect(root / "gradebook.db") as db:
        return sorted(r[0] for r in db.execute("select student_id from submitted_assignment"))


def _marked(root: Path) -> list[str]:
    return sorted(s for s in STUDENTS if Submission(root, ASSIGNMENT, s).marker.is_file())


def test_a_batch_is_committed_when_full_and_the_rest_when_the_recorder_closes(course):
    kit = make_kit(course, ASSIGNMENT, (course / "nbgrader_config.py").read_text(), b"")
    results = [
        engine_fake.full_marks(make_job(Submission(course, ASSIGNMENT, s)), kit) for s in STUDENTS
    ]
    with Recorder(course, batch=2, seconds=3600) as recorder:
        recorder.record(results[0])
        assert _committed(course) == _marked(course) == [], "recorded before its batch was full"
        recorder.record(results[1])
        assert _committed(course) == _marked(course) == STUDENTS[:2]
        recorder.record(results[2])
        assert _committed(course) == _marked(course) == STUDENTS[:2]
    assert _committed(course) == _marked(course) == STUDENTS[:3], "closing did not commit"
    full = sum(g.max_score for g in results[0].grades)
    for student in STUDENTS[:3]:
        assert sum(course_tools.cell_scores(course, ASSIGNMENT, student).values()) == full
        assert (
            Submission(course, ASSIGNMENT, student).autograded / f"{ASSIGNMENT}.ipynb"
        ).is_file()


def test_a_batch_not_committed_when_the_coordinator_dies_is_graded_again(course, tmp_path):
    # students 1-2 are committed (the engine was idle), 3-4 recorded but not committed, then the
    # coordinator is killed; student 5 was never graded
    tests = Path(__file__).resolve().parent
    script = (
        "import functools, sys\n"
        f"sys.path.insert(0, {str(tests)!r})\n"
        "from pathlib import Path\n"
        "from unittest import mock\n"
        "import engine_fake\n"
        "from instructor.coordinator import engine\n"
        "from instructor.coordinator.autograde import autograde\n"
        "fake = functools.partial(engine_fake.run, idle_after=2, die_after=4)\n"
        "with mock.patch.object(engine, 'run', fake):\n"
        f"    autograde(Path({str(course)!r}), progress=False)\n"
    )
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert killed.returncode == -9, killed.stderr[-3000:]
    assert _committed(course) == _marked(course) == STUDENTS[:2]

    with mock.patch.object(engine, "run", functools.partial(engine_fake.run)):
        resumed = autograde(course, progress=False)
    assert sorted(r.student for r in resumed.graded) == STUDENTS[2:]
    assert sorted(s.student for s in resumed.skipped) == STUDENTS[:2]
    assert _committed(course) == _marked(course) == STUDENTS, "the end of the run did not commit"
    full = sum(
        course_tools.grade_cells(
            course_tools.read(course_tools.notebook_path(course / "solutions", ASSIGNMENT))
        ).values()
    )
    for student in STUDENTS:
        assert sum(course_tools.cell_scores(course, ASSIGNMENT, student).values()) == full, student


def test_a_submission_the_grader_could_not_grade_is_not_recorded_and_is_graded_next_run(
    course, tmp_path, monkeypatch, capsys
):
    tests = str(Path(__file__).resolve().parent)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [tests, os.environ.get("PYTHONPATH")]))
    )
    monkeypatch.setenv("ENGINE_FAKE_DIR", str(tmp_path))
    release = course_tools.read(course_tools.notebook_path(course / "notebooks", ASSIGNMENT))
    course_tools.submit(course, ASSIGNMENT, "faulty_once", release)
    with mock.patch.object(engine, "grade", engine_fake.grade):
        first = autograde(course, workers=1, progress=False, only_students=["faulty_once"])
    assert [r.student for r in first.ungraded] == ["faulty_once"], first.lines()
    assert "faulty_once" not in [r.student for r in first.graded]
    assert "faulty_once" not in _committed(course)
    assert not Submission(course, ASSIGNMENT, "faulty_once").marker.exists()
    lines = first.lines()
    assert any("NOT GRADED: 1 submission(s)" in line for line in lines), lines
    assert any("faulty_once" in line and "the grader's own fault" in line for line in lines)
    (tmp_path / f"{ASSIGNMENT}-faulty_once").unlink()  # its first try again: not graded
    with mock.patch.object(engine, "grade", engine_fake.grade):
        status = cli.main(["--root", str(course), "autograde", "-q", "-j", "1"])
    out = capsys.readouterr().out
    assert status == 1 and "NOT GRADED: 1 submission(s)" in out, out
    assert sorted(_committed(course)) == STUDENTS, "a submission not graded was recorded"
    log = Submission(course, ASSIGNMENT, "faulty_once").log.read_text()
    assert log.count("not graded: nothing was recorded") == 2, log
    with mock.patch.object(engine, "grade", engine_fake.grade):
        second = autograde(course, workers=1, progress=False)
    assert [r.student for r in second.graded] == ["faulty_once"] and not second.ungraded
    assert "faulty_once" in _committed(course)


def test_a_fault_of_the_tooling_in_a_job_leaves_it_not_graded_unless_it_took_too_long(course):
    kit = make_kit(course, ASSIGNMENT, (course / "nbgrader_config.py").read_text(), b"")
    job = make_job(Submission(course, ASSIGNMENT, "student1"))
    full = OSError(28, "No space left on device")
    with mock.patch.object(instructor.coordinator.grade_job, "_write_course", side_effect=full):
        result = instructor.coordinator.grade_job.grade(job, kit)
    assert result.failed and result.ungraded, result
    assert [p.kind for p in result.problems] == [Kind.GRADER_FAULT], result
    assert "No space left on device" in result.problems[0].detail

    def slow_then_broken(*args):
        time.sleep(1.0)
        raise full

    with mock.patch.object(instructor.coordinator.grade_job, "_write_course", slow_then_broken):
        result = instructor.coordinator.grade_job.grade(job, kit, limit=0.2)
    assert result.failed and not result.ungraded, "a submission past its time limit is failed"
    assert Kind.STUDENT_TIMEOUT in [p.kind for p in result.problems], result
