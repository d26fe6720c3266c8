"""The engine sends each assignment's kit to the cluster once per run, as a worker plugin the
scheduler keeps, never inside a job (a kit held by one worker would draw every job to it, and
its deaths would count against them all); a worker that dies and restarts gets the kits again;
and a job that kills every worker it runs on fails alone. Grading itself is faked
(tests/engine_fake.py): this is about the engine."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from unittest import mock

import dask
import engine_fake
import pytest
from distributed import Client, LocalCluster

from instructor.coordinator import engine
from instructor.coordinator.job import Job, Kit
from instructor.records.problems import Kind

pytestmark = pytest.mark.slow
GRADEBOOK = b"g" * 100_000


def _kits() -> dict[str, Kit]:
    return {a: Kit(a, {f"{a}.ipynb": b"{}"}, "c = get_config()\n", GRADEBOOK) for a in ("a1", "a2")}


def _run(
    students: list[str], tmp_path: Path, monkeypatch, workers: int, threads: int
) -> tuple[list, list, list]:
    """Grade every student's a1 and a2 on `workers` workers of `threads` threads each; return
    (results, the plugins registered, the arguments of every task submitted)."""
    tests = str(Path(__file__).resolve().parent)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [tests, os.environ.get("PYTHONPATH")]))
    )
    monkeypatch.setenv("ENGINE_FAKE_DIR", str(tmp_path))
    jobs = [Job(a, s, {f"{a}.ipynb": s.encode()}, digest=s) for a in ("a1", "a2") for s in students]
    results, plugins, submitted = [], [], []
    register, submit = Client.register_plugin, Client.submit

    def registered(client, plugin, *args, **kwargs):
        plugins.append(plugin)
        return register(client, plugin, *args, **kwargs)

    def sent(client, function, *args, **kwargs):
        submitted.append(args)
        return submit(client, function, *args, **kwargs)

    with (
        mock.patch.object(engine, "grade", engine_fake.grade),
        mock.patch.object(Client, "register_plugin", registered),
        mock.patch.object(Client, "submit", sent),
        LocalCluster(
            n_workers=workers, threads_per_worker=threads, dashboard_address=None
        ) as cluster,
    ):
        engine.run(
            iter(jobs),
            _kits(),
            len(jobs),
            lambda r, o: results.append(r),
            scheduler=cluster.scheduler_address,
        )
        assert not any(
            name.startswith(engine.SHELF_PREFIX) for name in cluster.scheduler.worker_plugins
        ), "the run left its kits on the cluster"
    return results, plugins, submitted


def _log(result) -> tuple[str, int, int]:
    """(the kit's assignment, its gradebook's size, the worker's pid) from a fake result."""
    assignment, size, pid, _, _ = result.log.split()
    return assignment, int(size), int(pid)


def _span(result) -> tuple[float, float]:
    """When a fake result's job started and ended."""
    started, ended = result.log.split()[3:]
    return float(started), float(ended)


def test_each_kit_goes_once_and_every_job_gets_its_own(tmp_path, monkeypatch):
    results, plugins, submitted = _run(["s1", "s2", "s3"], tmp_path, monkeypatch, 1, 2)
    assert sorted((r.assignment, r.student) for r in results) == [
        (a, s) for a in ("a1", "a2") for s in ("s1", "s2", "s3")
    ]
    shelves = [p for p in plugins if hasattr(p, "kits")]
    assert len(shelves) == 1 and sorted(shelves[0].kits) == ["a1", "a2"], plugins
    assert len(submitted) == 6
    assert not any(isinstance(arg, Kit) for args in submitted for arg in args), (
        "a job carried its kit"
    )
    for r in results:
        assert _log(r)[:2] == (r.assignment, len(GRADEBOOK)), f"{r.student} got the wrong kit"
        assert not r.problems and r.digest == r.student


def test_a_job_that_kills_every_worker_it_meets_fails_alone(tmp_path, monkeypatch):
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        results, _, _ = _run(["kills_always", "s1", "s2"], tmp_path, monkeypatch, 2, 1)
    graded = {(r.assignment, r.student): r for r in results}
    assert len(graded) == 6, graded
    for (_, student), r in graded.items():
        if student == "kills_always":
            assert r.failed and not r.ungraded, r
            assert [p.kind for p in r.problems] == [Kind.WORKER_DIED], r
            assert "on every try" in r.problems[0].detail, r
        else:
            assert not r.failed, f"{student} failed beside a job that kills its worker: {r}"


def test_a_worker_that_dies_gets_the_kits_again(tmp_path, monkeypatch):
    results, _, _ = _run(["dies_once", "s1"], tmp_path, monkeypatch, 1, 2)
    graded = {(r.assignment, r.student): r for r in results}
    assert sorted(graded) == [(a, s) for a in ("a1", "a2") for s in ("dies_once", "s1")], graded
    assert len({_log(r)[2] for r in results}) > 1, "the only worker never restarted"
    for r in results:  # the job running beside "dies_once" may have died with it: graded again
        assert not r.failed and _log(r)[:2] == (r.assignment, len(GRADEBOOK)), r
    for assignment in ("a1", "a2"):
        assert any(p.kind is Kind.WORKER_DIED for p in graded[assignment, "dies_once"].problems), (
            graded[assignment, "dies_once"]
        )


def test_workers_that_join_during_a_run_get_jobs_at_once(tmp_path, monkeypatch):
    """A cluster with no worker when the run starts (as when a batch system starts them later):
    workers that join get jobs while the first job still runs. Each of the two jobs waits (10 s
    at most) until the other has started: counting the threads once, at the start, or only when
    a job ends, runs them one after the other."""
    tests = str(Path(__file__).resolve().parent)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [tests, os.environ.get("PYTHONPATH")]))
    )
    monkeypatch.setenv("ENGINE_FAKE_DIR", str(tmp_path))
    jobs = [Job("a1", f"together{n}", {}, digest=str(n)) for n in range(2)]
    results: list = []
    with (
        mock.patch.object(engine, "grade", engine_fake.grade),
        LocalCluster(n_workers=0, threads_per_worker=1, dashboard_address=None) as cluster,
    ):
        run = threading.Thread(
            target=engine.run,
            args=(iter(jobs), _kits(), len(jobs), lambda r, o: results.append(r)),
            kwargs={"scheduler": cluster.scheduler_address},
            daemon=True,
        )
        run.start()
        time.sleep(1.0)  # the run waits for a worker, with one job submitted
        cluster.scale(2)
        run.join(timeout=120)
        assert not run.is_alive(), "the run never ended"
    assert sorted(r.student for r in results) == ["together0", "together1"], results
    assert not any(r.problems for r in results), results
    first, second = sorted(_span(r) for r in results)
    assert second[0] < first[1], f"the jobs ran one after the other: {first}, {second}"


def test_a_job_queued_behind_a_killer_is_graded_again(tmp_path, monkeypatch):
    """On one worker with one thread, both jobs are assigned to it at once, the killer first:
    dask (allowed no failure) gives up on the innocent job at the first death, and the engine,
    knowing it never ran, grades it again."""
    tests = str(Path(__file__).resolve().parent)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [tests, os.environ.get("PYTHONPATH")]))
    )
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
        mock.patch.object(engine, "grade", engine_fake.grade),
    ):
        client.register_plugin(engine._shelf("shelf", _kits()))
        feed = engine._Feed(client, iter([]), "shelf", "run", limit=60.0)
        for student in ("kills_always", "s1"):
            feed.submit(Job("a1", student, {}, digest=student))
        killer_keys = feed.keys["a1", "kills_always"]
        results = {}
        while (future := feed.next_finished()) is not None:
            result = feed.outcome(future)
            if result is not None:
                results[result.student] = result
        feed.close()
    killer, innocent = results["kills_always"], results["s1"]
    # dask gives up on each key at its first death: the killer ran alone at both
    assert len(killer_keys) == 2, killer_keys
    assert killer.failed and "on every try" in killer.problems[0].detail, killer
    assert not innocent.failed and _log(innocent)[:2] == ("a1", len(GRADEBOOK)), innocent
    assert [p.kind for p in innocent.problems] == [Kind.WORKER_DIED], innocent
    assert "while it waited its turn" in innocent.problems[0].detail, innocent


def _start(key: str, *names: str, run: str = "run") -> tuple:
    """A job's announcement: its key, and the worker by its addresses."""
    return (0.0, {"run": run, "key": key, "worker": list(names)})


def _removed(worker: str, keys: list[str], expected: bool = False) -> tuple:
    return (
        0.0,
        {
            "action": "remove-worker",
            "worker": worker,
            "processing-tasks": keys,
            "expected": expected,
        },
    )


def test_deaths_count_against_the_job_running_alone_apart_from_the_others():
    tries = engine._Tries("run")
    tries.started(_start("a", "tcp://w1"))
    tries.removed(_removed("tcp://w1", ["a", "b"]))  # a ran, b waited
    tries.started(_start("b", "tcp://host-2:4", "tcp://w2"))  # as registered, and resolved
    assert tries.count(["b"], last=("b", "tcp://w2")) == (1, 1), "the pending death"
    assert tries.count(["a"], last=("a", "tcp://w1")) == (1, 0), "a death counted twice"
    tries.removed(_removed("tcp://w2", ["a", "b"]))  # b ran, a waited
    tries.removed((0.0, {"action": "add-worker", "worker": "tcp://w3"}))
    assert tries.count(["a"]) == (1, 1) and tries.count(["b"]) == (1, 1)
    assert tries.count(["b"], last=("b", "tcp://w2")) == (1, 1), "a death counted twice"
    assert tries.count(["a", "b", "c"]) == (2, 2)
    tries.started(_start("x", "tcp://w5"))
    tries.forget(["x"])  # x's job is done: y runs alone on w5 afterwards
    tries.started(_start("y", "tcp://w5"))
    assert tries.count(["y"], last=("y", "tcp://w5")) == (1, 0)
    tries.removed(_removed("tcp://w5", ["y"]))
    assert tries.count(["y"]) == (1, 0), "a finished job still counted as running there"


def test_a_death_beside_other_running_jobs_or_on_purpose_blames_no_job():
    tries = engine._Tries("run")
    tries.started(_start("a", "tcp://w1"))
    tries.started(_start("b", "tcp://w1"))  # two threads: a and b run side by side
    tries.started(_start("c", "tcp://w2"))
    tries.started(_start("d", "tcp://w2", run="another run"))  # not this run's: ignored
    assert tries.count(["a"], last=("a", "tcp://w1")) == (0, 1)
    tries.removed(_removed("tcp://w1", ["a", "b"]))
    assert tries.count(["a"]) == tries.count(["b"]) == (0, 1)
    tries.removed(_removed("tcp://w2", ["c"], expected=True))  # retired, not dead
    assert tries.count(["c"], last=("c", "tcp://w2")) == (0, 0)
    # a worker at the same address again; c is assigned to it and waits, d is another run's
    tries.removed(_removed("tcp://w2", ["c", "d"]))
    assert tries.count(["c"]) == (0, 1) and tries.count(["d"]) == (0, 1)


class _Killed:
    """A finished future whose task dask gave up on (KilledWorker), last on `worker`."""

    def __init__(self, key: str, worker: str):
        self.key, self.worker = key, worker

    def result(self):
        from distributed import KilledWorker

        raise KilledWorker(self.key, mock.Mock(address=self.worker), 0)


def _feed() -> engine._Feed:
    """A `_Feed` with no cluster behind it: submitting only names the next key."""
    feed = engine._Feed.__new__(engine._Feed)
    feed.run_id, feed.submitted, feed.in_flight, feed.keys = "run", 0, {}, {}
    feed.tries = engine._Tries("run")
    feed.submit = lambda job: (
        feed.keys.setdefault((job.assignment, job.student), []).append(f"k{feed.submitted}"),
        setattr(feed, "submitted", feed.submitted + 1),
    )
    return feed


def test_a_job_killed_beside_others_on_every_try_is_not_graded_and_not_failed():
    feed, job = _feed(), Job("a1", "s1", {}, digest="d")
    feed.submit(job)
    for n in range(engine.MAX_TRIES):
        key = f"k{n}"
        feed.tries.started(_start(key, "tcp://w1"))
        feed.tries.started(_start(f"other{n}", "tcp://w1"))  # running beside it
        feed.in_flight[_Killed(key, "tcp://w1")] = job
        result = feed.outcome(next(iter(feed.in_flight)))  # before the death's event
        feed.tries.removed(_removed("tcp://w1", [key, f"other{n}"]))
        if n < engine.MAX_TRIES - 1:
            assert result is None and feed.submitted == n + 2, "not submitted again"
    assert result.failed and result.ungraded, result
    assert [p.kind for p in result.problems] == [Kind.WORKER_DIED]
    assert "not graded" in result.problems[0].detail, result


def test_a_job_killed_running_alone_twice_is_failed():
    feed, job = _feed(), Job("a1", "s1", {}, digest="d")
    feed.submit(job)
    for n in range(2):
        feed.tries.started(_start(f"k{n}", f"tcp://w{n}"))
        feed.in_flight[_Killed(f"k{n}", f"tcp://w{n}")] = job
        result = feed.outcome(next(iter(feed.in_flight)))  # before the death's event
        feed.tries.removed(_removed(f"tcp://w{n}", [f"k{n}"]))
    assert result.failed and not result.ungraded and feed.submitted == 2, result
    assert "on every try" in result.problems[0].detail
