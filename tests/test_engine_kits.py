"""The engine sends each assignment's kit to the workers once per run, not in every job, and
sends it again when a worker's death loses every copy (a cluster of one worker with two threads,
one of whose jobs kills it once: the other job in flight loses its kit too). Grading itself is
faked (tests/engine_fake.py): this is about the engine."""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import engine_fake
import pytest
from distributed import Client, LocalCluster

from instructor import engine
from instructor.job import Job, Kit
from instructor.problems import Kind

pytestmark = pytest.mark.slow
GRADEBOOK = b"g" * 100_000


def _kits() -> dict[str, Kit]:
    return {a: Kit(a, {f"{a}.ipynb": b"{}"}, "c = get_config()\n", GRADEBOOK) for a in ("a1", "a2")}


def _run(students: list[str], tmp_path: Path, monkeypatch) -> tuple[list, list]:
    """Grade every student's a1 and a2 on one worker with two threads; return (results, kits
    scattered)."""
    tests = str(Path(__file__).resolve().parent)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [tests, os.environ.get("PYTHONPATH")]))
    )
    monkeypatch.setenv("ENGINE_FAKE_DIR", str(tmp_path))
    jobs = [Job(a, s, {f"{a}.ipynb": s.encode()}, digest=s) for a in ("a1", "a2") for s in students]
    results, scattered = [], []
    scatter = Client.scatter

    def counted(client, data, *args, **kwargs):
        scattered.append(data)
        return scatter(client, data, *args, **kwargs)

    with (
        mock.patch.object(engine, "grade", engine_fake.grade),
        mock.patch.object(Client, "scatter", counted),
        LocalCluster(n_workers=1, threads_per_worker=2, dashboard_address=None) as cluster,
    ):
        engine.run(
            iter(jobs),
            _kits(),
            len(jobs),
            lambda r, o: results.append(r),
            scheduler=cluster.scheduler_address,
        )
    return results, scattered


def test_each_kit_goes_once_and_every_job_gets_its_own(tmp_path, monkeypatch):
    results, scattered = _run(["s1", "s2", "s3"], tmp_path, monkeypatch)
    assert sorted((r.assignment, r.student) for r in results) == [
        (a, s) for a in ("a1", "a2") for s in ("s1", "s2", "s3")
    ]
    assert [k.assignment for k in scattered] == ["a1", "a2"], "a kit was sent more than once"
    for r in results:
        assert r.log == f"{r.assignment} {len(GRADEBOOK)}", f"{r.student} got the wrong kit"
        assert not r.problems and r.digest == r.student


def test_a_kit_lost_with_its_only_worker_is_sent_again(tmp_path, monkeypatch):
    results, scattered = _run(["dies_once", "s1"], tmp_path, monkeypatch)
    graded = {(r.assignment, r.student): r for r in results}
    assert sorted(graded) == [(a, s) for a in ("a1", "a2") for s in ("dies_once", "s1")], graded
    assert len(scattered) > 2, "the lost kit was not sent again"
    for r in results:  # the job running beside "dies_once" may have died with it: graded again
        assert not r.failed and r.log == f"{r.assignment} {len(GRADEBOOK)}", r
    for assignment in ("a1", "a2"):
        assert any(p.kind is Kind.WORKER_DIED for p in graded[assignment, "dies_once"].problems), (
            graded[assignment, "dies_once"]
        )
