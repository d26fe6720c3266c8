"""Autograde a whole class in parallel, safely and resumably.

nbgrader grades one student at a time on one SQLite gradebook (its issue 174). Here N worker
processes each grade one submission at a time into a private copy of the gradebook; only this
coordinating process writes the course's gradebook, one student per transaction. After a
student's grades are committed, their autograded notebook is moved into `autograded/` and a
marker recording a digest of the submitted files is written to `.grading/done/`. A re-run
skips every student whose marker matches their current files, so an interrupted run resumes
without losing or duplicating grades, and a resubmission is graded again.

A submission that raises, hangs, kills its kernel, prints gigabytes, is not valid JSON, or has
lost its notebook costs that student points and gets a line in the summary; nothing else.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import signal
import sqlite3
import time
import traceback
import warnings
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path

from instructor.course import assignments, course_config, db_url, notebook_path

WORK = ".grading"


@dataclass
class Job:
    assignment: str
    student: str


@dataclass
class Result:
    assignment: str
    student: str
    scores: dict[str, float] = field(default_factory=dict)  # "notebook/grade_id" -> points
    max_score: float = 0.0
    problems: list[str] = field(default_factory=list)
    failed: bool = False  # nothing could be graded: every cell scores zero
    seconds: float = 0.0
    timestamp: str | None = None
    digest: str = ""

    @property
    def score(self) -> float:
        return sum(self.scores.values())


@dataclass
class Summary:
    graded: list[Result] = field(default_factory=list)
    skipped: list[Job] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [f"graded {len(self.graded)} submission(s) in {self.seconds:.1f} s; "
               f"{len(self.skipped)} unchanged since their last grading (use --force to regrade)"]
        for r in sorted(self.graded, key=lambda r: (r.assignment, r.student)):
            if r.problems:
                out.append(f"  {r.assignment}/{r.student}: {r.score:g}/{r.max_score:g} points; "
                           + "; ".join(r.problems))
        return out


# ------------------------------------------------------------------------------ paths


def submission_digest(folder: Path) -> str:
    """sha256 over the names and bytes of every file of a submission folder."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _marker(root: Path, job: Job) -> Path:
    return root / WORK / "done" / job.assignment / f"{job.student}.json"


def log_path(root: Path, job: Job) -> Path:
    return root / WORK / "logs" / job.assignment / f"{job.student}.log"


def find_jobs(root: Path, only_assignments: list[str] | None = None,
              only_students: list[str] | None = None) -> list[Job]:
    """Every submitted/<student>/<assignment>/ folder, filtered."""
    known = set(assignments(root))
    wanted = set(only_assignments or known)
    unknown = wanted - known
    if unknown:
        raise ValueError(f"unknown assignment(s) {sorted(unknown)}; the course has {sorted(known)}")
    submitted = root / "submitted"
    jobs = [Job(a.name, s.name) for s in sorted(submitted.iterdir()) if s.is_dir()
            for a in sorted(s.iterdir()) if a.is_dir() and a.name in wanted] \
        if submitted.is_dir() else []
    if only_students:
        missing = set(only_students) - {j.student for j in jobs}
        if missing:
            raise ValueError(f"no submissions for {sorted(missing)} under {submitted}")
        jobs = [j for j in jobs if j.student in only_students]
    return jobs


def is_current(root: Path, job: Job) -> bool:
    """True when this submission was graded and has not changed since."""
    marker = _marker(root, job)
    if not marker.is_file() or not (root / "autograded" / job.student / job.assignment).is_dir():
        return False
    try:
        recorded = json.loads(marker.read_text())["digest"]
    except (ValueError, KeyError):
        return False
    return recorded == submission_digest(root / "submitted" / job.student / job.assignment)


# ------------------------------------------------------------------------------ the worker


def _grade_one(root: Path, template_db: Path, job: Job) -> Result:
    """Autograde one submission with nbgrader into a private gradebook; read the scores back.
    Everything is logged to the student's log file."""
    started = time.monotonic()
    folder = root / "submitted" / job.student / job.assignment
    result = Result(job.assignment, job.student, digest=submission_digest(folder))
    log = log_path(root, job)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"grading {job.student}/{job.assignment}\n")
    try:
        _autograde_into(root, template_db, job, result, log)
    finally:
        result.seconds = time.monotonic() - started
        with log.open("a") as out:
            out.write("".join(f"PROBLEM: {p}\n" for p in result.problems)
                      + f"score {result.score:g}/{result.max_score:g} in {result.seconds:.1f} s\n")
    return result


def _autograde_into(root: Path, template_db: Path, job: Job, result: Result, log: Path) -> None:
    from nbgrader.api import Gradebook

    from instructor.course import course_api

    folder = root / "submitted" / job.student / job.assignment
    expected = notebook_path(root / "solutions", job.assignment).name
    present = sorted(p.name for p in folder.glob("*.ipynb"))
    if expected not in present:
        result.problems.append(f"no {expected} in the submission"
                               + (f" (found {', '.join(present)})" if present else ""))
    elif not _valid_json(folder / expected):
        result.problems.append(f"{expected} is not a valid notebook (broken JSON)")
        result.failed = True
        return
    private = root / WORK / "work" / f"{job.assignment}--{job.student}.db"
    private.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template_db, private)
    config = course_config(root)
    config.CourseDirectory.db_url = f"sqlite:///{private}"
    config.CourseDirectory.autograded_directory = f"{WORK}/staged"
    staged = root / WORK / "staged" / job.student / job.assignment
    shutil.rmtree(staged, ignore_errors=True)
    api = course_api(root, config)
    handler = logging.FileHandler(log, mode="a")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    api.log.addHandler(handler)
    try:
        outcome = api.autograde(job.assignment, job.student, force=True, create=True)
        if not outcome["success"]:
            result.failed = True
            result.problems.append("nbgrader could not grade it: "
                                   + _last_line(outcome.get("error") or outcome.get("log", "")))
            return
        with Gradebook(config.CourseDirectory.db_url) as gb:
            submission = gb.find_submission(job.assignment, job.student)
            result.timestamp = submission.timestamp.isoformat() if submission.timestamp else None
            for nb in submission.notebooks:
                for grade in nb.grades:
                    result.scores[f"{nb.name}/{grade.name}"] = float(grade.auto_score or 0.0)
                    result.max_score += float(grade.max_score)
        result.problems += _notes(staged)
    finally:
        api.log.removeHandler(handler)
        handler.close()
        private.unlink(missing_ok=True)


def _valid_json(path: Path) -> bool:
    import nbformat

    try:
        nbformat.read(path, as_version=4)
        return True
    except Exception:  # any parse or schema error
        return False


def _last_line(text: str) -> str:
    lines = [line for line in str(text).splitlines() if line.strip()]
    return (lines[-1] if lines else "unknown error")[:300]


def _notes(staged: Path) -> list[str]:
    """One line per kind of trouble seen in the autograded notebook(s)."""
    from instructor.grader import NOT_GRADED

    notes: set[str] = set()
    for path in staged.glob("*.ipynb"):
        text = path.read_text(errors="replace")
        if "CellTimeoutError" in text:
            notes.add("a cell ran past the per-cell time limit")
        if "DeadKernelError" in text or "kernel stopped responding" in text:
            notes.add("the kernel died or hung; later cells were not run")
        if "TimeLimitExceeded" in text:
            notes.add("an exercise function ran past its time limit")
        if "ProcessDied" in text:
            notes.add("an exercise ended the Python process running it")
        if NOT_GRADED in text:
            notes.add("some tests could not run")
        if "cannot confine the kernel" in text:
            notes.add("the notebook was not executed (its kernel could not be confined); "
                      "grading is unaffected")
        if "output truncated" in text or "Output truncated" in text:
            notes.add("very long output was truncated")
    return sorted(notes)


def _worker_main(conn: Connection, root: str, template_db: str, threads: int = 1) -> None:
    """A pool process: import the heavy modules once, then grade the jobs it is sent.

    threads: how many threads the kernels it starts may give torch and BLAS (the cores divided
    among the workers: two workers' kernels that each spin two OpenMP threads on two cores run
    several times slower than one thread each).
    """
    os.setpgrp()
    from instructor.sandbox import limit_thread_env

    limit_thread_env(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator handles Ctrl-C
    # nbgrader's and the kernels' chatter goes to a log, not over the progress bar
    chatter = Path(root) / WORK / "logs" / f"worker-{os.getpid()}.log"
    chatter.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(chatter, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    warnings.filterwarnings("ignore", module="sqlalchemy")
    import nbgrader.apps  # noqa: F401
    import torch

    import helpers.checks  # noqa: F401
    import instructor.grader  # noqa: F401
    from instructor import confine

    torch.set_num_threads(1)  # one core per worker; also keeps fork() of sandboxes safe
    confine.make_undumpable()
    confine.namespaces_available()  # probe once here, not in every sandbox
    confine.kernel_confinement()
    while True:
        job = conn.recv()
        if job is None:
            return
        try:
            result = _grade_one(Path(root), Path(template_db), job)
        except Exception as error:  # a fault of the tooling: this student only
            result = Result(job.assignment, job.student, failed=True, problems=[
                f"grading failed: {type(error).__name__}: {error}"])
            log = log_path(Path(root), job)
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(traceback.format_exc())
        conn.send(result)


class _Worker:
    def __init__(self, context, root: Path, template_db: Path, threads: int = 1):
        self.conn, child = context.Pipe()
        self.threads = threads
        self.process = context.Process(target=_worker_main, args=(
            child, str(root), str(template_db), threads), daemon=True)
        self.process.start()
        child.close()
        self.job: Job | None = None
        self.deadline = 0.0

    def send(self, job: Job, limit: float) -> None:
        self.job, self.deadline = job, time.monotonic() + limit
        self.conn.send(job)

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            self.process.kill()
        self.process.join(5)


# ------------------------------------------------------------------------------ the coordinator


def _ensure_in_gradebook(root: Path, ids: list[str]) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    from instructor.course import generate_release

    missing = []
    with Gradebook(db_url(root)) as gb:
        for assignment in ids:
            try:
                gb.find_assignment(assignment)
            except MissingEntry:
                missing.append(assignment)
    if missing:
        generate_release(root, missing)


def _snapshot_gradebook(root: Path) -> Path:
    """A consistent copy of the gradebook (assignments and cells) for the workers to start from."""
    source = db_url(root).removeprefix("sqlite:///")
    target = root / WORK / "template.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def record(root: Path, result: Result) -> None:
    """Write one student's grades to the gradebook (one transaction), move their autograded
    notebook into place, then mark the submission done."""
    from datetime import datetime

    from nbgrader.api import Gradebook

    job = Job(result.assignment, result.student)
    with Gradebook(db_url(root)) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbgrader's own SQLAlchemy warnings
        gb.update_or_create_student(job.student)
        stamp = datetime.fromisoformat(result.timestamp) if result.timestamp else None
        submission = gb.update_or_create_submission(job.assignment, job.student,
                                                    **({"timestamp": stamp} if stamp else {}))
        result.max_score = 0.0
        for nb in submission.notebooks:
            for grade in nb.grades:
                grade.auto_score = 0.0 if result.failed else \
                    result.scores.get(f"{nb.name}/{grade.name}", 0.0)
                grade.needs_manual_grade = False
                result.max_score += float(grade.max_score)
        gb.db.commit()
    staged = root / WORK / "staged" / job.student / job.assignment
    final = root / "autograded" / job.student / job.assignment
    shutil.rmtree(final, ignore_errors=True)
    if staged.is_dir() and not result.failed:
        final.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staged), str(final))
    else:
        final.mkdir(parents=True, exist_ok=True)
        (final / "GRADING-FAILED.txt").write_text("\n".join(result.problems) + "\n")
    marker = _marker(root, job)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(asdict(result), indent=1))


def autograde(root: Path, only_assignments: list[str] | None = None,
              only_students: list[str] | None = None, workers: int | None = None,
              force: bool = False, student_timeout: float = 600.0,
              progress: bool = True) -> Summary:
    """Grade every submission under submitted/ (or the ones named) in `workers` processes."""
    started = time.monotonic()
    jobs = find_jobs(root, only_assignments, only_students)
    summary = Summary()
    todo = [j for j in jobs if force or not is_current(root, j)]
    summary.skipped = [j for j in jobs if j not in todo]
    if todo:
        _ensure_in_gradebook(root, sorted({j.assignment for j in todo}))
        template = _snapshot_gradebook(root)
        summary.graded = _run_pool(root, template, todo, workers or os.cpu_count() or 1,
                                   student_timeout, progress)
    summary.seconds = time.monotonic() - started
    return summary


class ProtectedFiles:
    """The course's own code and sources, as bytes: after each student, anything changed is
    put back and reported. Confined student code cannot write these at all; this is the guard
    for runs without root (see instructor.confine)."""

    def __init__(self, root: Path):
        import helpers
        import instructor

        folders = [Path(helpers.__file__).parent, Path(instructor.__file__).parent]
        paths = [p for f in folders for p in f.glob("*.py")]
        paths += [root / "nbgrader_config.py", *sorted((root / "solutions").rglob("*.ipynb"))]
        self.saved = {p: p.read_bytes() for p in paths if p.is_file()}

    def restore(self) -> list[str]:
        """Put back every changed or deleted file; return their names."""
        changed = []
        for path, data in self.saved.items():
            try:
                same = path.read_bytes() == data
            except OSError:
                same = False
            if not same:
                path.write_bytes(data)
                changed.append(path.name)
        return changed


def _failure(job: Job, problem: str) -> Result:
    return Result(job.assignment, job.student, failed=True, problems=[problem])


def _replace(worker: _Worker, context, root: Path, template: Path) -> _Worker:
    worker.kill()
    return _Worker(context, root, template, worker.threads)


def _run_pool(root: Path, template: Path, jobs: list[Job], size: int, limit: float,
              progress: bool) -> list[Result]:
    from tqdm.auto import tqdm

    context = multiprocessing.get_context("spawn")
    queue = list(jobs)
    size = min(size, len(jobs))
    threads = max(1, (os.cpu_count() or 1) // max(1, size))   # the cores, shared out
    pool = [_Worker(context, root, template, threads) for _ in range(size)]
    results: list[Result] = []
    bar = tqdm(total=len(jobs), desc="autograding", unit="submission", disable=not progress)
    protected = ProtectedFiles(root)
    try:
        while queue or any(w.job for w in pool):
            for worker in pool:
                if worker.job is None and queue:
                    worker.send(queue.pop(0), limit)
            busy = [w for w in pool if w.job]
            ready = wait([w.conn for w in busy], timeout=1.0)
            for i, worker in enumerate(pool):
                job = worker.job
                if job is None:
                    continue
                if worker.conn in ready:
                    try:
                        result, worker.job = worker.conn.recv(), None
                    except (EOFError, OSError):
                        result = _failure(job, "the grading process died")
                        pool[i] = _replace(worker, context, root, template)
                elif not worker.process.is_alive():
                    result = _failure(job, "the grading process died")
                    pool[i] = _replace(worker, context, root, template)
                elif time.monotonic() > worker.deadline:
                    result = _failure(job, f"grading took longer than {limit:.0f} s and was "
                                           f"stopped")
                    pool[i] = _replace(worker, context, root, template)
                else:
                    continue
                changed = protected.restore()
                if changed:
                    others = [w.job.student for w in pool if w.job]
                    result.problems.append(
                        f"course files changed while grading it (restored: {', '.join(changed)})"
                        + (f"; also being graded then: {', '.join(others)}" if others else ""))
                if not result.digest:
                    result.digest = submission_digest(
                        root / "submitted" / result.student / result.assignment)
                record(root, result)
                results.append(result)
                bar.update(1)
                bar.set_postfix_str(f"{result.student}: {result.score:g}/{result.max_score:g}")
    finally:
        bar.close()
        for worker in pool:
            if worker.process.is_alive():
                try:
                    worker.conn.send(None)
                except OSError:
                    pass
        for worker in pool:
            worker.process.join(10)
            if worker.process.is_alive():
                worker.kill()
    return results
