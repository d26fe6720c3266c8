"""Grading jobs as tasks on dask.distributed.

With no scheduler address, `run` starts a LocalCluster on this machine (one single-threaded
worker process per core by default); with one (`tcp://HOST:PORT`), it grades on that cluster,
whose workers need the course's Python environment installed (`pip install` the course) and
nothing else: a `Job` and its assignment's `Kit` carry everything it grades (see
`instructor.job`). The coordinator sends each assignment's kit once per run (`scatter`) and
every job of the assignment refers to it: a worker fetches it from a peer that holds it before
its first job and keeps it (on our LocalCluster, whose active memory manager is off, so no copy
is dropped), and a task moves one student's files in and one result out. Should a kit be lost
with every worker that held it, it is sent again and the jobs that needed it are resubmitted.
(The kit is not broadcast: distributed 2026.8's `replicate` logs an event holding WorkerState
objects on the "all" topic, which breaks the comm of a client subscribed to it, as this one is
to learn which jobs a dead worker was running.)

Faults are dask's to handle and ours to report: a worker that dies mid-job has its job run again
on another worker (the result says so); a submission whose job kills its worker on every try is
reported as that student's failure once dask gives up on it (`allowed-failures`); a job that runs
past the per-student limit stops its own kernels and sandboxes and reports it. At most as many
jobs as the cluster has threads are in flight, so the next job is read from disk only when a
worker is free for it, and it is sent before the coordinator records the result that freed it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from instructor import confine
from instructor.job import Job, Kit, Result, failure, grade
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

    def count(self, keys: list[str]) -> int:
        """How many times a worker died while running any of `keys`."""
        with self.lock:
            return sum(self.keys.get(key, 0) for key in keys)


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


def _died_every_time(job: Job) -> Result:
    return failure(
        job,
        Problem(
            Kind.WORKER_DIED,
            detail=" on every try: the submission kills the process that grades it",
        ),
    )


class _Feed:
    """The jobs of one run on one client: each assignment's kit scattered once, jobs submitted
    one at a time as workers free up, and each finished future turned into a `Result`."""

    def __init__(self, client, jobs: Iterator[Job], kits: Mapping[str, Kit], limit: float):
        from distributed import as_completed

        self.client, self.pending, self.kits, self.limit = client, iter(jobs), kits, limit
        self.run_id = f"{time.time_ns():x}"
        self.sent: dict = {}  # assignment -> the future of its kit on the cluster
        self.in_flight: dict = {}  # future -> (job, the future of the kit it was sent with)
        self.keys: dict[tuple[str, str], list[str]] = {}  # the keys a job in flight ran under
        self.finished = as_completed(loop=client.loop)
        self.deaths = _Deaths()
        client.subscribe_topic("all", self.deaths)

    def kit_of(self, assignment: str):
        """The future of the assignment's kit, scattered now if it never was or was lost."""
        if assignment not in self.sent or self.sent[assignment].status != "finished":
            self.sent[assignment] = self.client.scatter(self.kits[assignment], hash=False)
        return self.sent[assignment]

    def submit(self, job: Job) -> None:
        tries = self.keys.setdefault((job.assignment, job.student), [])
        key = f"grade-{job.assignment}-{job.student}-{self.run_id}-{len(tries)}"
        kit = self.kit_of(job.assignment)
        future = self.client.submit(grade, job, kit, self.limit, key=key, pure=False)
        tries.append(key)
        self.in_flight[future] = job, kit
        self.finished.add(future)

    def submit_next(self) -> None:
        job = next(self.pending, None)
        if job is not None:
            self.submit(job)

    def outcome(self, future) -> Result | None:
        """The result of a finished future's job, or None when the job was submitted again
        because its kit was lost with every worker that held it."""
        from distributed import KilledWorker
        from distributed.client import FutureCancelledError

        job, kit = self.in_flight.pop(future)
        try:
            result = future.result()
        except KilledWorker:
            result = _died_every_time(job)
        except FutureCancelledError as error:
            died = self.deaths.count(self.keys[job.assignment, job.student])
            if kit.status != "finished" and died < MAX_TRIES:
                self.submit(job)  # with the kit sent again (the first job back sends it)
                return None
            result = (
                _died_every_time(job)
                if died >= MAX_TRIES
                else failure(job, Problem(Kind.GRADER_FAULT, detail=f"{error}"[:300]))
            )
        except Exception as error:  # a fault of the tooling: this student only
            result = failure(job, Problem(Kind.GRADER_FAULT, detail=f"{error!r}"[:300]))
        died = self.deaths.count(self.keys.pop((job.assignment, job.student)))
        if died and not result.failed:
            result.problems.append(
                Problem(
                    Kind.WORKER_DIED,
                    detail=f" while grading it ({died} time(s)); it was graded again",
                )
            )
        result.digest = result.digest or job.digest
        return result


def run(
    jobs: Iterator[Job],
    kits: Mapping[str, Kit],
    count: int,
    on_result: Callable[[Result, list[str]], None],
    *,
    on_idle: Callable[[], None] | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    limit: float = 600.0,
    tmpdir: str | None = None,
    logs: Path | None = None,
) -> None:
    """Grade `count` jobs on dask, each with the kit of its assignment (`kits`); call
    on_result(result, others) in this thread as each one finishes, `others` naming the students
    whose jobs are in flight at that moment, and on_idle() whenever no other result is waiting."""
    import dask
    from distributed import Client

    settings = {"distributed.scheduler.allowed-failures": MAX_TRIES - 1}
    if not scheduler:  # our own cluster: every worker keeps the copy of a kit it fetched
        settings["distributed.scheduler.active-memory-manager.start"] = False
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
            feed = _Feed(client, jobs, kits, limit)
            for _ in range(max(1, sum(client.nthreads().values()) or 1)):
                feed.submit_next()
            for future in feed.finished:
                result = feed.outcome(future)
                future.release()
                if result is None:
                    continue
                others = [j.student for j, _ in feed.in_flight.values()]
                feed.submit_next()  # the freed worker gets its next job before this is recorded
                on_result(result, others)
                if on_idle is not None and not feed.finished.has_ready():
                    on_idle()
        finally:
            client.unsubscribe_topic("all")
            client.close()
            if cluster is not None:
                cluster.close()
