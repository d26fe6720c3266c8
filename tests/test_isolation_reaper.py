"""After each job, the grader verifies that no process of it survives
(`instructor.infrastructure.reaper`), and ends any that did: where there is no PID namespace
(confine's fallback modes), a process that left its session and cleared its parent-death signal used
to run on, re-parented to init.

Each scenario runs in a fresh Python process (the check makes its process a child subreaper,
which pytest's own process should not become), as the fallback mode where orphans can happen.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid

import course_tools

SCENARIO = """
import ctypes, json, os, sys, time
from instructor.infrastructure import confine, reaper

# The fallback where student code has no PID namespace: root switches it to nobody.
confine.mode = lambda: confine.Mode.NOBODY if os.geteuid() == 0 else confine.Mode.NONE
marker = sys.argv[1]

def escapes():
    # student code without a namespace: a grandchild leaves its session, clears its
    # parent-death signal and outlives its parent
    pid = os.fork()
    if pid == 0:
        if os.fork() == 0:
            os.setsid()
            libc = ctypes.CDLL(None)
            libc.prctl(1, 0, 0, 0, 0)
            libc.prctl(15, marker.encode(), 0, 0, 0)
            if os.geteuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            while True:
                time.sleep(0.1)
        os._exit(0)
    os.waitpid(pid, 0)
    time.sleep(0.3)

def leaves_a_launcher():
    # a confined tree's launcher the job never stopped
    pid = os.fork()
    if pid == 0:
        ctypes.CDLL(None).prctl(15, marker.encode(), 0, 0, 0)
        while True:
            time.sleep(0.1)
    reaper.launched(pid)

def tidy():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    reaper.launched(pid)
    os.waitpid(pid, 0)

problems = []
reaper.run_job({name}, problems)
print(json.dumps([p.to_json() for p in problems]))
"""


def _run(scenario: str) -> tuple[list[dict], list[int]]:
    """The problems the check reported, and the scenario's processes still running."""
    marker = f"rpr{uuid.uuid4().hex[:8]}"
    try:
        done = subprocess.run(
            [sys.executable, "-c", SCENARIO.replace("{name}", scenario), marker],
            capture_output=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        return json.loads(done.stdout.decode().splitlines()[-1]), course_tools.live_processes_named(
            marker
        )
    finally:
        for pid in course_tools.live_processes_named(marker):
            os.kill(pid, signal.SIGKILL)


def test_a_process_that_escaped_its_parent_is_found_stopped_and_reported():
    problems, left = _run("escapes")
    assert left == [], "a process of the job outlived it"
    assert [p["kind"] for p in problems] == ["PROCESS_SURVIVED"], problems
    assert problems[0]["detail"] == "1 process"


def test_a_launcher_still_running_after_the_job_is_stopped_and_reported():
    problems, left = _run("leaves_a_launcher")
    assert left == [] and [p["kind"] for p in problems] == ["PROCESS_SURVIVED"], problems


def test_a_job_that_ends_its_processes_gets_no_report():
    assert _run("tidy") == ([], [])
