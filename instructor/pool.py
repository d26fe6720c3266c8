"""A pool of local worker processes that run grading jobs (`instructor.job.grade`).

Each worker imports the heavy modules once and grades one job at a time. A worker that dies or
runs past the per-student limit is replaced, and its job reported as that student's failure.
Workers die with the coordinator (a parent-death signal), and so do the kernels and sandboxes
they start, so an interrupted run leaves nothing running behind it.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection, wait
from pathlib import Path

from instructor.job import Job, Result, failure, grade
from instructor.problems import Kind, Problem

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def limit_thread_env(threads: int) -> None:
    """Cap the threads torch and BLAS may use in this process's future children (and in this
    process, if they are not imported yet)."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)


def worker_setup(threads: int, tmpdir: str | None, chatter: Path | None,
                 die_with_parent: bool = True) -> None:
    """What a grading worker does once, before its first job: die with its parent, cap the
    threads its kernels may use (the cores divided among the workers), keep its temporary
    files in the run's folder, send nbgrader's chatter to a log, import the heavy modules, and
    make itself undumpable (student code cannot read its memory)."""
    from instructor import confine

    if die_with_parent:
        confine.die_with_parent()
    limit_thread_env(threads)
    if tmpdir:
        import tempfile

        os.environ["TMPDIR"] = tempfile.tempdir = tmpdir
    if chatter is not None:
        chatter.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(chatter, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
    warnings.filterwarnings("ignore", module="sqlalchemy")
    import nbgrader.apps  # noqa: F401
    import torch

    import helpers.checks  # noqa: F401
    import instructor.preprocessors  # noqa: F401

    torch.set_num_threads(1)
    confine.make_undumpable()
    confine.mode()  # probe once here, not in every sandbox
    confine.kernel_confinement()


def _worker_main(conn: Connection, threads: int, tmpdir: str | None, chatter: str) -> None:
    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator handles Ctrl-C
    worker_setup(threads, tmpdir, Path(chatter))
    while True:
        job = conn.recv()
        if job is None:
            return
        try:
            result = grade(job)
        except Exception as error:  # grade() handles faults itself; this is a last resort
            result = failure(job, Problem(Kind.GRADER_FAULT, detail=f"{error!r}"[:300]))
            result.log = traceback.format_exc()
        conn.send(result)


class _Worker:
    def __init__(self, context, threads: int, tmpdir: str | None, chatter: Path):
        self.conn, child = context.Pipe()
        self.args = (threads, tmpdir, chatter)
        self.process = context.Process(target=_worker_main, args=(
            child, threads, tmpdir, str(chatter)), daemon=True)
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


def run_pool(jobs: Iterator[Job], count: int, size: int, limit: float, tmpdir: str | None,
             logs: Path, on_result: Callable[[Result, list[str]], None]) -> None:
    """Grade `count` jobs in `size` worker processes; call on_result(result, others) as each
    finishes, `others` naming the students being graded at that moment."""
    context = multiprocessing.get_context("spawn")
    size = max(1, min(size, count))
    threads = max(1, (os.cpu_count() or 1) // size)  # the cores, shared out

    def new_worker() -> _Worker:
        return _Worker(context, threads, tmpdir, logs / f"worker-{time.time_ns()}.log")

    pool = [new_worker() for _ in range(size)]
    pending = iter(jobs)
    exhausted = False
    try:
        while True:
            for worker in pool:
                if worker.job is None and not exhausted:
                    job = next(pending, None)
                    if job is None:
                        exhausted = True
                    else:
                        worker.send(job, limit)
            busy = [w for w in pool if w.job]
            if not busy:
                return
            ready = wait([w.conn for w in busy], timeout=1.0)
            for i, worker in enumerate(pool):
                job = worker.job
                if job is None:
                    continue
                if worker.conn in ready:
                    try:
                        result, worker.job = worker.conn.recv(), None
                    except (EOFError, OSError):
                        result = failure(job, Problem(Kind.WORKER_DIED))
                        pool[i] = _replace(worker, new_worker)
                elif not worker.process.is_alive():
                    result = failure(job, Problem(Kind.WORKER_DIED))
                    pool[i] = _replace(worker, new_worker)
                elif time.monotonic() > worker.deadline:
                    result = failure(job, Problem(Kind.STUDENT_TIMEOUT, detail=f"{limit:.0f}"))
                    pool[i] = _replace(worker, new_worker)
                else:
                    continue
                result.digest = result.digest or job.digest
                others = [w.job.student for w in pool if w.job]
                on_result(result, others)
    finally:
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


def _replace(worker: _Worker, new_worker: Callable[[], _Worker]) -> _Worker:
    worker.kill()
    return new_worker()
