"""One grading job: a submission in, its grades out, with nothing shared in between.

What grading needs comes in two parts, so that a cluster moves each once: a `Kit` holds what
every submission of one assignment shares (the assignment's source notebooks with their hidden
tests, the course's nbgrader configuration, a gradebook holding the assignments, the mistake
catalogue), sent to the cluster once per run; a `Job` holds one student's submitted files. With
both, grading runs on any machine with the course's Python environment installed, none of the
instructor's files needed. `grade` builds a private course folder in a temporary directory,
runs nbgrader's autograde there (with the course's preprocessors: confined kernel, trusted
tests, sandboxes), and returns a `Result` holding plain data: the score of every graded cell,
the autograded files, the problems met and the log. The temporary folder is removed whatever
happens. Only the coordinator writes the real gradebook.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from instructor.diagnosis import catalogue
from instructor.diagnosis.verdict import Diagnosis
from instructor.infrastructure import reaper
from instructor.output.inert_terminal import inert_text
from instructor.records import grader_record, notebook_record
from instructor.records.problems import Kind, Problem

CONFIG_NAME = "nbgrader_config.py"
GRADEBOOK_NAME = "gradebook.db"
# A submitted notebook larger than this is not graded: reading and checking it (JSON, schema)
# happens in the grader's own process, before any of the student's limits apply.
MAX_NOTEBOOK_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class Kit:
    """What every submission of one assignment is graded with, as plain data: the same for the
    whole class, so a run sends it to the cluster once (see `instructor.coordinator.engine`)."""

    assignment: str
    sources: dict[str, bytes]  # the assignment's source notebooks (solutions/<id>/*.ipynb)
    config: str  # the course's nbgrader_config.py
    gradebook: bytes  # an SQLite gradebook that knows the assignment and its cells
    catalogue: bytes = (
        b""  # the assignment's mistake catalogue (instructor.diagnosis.catalogue), if any
    )


@dataclass(frozen=True)
class Job:
    """One student's submission of one assignment, as plain data (graded with its `Kit`)."""

    assignment: str
    student: str
    files: dict[str, bytes]  # the submission folder's files, by relative path
    digest: str = ""  # of `files`, recorded when the grade is committed


@dataclass
class Grade:
    """One graded cell's result."""

    notebook: str
    cell: str
    score: float
    max_score: float
    needs_manual_grade: bool = False


@dataclass
class Result:
    """What grading one submission produced."""

    assignment: str
    student: str
    grades: list[Grade] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)  # never part of the score
    failed: bool = False  # nothing could be graded: every cell scores zero
    ungraded: bool = False  # the grader could not grade it: nothing is recorded (see `not_graded`)
    autograded: dict[str, bytes] = field(default_factory=dict)
    timestamp: str | None = None
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # see instructor.records.phases
    log: str = ""
    digest: str = ""

    @property
    def score(self) -> float:
        return 0.0 if self.failed else sum(g.score for g in self.grades)

    @property
    def max_score(self) -> float:
        return sum(g.max_score for g in self.grades)


def failure(job: Job, problem: Problem) -> Result:
    """The result of a job that could not be graded at all, by the submission's doing."""
    return Result(job.assignment, job.student, problems=[problem], failed=True, digest=job.digest)


def not_graded(job: Job, problem: Problem) -> Result:
    """The result of a job the grader could not grade, by no doing of the submission (the
    cluster or the tooling failed): it is reported, not recorded, so the next run grades it."""
    return dataclasses.replace(failure(job, problem), ungraded=True)


def malformed(result: object) -> str | None:
    """What is wrong with a job's result that the coordinator could not record or show (a
    worker running another version of the course, say), or None when it is well formed."""
    import math

    if not isinstance(result, Result):
        return f"a {type(result).__name__}, not a Result"
    checks = (
        ("assignment", isinstance(result.assignment, str)),
        ("student", isinstance(result.student, str)),
        (
            "grades",
            isinstance(result.grades, list)
            and all(
                isinstance(g, Grade)
                and isinstance(g.notebook, str)
                and isinstance(g.cell, str)
                and all(
                    isinstance(v, int | float) and math.isfinite(v) for v in (g.score, g.max_score)
                )
                for g in result.grades
            ),
        ),
        ("problems", isinstance(result.problems, list)),
        ("problems", all(isinstance(p, Problem) for p in result.problems)),
        ("diagnoses", all(isinstance(d, Diagnosis) for d in result.diagnoses)),
        (
            "autograded files",
            isinstance(result.autograded, dict)
            and all(
                isinstance(k, str) and isinstance(v, bytes) for k, v in result.autograded.items()
            ),
        ),
        ("timestamp", result.timestamp is None or isinstance(result.timestamp, str)),
        ("seconds", isinstance(result.seconds, int | float)),
        (
            "phases",
            isinstance(result.phases, dict)
            and all(isinstance(v, int | float) for v in result.phases.values()),
        ),
        ("log", isinstance(result.log, str)),
    )
    wrong = [name for name, ok in checks if not ok]
    return f"its {wrong[0]} are malformed" if wrong else None


def warm_up(kit: Kit) -> None:
    """Get this process ready to grade with `kit`: start the sandbox zygotes its notebooks'
    tests use (`trusted_run.warm_up`), whose imports then run while the first job starts its
    kernel instead of before its tests. Best effort: what fails here fails again, and is
    reported, in the job that needs it; nothing is raised here."""
    for data in kit.sources.values():
        try:
            from instructor.grading import trusted_run

            trusted_run.warm_up(nbformat.reads(data.decode(), as_version=4))
        except Exception:
            pass


def _write_course(root: Path, job: Job, kit: Kit, files: dict[str, bytes]) -> Path:
    """A private course folder for this job, holding `files` as its submission (the job's
    files as they go in: see `grade`); returns the submission's folder in it."""
    if kit.assignment != job.assignment:
        raise ValueError(f"the kit of {kit.assignment!r} cannot grade {job.assignment!r}")
    (root / CONFIG_NAME).write_text(kit.config)
    (root / GRADEBOOK_NAME).write_bytes(kit.gradebook)
    for name, data in kit.sources.items():
        path = root / "solutions" / job.assignment / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    if kit.catalogue:
        catalogue.path_of(root / "solutions", job.assignment).write_bytes(kit.catalogue)
    folder = root / "submitted" / job.student / job.assignment
    folder.mkdir(parents=True)
    for name, data in files.items():
        path = (folder / name).resolve()
        if folder.resolve() in path.parents:  # never outside the submission's folder
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return folder


def _check_notebooks(job: Job, kit: Kit, result: Result) -> bool:
    """Problems with the submitted notebooks themselves; False when nothing can be graded (no
    expected notebook is there, or one is not a notebook at all)."""
    present = sorted(n for n in job.files if n.endswith(".ipynb") and "/" not in n)
    missing = [name for name in sorted(kit.sources) if name not in present]
    for expected in missing:
        result.problems.append(Problem(Kind.MISSING_NOTEBOOK, ", ".join(present), expected))
    for expected in sorted(set(kit.sources) - set(missing)):
        if len(job.files[expected]) > MAX_NOTEBOOK_BYTES:
            size = f"{MAX_NOTEBOOK_BYTES // 2**20} MB"
            result.problems.append(Problem(Kind.NOTEBOOK_TOO_LARGE, expected, size))
            result.failed = True
            continue
        try:
            nbformat.reads(job.files[expected].decode(), as_version=4)
        except Exception:  # any decoding, parse or schema error
            result.problems.append(Problem(Kind.BROKEN_NOTEBOOK, detail=expected))
            result.failed = True
    if len(missing) == len(kit.sources):
        result.failed = True
    return not result.failed


def _last_line(text: str) -> str:
    lines = [line for line in str(text).splitlines() if line.strip()]
    return (lines[-1] if lines else "unknown error")[:300]


class InertRecords(logging.Filter):
    """Makes a log record's text inert for a terminal before a handler writes it: nbgrader's
    and the preprocessors' messages quote submission text (exception names, tracebacks), and a
    worker's chatter log is a file people read in a terminal."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = inert_text(record.getMessage()), None
        return True


def _inert_handlers(logger: logging.Logger) -> None:
    """Put `InertRecords` on every handler that writes `logger`'s records (its own and its
    ancestors'), once."""
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            if not any(isinstance(f, InertRecords) for f in handler.filters):
                handler.addFilter(InertRecords())
        current = current.parent if current.propagate else None


def _autograde(root: Path, job: Job, result: Result, log: io.StringIO) -> None:
    from nbgrader.api import Gradebook

    from instructor.infrastructure.course_folder import course_api, course_config

    config = course_config(root)
    api = course_api(root, config)
    handler = logging.StreamHandler(log)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    api.log.addHandler(handler)
    _inert_handlers(api.log)
    try:
        outcome = api.autograde(job.assignment, job.student, force=True, create=True)
    finally:
        api.log.removeHandler(handler)
    if not outcome["success"]:
        result.failed = True
        result.problems.append(
            Problem(
                Kind.NBGRADER_FAILED,
                detail=_last_line(outcome.get("error") or outcome.get("log", "")),
            )
        )
        return
    with Gradebook(config.CourseDirectory.db_url) as gb:
        submission = gb.find_submission(job.assignment, job.student)
        result.timestamp = submission.timestamp.isoformat() if submission.timestamp else None
        for nb in submission.notebooks:
            for grade in nb.grades:
                result.grades.append(
                    Grade(
                        nb.name,
                        grade.name,
                        float(grade.auto_score or 0.0),
                        float(grade.max_score),
                        bool(grade.needs_manual_grade),
                    )
                )
    graded = root / "autograded" / job.student / job.assignment
    for path in sorted(graded.rglob("*")):
        if path.is_file():
            result.autograded[str(path.relative_to(graded))] = path.read_bytes()
            if path.suffix == ".ipynb":
                record = grader_record.read(nbformat.read(path, as_version=4))
                result.problems += record.problems
                result.diagnoses += record.diagnoses
                for phase, seconds in record.phases.items():
                    result.phases[phase] = result.phases.get(phase, 0.0) + seconds


def _children() -> list[int]:
    """The pids of this process's children (kernels' launchers, sandbox zygotes)."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == me:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return found


class Watchdog:
    """Past `limit` seconds, stops everything this process started for the job (and whatever
    it starts after that), so that grading ends soon and the job is reported as too slow."""

    def __init__(self, limit: float | None):
        self.expired = False
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._watch, args=(limit,), daemon=True)
        if limit:
            self.thread.start()

    def _watch(self, limit: float) -> None:
        if self.stopped.wait(limit):
            return
        self.expired = True
        while not self.stopped.wait(0.5):
            for pid in _children():
                try:
                    if os.getpgid(pid) == pid:
                        os.killpg(pid, signal.SIGKILL)
                    else:
                        os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def stop(self) -> None:
        self.stopped.set()


def grade(job: Job, kit: Kit, limit: float | None = None) -> Result:
    """Autograde one submission with its assignment's kit in a private temporary course folder
    (see the module docstring), in at most `limit` seconds. Never raises; a fault of the
    tooling leaves this job `ungraded` (not recorded: the next run grades it)."""
    started = time.monotonic()
    result = Result(job.assignment, job.student, digest=job.digest)
    log = io.StringIO()
    scratch = Path(tempfile.mkdtemp(prefix="rnn-course-job-"))
    watchdog = Watchdog(limit)
    try:
        files, forged = grader_record.remove_from_files(job.files, MAX_NOTEBOOK_BYTES)
        for name in forged:  # the grader's key is the grader's alone
            result.problems.append(Problem(Kind.FORGED_RECORD, name, notebook_record.METADATA_KEY))
        _write_course(scratch, job, kit, files)
        if _check_notebooks(job, kit, result):  # and no process of it outlives it
            reaper.run_job(lambda: _autograde(scratch, job, result, log), result.problems)
    except Exception as error:  # a fault of the tooling: not graded, so the next run grades it
        result.failed = result.ungraded = True
        result.problems.append(
            Problem(Kind.GRADER_FAULT, detail=f"{type(error).__name__}: {error}"[:300])
        )
        log.write(traceback.format_exc())
    finally:
        watchdog.stop()
        if watchdog.expired:  # whatever failed after that, the submission took too long
            result.failed, result.ungraded = True, False
            result.problems.append(Problem(Kind.STUDENT_TIMEOUT, detail=f"{limit:.0f}"))
        shutil.rmtree(scratch, ignore_errors=True)
        result.seconds = time.monotonic() - started
        result.log = log.getvalue()
    return result
