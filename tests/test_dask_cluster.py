"""Grading on a real dask cluster: a `dask scheduler` and two `dask worker` processes on
127.0.0.1 (separate processes, as on a cluster), through `rnn-course autograde --scheduler`.
A worker killed while it grades, and a submission that kills its worker on every try."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

import course_tools
from instructor.coordinator.engine import STARTS_TOPIC

pytestmark = pytest.mark.slow
ASSIGNMENT = "01_bptt"
HERE = Path(__file__).resolve().parent


class Cluster:
    """A scheduler and two nanny-managed workers, each its own process tree."""

    def __init__(self, folder: Path):
        self.file = folder / "scheduler.json"
        env = {
            **os.environ,
            "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1",
            "DASK_TEMPORARY_DIRECTORY": str(folder),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
        }
        dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
        self.processes = [
            subprocess.Popen(
                [
                    *dask,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--no-dashboard",
                    "--scheduler-file",
                    str(self.file),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        ]
        deadline = time.monotonic() + 60
        while not self.file.exists():
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.2)
        self.address = json.loads(self.file.read_text())["address"]
        for name in ("one", "two"):
            self.processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "distributed.cli.dask_worker",
                        self.address,
                        "--nthreads",
                        "1",
                        "--nworkers",
                        "1",
                        "--name",
                        name,
                        "--no-dashboard",
                        "--preload",
                        "dask_preload",
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        from distributed import Client

        self.client = Client(self.address, timeout=60)
        self.client.wait_for_workers(2, timeout=120)
        self.starts: list[dict] = []  # the jobs' announcements, as they come
        self.client.subscribe_topic(STARTS_TOPIC, lambda event: self.starts.append(event[1]))

    def busy_worker_pid(self, timeout: float = 180) -> int:
        """The pid of a worker process that is grading right now: the first one a job
        announced it started on (`instructor.coordinator.engine.STARTS_TOPIC`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.starts:  # the worker by the addresses a job names it (see engine)
                known = self.client.scheduler_info()["workers"]
                worker = next(name for name in self.starts[0]["worker"] if name in known)
                return self.client.run(os.getpid, workers=[worker])[worker]
            time.sleep(0.1)
        raise AssertionError("no worker started grading")

    def close(self) -> None:
        self.client.close()
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()


@pytest.fixture()
def cluster(tmp_path):
    found = Cluster(tmp_path)
    yield found
    found.close()


def _course(tmp_path: Path, students: dict[str, str]) -> Path:
    """A course with notebook 01 submitted by each student: "solved", "untouched" or "slow"."""
    root = course_tools.copy_course(tmp_path / "course")
    course_tools.generate_release(root, [ASSIGNMENT])
    solution = course_tools.read(course_tools.notebook_path(root / "solutions", ASSIGNMENT))
    release = course_tools.read(course_tools.notebook_path(root / "notebooks", ASSIGNMENT))
    for student, kind in students.items():
        nb = course_tools.make_submission(release, solution, solved=kind != "untouched")
        if kind == "slow":
            nb.cells.insert(3, nbformat.v4.new_code_cell("import time\ntime.sleep(12)"))
        course_tools.submit(root, ASSIGNMENT, student, nb)
    return root


def _autograde(root: Path, address: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "instructor.cli",
            "--root",
            str(root),
            "autograde",
            "--scheduler",
            address,
            "-q",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _grades(root: Path) -> dict[str, float]:
    with sqlite3.connect(root / "gradebook.db") as db:
        rows = db.execute(
            "select student_id, count(*) from submitted_assignment group by student_id"
        ).fetchall()
    assert all(count == 1 for _, count in rows), rows
    return {
        student: sum(course_tools.cell_scores(root, ASSIGNMENT, student).values())
        for student, _ in rows
    }


def test_a_worker_killed_while_grading_loses_no_grade(cluster, tmp_path):
    students = {
        "solved_a": "slow",
        "solved_b": "slow",
        "solved_c": "solved",
        "untouched": "untouched",
    }
    root = _course(tmp_path, students)
    run = _autograde(root, cluster.address)
    os.kill(cluster.busy_worker_pid(), signal.SIGKILL)
    out, err = run.communicate(timeout=900)
    assert run.returncode == 0, err[-3000:]
    assert _grades(root) == {"solved_a": 15, "solved_b": 15, "solved_c": 15, "untouched": 0}
    assert "the grading process died while grading it (1 time(s)); it was graded again" in out, out


def test_a_submission_that_kills_its_worker_fails_alone(cluster, tmp_path):
    root = _course(
        tmp_path, {"kills_its_worker": "solved", "solved_a": "solved", "solved_b": "solved"}
    )
    run = _autograde(root, cluster.address)
    out, err = run.communicate(timeout=900)
    assert run.returncode == 0, err[-3000:]
    assert _grades(root) == {"kills_its_worker": 0, "solved_a": 15, "solved_b": 15}
    line = next(line for line in out.splitlines() if "/kills_its_worker:" in line)
    assert "the grading process died on every try" in line, out
