"""The engine sends each assignment's kit to the workers once per run, not in every job, and
sends it again when a worker's death loses every copy (a LocalCluster of one worker whose job
kills it once). Grading itself is faked (tests/engine_fake.py): this is about the engine."""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import engine_fake
import pytest
from distributed import Client

from instructor import engine
from instructor.job import Job, Kit
from instructor.problems import Kind

pytestmark = pytest.mark.slow
GRADEBOOK = b"g" * 100_000


def _kits() -> dict[str, Kit]:
    return {a: Kit(a, {f"{a}.ipynb": b"{}"}, "c = get_config()\n", GRADEBOOK) for a in ("a1", "a2")}


def _run(students: list[str], tmp_path: Path, monkeypatch) -> tuple[list, list]:
    """Grade every student's a1 and a2 on one worker; return (results, kits scattered)."""
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
    ):
        engine.run(iter(jobs), _kits(), len(jobs), lambda r, o: results.append(r), workers=1)
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
    graded = sorted((r.assignment, r.student) for r in results)
    assert graded == [(a, s) for a in ("a1", "a2") for s in ("dies_once", "s1")], graded
    assert len(scattered) > 2, "the lost kit was not sent again"
    for r in results:
        assert not r.failed and r.log == f"{r.assignment} {len(GRADEBOOK)}", r
        died = [p for p in r.problems if p.kind is Kind.WORKER_DIED]
        assert bool(died) == (r.student == "dies_once"), (r.student, r.problems)
