"""Grading jobs as tasks on dask.distributed.

With no scheduler address, `run` starts a LocalCluster on this machine (one single-threaded
worker process per core by default); with one (`tcp://HOST:PORT`), it grades on that cluster,
whose workers need the course's Python environment installed (`pip install` the course) and
nothing else: a `Job` and its assignment's `Kit` carry everything it grades (see
`instructor.coordinator.job`).

The kits of a run travel once, as a worker plugin (`KitShelf`) that the scheduler keeps and
hands to every worker, those running now and those that join or restart later; a task carries
one student's files in and one result out, and takes its kit from the shelf of the worker that
runs it. A task therefore depends on no data held by any one worker: the scheduler spreads the
jobs over all the workers (a scattered kit would draw every job to the worker holding it, so
that one death would count against each job queued there), and no worker's death loses a kit.

Faults are dask's to handle and ours to judge. A worker that dies mid-job has its job run again
on another worker (the result says so). Dask counts a death against every job assigned to the
dead worker, the one it was running and those queued behind it, and gives up on a job (its
task) after the scheduler's `allowed-failures` deaths plus one (`KilledWorker`; on our own
LocalCluster, `MAX_TRIES`). So each job announces to the scheduler that it starts, before any
student code runs, and the coordinator tells a job that was running alone on a dying worker
from the others (`_Tries`). When dask gives up on a submission's job, and over all its tries
the job was running alone at `GUILTY_DEATHS` or more deaths, the submission is failed: it kills
the process that grades it. Otherwise the job is submitted again under a new key, `MAX_TRIES`
keys in all; past that, and for any fault of the cluster or the tooling, the result is
`not_graded`: reported, not recorded, so the next run grades it. (Workers should have one
thread each: jobs running side by side on one worker cannot be told apart, and neither is
blamed.) A job that runs past the per-student limit stops its own kernels and sandboxes and
reports it.

As many jobs as the cluster has threads are in flight, counted again whenever a worker joins
or leaves (so workers that join during a run, as a batch system starts them, get jobs at once),
so the next job is read from disk only when a worker is free for it, and it is sent before the
coordinator records the result that freed it.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from instructor.coordinator.grade_job import grade, warm_up
from instructor.coordinator.job import Job, Kit, Result, failure, not_graded
from instructor.infrastructure import confine
from instructor.records.problems import Kind, Problem

# Keys (tries) of one job at most, and the deaths dask allows a key on our own LocalCluster.
MAX_TRIES = 3
# Deaths of the worker running a submission's job that make them the submission's doing.
GUILTY_DEATHS = 2
PLUGIN_NAME = "rnn-course-grading"
SHELF_PREFIX = "rnn-course-kits-"  # + the run's id: runs sharing a cluster keep their own kits
STARTS_TOPIC = "rnn-course-starts"  # the scheduler's topic of the jobs' announcements
RECOUNT_SECONDS = 2.0  # of waiting for a result, after which the cluster's threads are counted


def _plugin(threads: int, tmpdir: str | None, logs: str | None):
    from distributed import WorkerPlugin

    class GradingWorker(WorkerPlugin):
        """Prepares each worker once: thread caps, temporary folder, chatter to a log, the
        heavy imports (`instructor.coordinator.worker.worker_setup`)."""

        name = PLUGIN_NAME

        def setup(self, worker) -> None:
            from instructor.coordinator.worker import worker_setup

            chatter = Path(logs) / f"worker-{os.getpid()}.log" if logs else None
            worker_setup(threads, tmpdir, chatter)

    return GradingWorker()


def _shelf(name: str, kits: Mapping[str, Kit]):
    from distributed import WorkerPlugin

    class KitShelf(WorkerPlugin):
        """The kits of one run, by assignment, on every worker of the cluster; each worker
        gets ready to grade with them as they arrive (`grade_job.warm_up`)."""

        def __init__(self):
            self.name, self.kits = name, dict(kits)

        def setup(self, worker) -> None:
            for kit in self.kits.values():
                warm_up(kit)  # never raises: a failed head start is the job's to report

    return KitShelf()


def _grade_on_worker(
    grade_job: Callable, job: Job, shelf: str, run_id: str, limit: float
) -> Result:
    """Runs on a worker: announces on `STARTS_TOPIC` that this task of run `run_id` starts here
    (and waits until the scheduler has it), then `grade_job(job, kit, limit)` with the kit from
    the run's shelf. The worker is named by the address it registered with and by that address
    resolved, as `Scheduler.add_worker` names it (should the scheduler's host resolve it
    otherwise, no death is put down to this job)."""
    from distributed import get_worker
    from distributed.comm.addressing import resolve_address
    from distributed.utils import sync

    worker = get_worker()
    start = {
        "run": run_id,
        "key": worker.get_current_task(),
        "worker": sorted({worker.contact_address, resolve_address(worker.contact_address)}),
    }
    sync(worker.loop, worker.scheduler.log_event, topic=STARTS_TOPIC, msg=start)
    return grade_job(job, worker.plugins[shelf].kits[job.assignment], limit)


class _Tries:
    """For each task of one run, how many times the worker it was assigned to died while it ran
    there alone ("ran") and otherwise ("other": while it waited its turn, or ran beside other
    jobs, so that the death cannot be put down to it), from the jobs' announcements and the
    scheduler's events, which reach the coordinator in the order the scheduler logged them.
    A worker removed on purpose (`expected`, as when a cluster scales down) did not die."""

    def __init__(self, run_id: str):
        self.run_id = run_id
        self.running: dict[str, list[str]] = {}  # key -> the worker it started on, its names
        self.ran: dict[str, int] = {}
        self.other: dict[str, int] = {}
        self.lock = threading.Lock()

    def started(self, event: tuple) -> None:
        _, message = event
        if isinstance(message, dict) and message.get("run") == self.run_id:
            with self.lock:
                self.running[str(message["key"])] = list(message["worker"])

    def _running_on(self, worker: str) -> list[str]:
        return [key for key, names in self.running.items() if worker in names]

    def removed(self, event: tuple) -> None:
        _, message = event
        if not isinstance(message, dict) or message.get("action") != "remove-worker":
            return
        with self.lock:
            keys = [str(key) for key in message.get("processing-tasks", ())]
            on_it = self._running_on(message.get("worker"))
            for key in on_it:
                del self.running[key]  # whatever ran there stopped with it
            if message.get("expected"):
                return
            there = [key for key in on_it if key in keys]
            for key in keys:
                if there == [key]:
                    self.ran[key] = self.ran.get(key, 0) + 1
                else:
                    self.other[key] = self.other.get(key, 0) + 1

    def forget(self, keys: list[str]) -> None:
        """A job is done with `keys`: none of them runs anywhere now."""
        with self.lock:
            for key in keys:
                self.running.pop(key, None)

    def count(self, keys: list[str], last: tuple[str, str] | None = None) -> tuple[int, int]:
        """(deaths while running alone, other deaths) of the tasks `keys`, together. With
        `last`, (a key, the worker whose death made dask give up on it), that death counts too
        should its event not have come yet: dask reports the key before it logs the death."""
        with self.lock:
            ran = sum(self.ran.get(key, 0) for key in keys)
            other = sum(self.other.get(key, 0) for key in keys)
            if last is not None and last[0] in self._running_on(last[1]):
                if self._running_on(last[1]) == [last[0]]:
                    ran += 1
                else:
                    other += 1
            return ran, other


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


class _Feed:
    """The jobs of one run on one client: as many in flight as the cluster has threads, those
    of workers that join later included; each finished future turned into a `Result`, or
    submitted again when dask gave up on a job that was not running alone when its workers
    died."""

    def __init__(self, client, jobs: Iterator[Job], shelf: str, run_id: str, limit: float):
        self.client, self.pending, self.shelf, self.limit = client, iter(jobs), shelf, limit
        self.run_id, self.submitted = run_id, 0
        self.in_flight: dict = {}  # future -> job
        self.keys: dict[tuple[str, str], list[str]] = {}  # the keys a job in flight ran under
        # finished futures, as dask's callbacks put them, and None for "a worker joined or left"
        self.done: queue.SimpleQueue = queue.SimpleQueue()
        self.tries = _Tries(run_id)
        self.threads = 0  # the cluster's, when last counted
        self.workers_changed = threading.Event()  # since then
        self.workers_changed.set()
        client.subscribe_topic(STARTS_TOPIC, self.tries.started)
        client.subscribe_topic("all", self._cluster_event)

    def close(self) -> None:
        self.client.unsubscribe_topic("all")
        self.client.unsubscribe_topic(STARTS_TOPIC)

    def _cluster_event(self, event: tuple) -> None:
        """In the client's thread: a worker joined or left, so `next_finished` wakes up and
        `fill` counts the threads again."""
        self.tries.removed(event)
        _, message = event
        if isinstance(message, dict) and message.get("action") in ("add-worker", "remove-worker"):
            self.workers_changed.set()
            self.done.put(None)

    def fill(self) -> None:
        """Submit jobs until as many are in flight as the cluster has threads (one at least,
        which waits for a worker on a cluster that has none yet)."""
        if self.workers_changed.is_set():
            self.workers_changed.clear()
            self.threads = sum(self.client.nthreads().values())
        while len(self.in_flight) < max(1, self.threads) and self.submit_next():
            pass

    def next_finished(self):
        """The next finished future, or None once no job is in flight. While it waits, jobs
        go to workers that join; and every `RECOUNT_SECONDS` of waiting the threads are
        counted again anyway (a worker that joined as the run subscribed to the events)."""
        while self.in_flight:
            try:
                future = self.done.get(timeout=RECOUNT_SECONDS)
            except queue.Empty:
                self.workers_changed.set()
                future = None
            if future is None:
                self.fill()
            elif future in self.in_flight:
                return future
        return None

    def has_ready(self) -> bool:
        """Whether a finished future (or news of the workers) is waiting."""
        return not self.done.empty()

    def submit(self, job: Job) -> None:
        # a key of its own per try (a student's name could hold anything: it is not in it)
        key = f"grade-{self.run_id}-{self.submitted}"
        self.submitted += 1
        future = self.client.submit(
            _grade_on_worker, grade, job, self.shelf, self.run_id, self.limit, key=key, pure=False
        )
        self.keys.setdefault((job.assignment, job.student), []).append(key)
        self.in_flight[future] = job
        future.add_done_callback(self.done.put)

    def submit_next(self) -> bool:
        """Submit the next job; False when none is left."""
        job = next(self.pending, None)
        if job is not None:
            self.submit(job)
        return job is not None

    def outcome(self, future) -> Result | None:
        """The result of a finished future's job, or None when it was submitted again."""
        from distributed import KilledWorker

        job = self.in_flight.pop(future)
        keys = self.keys[job.assignment, job.student]
        try:
            result = future.result()
        except KilledWorker as error:
            ran, other = self.tries.count(keys, last=(future.key, error.last_worker.address))
            if ran >= GUILTY_DEATHS:
                result = failure(
                    job,
                    Problem(
                        Kind.WORKER_DIED,
                        detail=" on every try: the submission kills the process that grades it",
                    ),
                )
            elif len(keys) < MAX_TRIES:
                self.submit(job)  # it waited or ran beside others, or ran alone only once
                return None
            else:
                result = not_graded(
                    job,
                    Problem(
                        Kind.WORKER_DIED,
                        detail=f" {ran + other} times with this submission on it; it was not "
                        "graded and will be on the next run",
                    ),
                )
        except Exception as error:  # a fault of the cluster or the tooling, not the student's
            result = not_graded(job, Problem(Kind.GRADER_FAULT, detail=f"{error!r}"[:300]))
        del self.keys[job.assignment, job.student]
        self.tries.forget(keys)  # so that only jobs in flight count as running on a worker
        ran, other = self.tries.count(keys)
        for deaths, when in (
            (ran, "while grading it"),
            (other, "while it waited its turn or ran beside other jobs"),
        ):
            if deaths and not result.failed:
                result.problems.append(
                    Problem(
                        Kind.WORKER_DIED,
                        detail=f" {when} ({deaths} time(s)); it was graded again",
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
    if tmpdir and not scheduler:  # the local cluster's own files go with the run's folder
        settings["temporary-directory"] = tmpdir
    with dask.config.set(settings):
        cluster, threads = (None, 1) if scheduler else _cluster(max(1, min(workers, count)), tmpdir)
        client = Client(scheduler or cluster, set_as_default=False)
        run_id = f"{time.time_ns():x}-{os.getpid()}"
        shelf, feed = f"{SHELF_PREFIX}{run_id}", None
        try:
            client.register_plugin(
                _plugin(
                    threads,
                    None if scheduler else tmpdir,
                    None if scheduler else str(logs) if logs else None,
                )
            )
            client.register_plugin(_shelf(shelf, kits))
            feed = _Feed(client, jobs, shelf, run_id, limit)
            feed.fill()
            while (future := feed.next_finished()) is not None:
                result = feed.outcome(future)
                future.release()
                if result is None:
                    continue
                others = [j.student for j in feed.in_flight.values()]
                feed.fill()  # the freed worker gets its next job before this is recorded
                on_result(result, others)
                if on_idle is not None and not feed.has_ready():
                    on_idle()
        finally:
            if feed is not None:
                feed.close()
            if scheduler:  # a shared cluster keeps no kits of a finished run
                try:
                    client.unregister_worker_plugin(shelf)
                except Exception:  # the scheduler is gone: so is the shelf
                    pass
            client.close()
            if cluster is not None:
                cluster.close()
