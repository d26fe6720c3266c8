"""A coordinator killed with SIGKILL in the middle of a class run: nothing it started survives,
and a run resumed at once gives every student exactly one, correct grade."""

from __future__ import annotations

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

pytestmark = pytest.mark.slow
ASSIGNMENT = "01_bptt"
STUDENTS = ("solved_a", "solved_b", "untouched", "slow")


def _process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, start time) of every process on the machine."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # gone between the listing and the read
            continue
        table[int(entry.name)] = (int(fields[1]), fields[19])
    return table


def _descendants(root_pid: int) -> set[tuple[int, str]]:
    """(pid, start time) of every process below root_pid."""
    table = _process_table()
    found, frontier = set(), {root_pid}
    while frontier:
        children = {pid for pid, (parent, _) in table.items() if parent in frontier}
        found |= {(pid, table[pid][1]) for pid in children}
        frontier = children
    return found


def _cmdline(pid: int) -> str:
    """The command line of pid, or "?" once it has exited (it may exit while being read)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
    except OSError:
        return "?"


def _alive(processes: set[tuple[int, str]]) -> set[tuple[int, str]]:
    table = _process_table()
    return {(pid, start) for pid, start in processes if table.get(pid, (0, ""))[1] == start}


def _autograde(root: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "instructor.cli",
        "--root",
        str(root),
        "autograde",
        "-j",
        "2",
        "-q",
    ]


def test_a_killed_coordinator_leaves_nothing_behind_and_the_resumed_run_grades_once(tmp_path):
    root = course_tools.copy_course(tmp_path / "course")
    course_tools.generate_release(root, [ASSIGNMENT])
    solution = course_tools.read(course_tools.notebook_path(root / "solutions", ASSIGNMENT))
    release = course_tools.read(course_tools.notebook_path(root / "notebooks", ASSIGNMENT))
    for student in STUDENTS:
        nb = course_tools.make_submission(release, solution, solved=student != "untouched")
        if student == "slow":  # keeps a kernel busy while the coordinator is killed
            nb.cells.insert(3, nbformat.v4.new_code_cell("import time\ntime.sleep(15)"))
        course_tools.submit(root, ASSIGNMENT, student, nb)
    run = subprocess.Popen(_autograde(root), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    started: set[tuple[int, str]] = set()
    while time.monotonic() < deadline:  # wait until kernels and sandboxes are running
        started |= _descendants(run.pid)
        kernels = [pid for pid, _ in started if "ipykernel" in _cmdline(pid)]
        if len(kernels) >= 2:
            break
        time.sleep(0.2)
    else:
        pytest.fail("the run never started two kernels")
    started |= _descendants(run.pid)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    resumed = subprocess.run(_autograde(root), capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    time.sleep(1)
    survivors = _alive(started)
    assert not survivors, "still running after the run was killed: " + "; ".join(
        f"{pid}: {_cmdline(pid)}" for pid, _ in survivors
    )
    with sqlite3.connect(root / "gradebook.db") as db:
        rows = db.execute(
            "select student_id, count(*) from submitted_assignment group by student_id"
        ).fetchall()
    assert sorted(rows) == sorted((s, 1) for s in STUDENTS)
    full = sum(course_tools.grade_cells(solution).values())
    for student in STUDENTS:
        got = sum(course_tools.cell_scores(root, ASSIGNMENT, student).values())
        assert got == (0 if student == "untouched" else full), f"{student}: {got}"
