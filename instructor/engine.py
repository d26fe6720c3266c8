"""Grading jobs as tasks on dask.distributed.

With no scheduler address, `run` starts a LocalCluster on this machine (one single-threaded
worker process per core by default); with one (`tcp://HOST:PORT`), it grades on that cluster,
whose workers need the course's Python environment installed (`pip install` the course) and
nothing else: a `Job` carries everything it grades (see `instructor.job`).

Faults are dask's to handle and ours to report: a worker that dies mid-job has its job run again
on another worker (the result says so); a submission whose job kills its worker on every try is
reported as that student's failure once dask gives up on it (`allowed-failures`); a job that runs
past the per-student limit stops its own kernels and sandboxes and reports it. At most as many
jobs as the cluster has threads are in flight, so the next job is read from disk only when a
worker is free for it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from instructor import confine
from instructor.job import Job, Result, failure, grade
from instructor.problems import Kind, Problem

# Tries of one job before a submission that kills its worker every time is given up on.
MAX_TRIES = 3
PLUGIN_NAME = "rnn-course-grading"


def _plugin(threads: int, tmpdir: str | None, logs: str | None):
    from distributed import WorkerPlugin

    class GradingWorker(WorkerPlugin):
        """Prepares each worker once: thread caps, temporary folder, chatter to a log, the
        heavy imports (`instructor.worker.worker_setup`)."""

        name = PLUGIN_NAME

        def setup(self, worker) -> None:
            from instructor.worker import worker_setup

            chatter = Path(logs) / f"worker-{os.getpid()}.log" if logs else None
            worker_setup(threads, tmpdir, chatter, die_with_parent=False)

    return GradingWorker()


class _Deaths:
    """Which jobs were running on a worker when it died (from the scheduler's events)."""

    def __init__(self):
        self.keys: dict[str, int] = {}
        self.lock = threading.Lock()

    def __call__(self, event: tuple) -> None:
        _, message = event
        if isinstance(message, dict) and message.get("action") == "remove-worker":
            with self.lock:
                for key in message.get("processing-tasks", ()):
                    self.keys[str(key)] = self.keys.get(str(key), 0) + 1

    def count(self, key: str) -> int:
        with self.lock:
            return self.keys.get(key, 0)


def _cluster(workers: int, tmpdir: str | None):
    from distributed import LocalCluster

    threads = max(1, (os.cpu_count() or 1) // workers)
    env = {"TMPDIR": tmpdir} if tmpdir else {}
    env.update(confine.thread_environment(threads))
    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
        env=env,
    ), threads


def run(
    jobs: Iterator[Job],
    count: int,
    on_result: Callable[[Result, list[str]], None],
    *,
    workers: int = 1,
    scheduler: str | None = None,
    limit: float = 600.0,
    tmpdir: str | None = None,
    logs: Path | None = None,
) -> None:
    """Grade `count` jobs on dask; call on_result(result, others) in this thread as each one
    finishes, `others` naming the students whose jobs are in flight at that moment."""
    import dask
    from distributed import Client, KilledWorker, as_completed

    settings = {"distributed.scheduler.allowed-failures": MAX_TRIES - 1}
    if tmpdir and not scheduler:  # the local cluster's own files go with the run's folder
        settings["temporary-directory"] = tmpdir
    with dask.config.set(settings):
        cluster, threads = (None, 1) if scheduler else _cluster(max(1, min(workers, count)), tmpdir)
        client = Client(scheduler or cluster, set_as_default=False)
        try:
            client.register_plugin(
                _plugin(
                    threads,
                    None if scheduler else tmpdir,
                    None if scheduler else str(logs) if logs else None,
                )
            )
            deaths = _Deaths()
            client.subscribe_topic("all", deaths)
            run_id = f"{time.time_ns():x}"
            pending = iter(jobs)
            in_flight: dict = {}
            finished = as_completed(loop=client.loop)

            def submit_next() -> None:
                job = next(pending, None)
                if job is not None:
                    key = f"grade-{job.assignment}-{job.student}-{run_id}"
                    future = client.submit(grade, job, limit, key=key, pure=False)
                    in_flight[future] = job
                    finished.add(future)

            for _ in range(max(1, sum(client.nthreads().values()) or 1)):
                submit_next()
            for future in finished:
                job = in_flight.pop(future)
                try:
                    result = future.result()
                except KilledWorker:
                    result = failure(
                        job,
                        Problem(
                            Kind.WORKER_DIED,
                            detail=(
                                " on every try: the submission kills the process that grades it"
                            ),
                        ),
                    )
                except Exception as error:  # a fault of the tooling: this student only
                    result = failure(job, Problem(Kind.GRADER_FAULT, detail=f"{error!r}"[:300]))
                tries = deaths.count(future.key)
                if tries and not result.failed:
                    result.problems.append(
                        Problem(
                            Kind.WORKER_DIED,
                            detail=(f" while grading it ({tries} time(s)); it was graded again"),
                        )
                    )
                result.digest = result.digest or job.digest
                on_result(result, [j.student for j in in_flight.values()])
                future.release()
                submit_next()
        finally:
            client.unsubscribe_topic("all")
            client.close()
            if cluster is not None:
                cluster.close()
