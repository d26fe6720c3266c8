"""Every process of a job dies with the job, by construction.

The attack (issue 23): an exercise cell clears its parent-death signal, calls `setsid()` and
replaces `os._exit` with a loop; killing the sandbox's process group then missed it, and it ran
on after grading (uid nobody, parent pid 1). Now student code runs as pid 2 of a PID namespace
whose init is trusted (`confine._serve_as_init`): the init dies with the launcher the grader
kills, and the kernel then ends every process of the namespace, whatever they did to
themselves. The same for a kernel's launcher (`python -m instructor.infrastructure.confine`), which
jupyter stops by killing its process group. Each process under test names itself with a marker
(`PR_SET_NAME`) so that a survivor can be found, and is killed at the end whatever happens.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

import course_tools
from instructor.infrastructure import confine
from instructor.infrastructure.sandbox import Limits, Sandbox

needs_namespaces = pytest.mark.skipif(
    not confine.namespaces_available(), reason="a PID namespace of its own needs namespaces"
)

ESCAPES = """
import ctypes, os, time

_libc = ctypes.CDLL(None)

def _leave(marker):
    _libc.prctl(1, 0, 0, 0, 0)                   # no parent-death signal
    _libc.prctl(15, marker.encode(), 0, 0, 0)    # a name the test can find
    try:
        os.setsid()                              # out of the process group the grader kills
    except OSError:
        pass

def _forever(*args):
    while True:
        time.sleep(0.1)

_leave({marker!r})
os._exit = _forever                              # the sandbox's exit now loops

def daemon(marker):
    if os.fork() == 0:
        _leave(marker)
        _forever()
    return 1.0
"""


def _survivors(markers: list[str], wait: float = 3.0) -> list[int]:
    """The processes still carrying a marker after up to `wait` seconds (they die as the
    kernel tears the namespace down, which takes a moment)."""
    deadline = time.monotonic() + wait
    while True:
        found = [pid for marker in markers for pid in course_tools.live_processes_named(marker)]
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def _kill(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


@pytest.fixture()
def markers():
    made: list[str] = []
    yield made
    _kill(_survivors(made, wait=0))


@needs_namespaces
def test_a_sandbox_that_leaves_its_session_dies_with_the_sandbox(markers):
    markers += [f"esc{uuid.uuid4().hex[:8]}", f"dmn{uuid.uuid4().hex[:8]}"]
    cell = ESCAPES.format(marker=markers[0])
    scratch = confine.make_scratch()
    box = Sandbox("", [("student", cell)], Limits(setup_seconds=10, call_seconds=10), scratch)
    try:
        assert box.call("daemon", (markers[1],), {}) == 1.0
        assert len(_survivors(markers, wait=0)) == 2  # both run, out of the grader's group
    finally:
        box.close()
        confine.remove_scratch(scratch)
    assert _survivors(markers) == [], "a student's process outlived its sandbox"


@needs_namespaces
def test_a_kernel_that_leaves_its_session_dies_with_its_launcher(markers):
    markers += [f"ker{uuid.uuid4().hex[:8]}", f"kdm{uuid.uuid4().hex[:8]}"]
    code = (
        ESCAPES.format(marker=markers[0])
        + f"\ndaemon({markers[1]!r})\nopen('started', 'w').close()\n_forever()\n"
    )
    scratch = confine.make_scratch()
    launcher = subprocess.Popen(
        [sys.executable, "-m", "instructor.infrastructure.confine", "--scratch", scratch, "--"]
        + [sys.executable, "-c", code],
        start_new_session=True,  # as jupyter_client starts a kernel, and stops it
    )
    try:
        deadline = time.monotonic() + 60
        while len(_survivors(markers, wait=0)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(_survivors(markers, wait=0)) == 2, "the kernel's code did not start"
    finally:
        os.killpg(launcher.pid, signal.SIGKILL)
        launcher.wait()
        confine.remove_scratch(scratch)
    assert _survivors(markers) == [], "a kernel's process outlived its launcher"


@pytest.mark.skipif(os.geteuid() != 0, reason="the fallback to the nobody user is a root grader's")
def test_without_a_view_a_root_grader_still_ties_student_processes_to_their_launcher(markers):
    """`Mode.NOBODY` (root, but no private view here): PID and IPC namespaces alone where the
    machine allows them, with the same trusted init."""
    markers.append(f"nby{uuid.uuid4().hex[:8]}")
    read, write = os.pipe()
    launcher = os.fork()
    if launcher == 0:  # the launcher, as confine.main runs it for a kernel
        code = 1
        try:
            os.close(read)
            os.setsid()
            if confine._enter_process_namespaces():
                confine._become(confine._nobody())
                with open("/proc/sys/kernel/shmmax") as limit:
                    os.write(write, limit.read().encode())
                exec(ESCAPES.format(marker=markers[0]), {})
        finally:
            os._exit(code)
    os.close(write)
    try:
        seen = os.read(read, 100).decode().strip()
        if not seen:
            pytest.skip("this machine gives no PID namespace to a root grader either")
        assert seen == str(confine.IPC_SHM_BYTES)  # its own IPC namespace, capped
        deadline = time.monotonic() + 10
        while not _survivors(markers, wait=0) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _survivors(markers, wait=0), "the student's code did not start"
    finally:
        os.close(read)
        os.killpg(launcher, signal.SIGKILL)
        os.waitpid(launcher, 0)
    assert _survivors(markers) == [], "a student's process outlived its launcher"
