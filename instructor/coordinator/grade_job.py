"""Grading one job on a worker: `grade` builds a private course folder in a temporary
directory from the `Kit` and the `Job` (`instructor.coordinator.job`), runs nbgrader's autograde
there (with the course's preprocessors: confined kernel, trusted tests, sandboxes) under a
watchdog that ends it at its time limit, and returns a `Result`. The temporary folder is removed
whatever happens; `warm_up` gets a worker ready for an assignment before its first job.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
import traceback
from pathlib import Path

import nbformat

from instructor.coordinator.job import (
    CONFIG_NAME,
    GRADEBOOK_NAME,
    Grade,
    Job,
    Kit,
    Result,
)
from instructor.diagnosis import catalogue
from instructor.infrastructure import reaper
from instructor.output.inert_terminal import inert_text
from instructor.records import grader_record, notebook_record
from instructor.records.problems import Kind, Problem
from instructor.records.submission import MAX_NOTEBOOK_BYTES


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
