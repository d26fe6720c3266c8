"""Nothing a job creates in System V or POSIX IPC is visible to another job or outlives it, and
what it may hold there is bounded.

Before, sandboxes and kernels shared the machine's IPC namespace (and all student code runs as
the same `nobody`): a segment one submission made was there for the next one's code to read, and
outlived every process, holding memory. Now each confined process tree has an IPC namespace of
its own (`confine._enter_namespaces`), capped at `confine.IPC_LIMITS`, gone when the tree ends.
Only a few MB are ever used here.
"""

from __future__ import annotations

import ctypes
import errno
import os
import subprocess
import sys

import pytest

from instructor.infrastructure import confine
from instructor.infrastructure.sandbox import Limits, Sandbox

pytestmark = pytest.mark.skipif(
    not confine.namespaces_available(), reason="an IPC namespace of its own needs namespaces"
)

IPC = """
import ctypes, os

_libc = ctypes.CDLL(None, use_errno=True)
_libc.shmat.restype = ctypes.c_void_p
_libc.shmat.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_int)
_libc.shmdt.argtypes = (ctypes.c_void_p,)
_libc.mq_open.argtypes = (ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p)

def make_segment(key, size):
    shmid = _libc.shmget(key, size, 0o1000 | 0o666)
    if shmid < 0:
        return -ctypes.get_errno()
    address = _libc.shmat(shmid, None, 0)
    ctypes.memset(address, 1, size)   # the memory is really held
    _libc.shmdt(address)
    return shmid

def asks_for_segment(key, size):
    shmid = _libc.shmget(key, size, 0o1000 | 0o666)   # never touched: no memory used
    if shmid < 0:
        return -ctypes.get_errno()
    _libc.shmctl(shmid, 0, None)
    return shmid

def find_segment(key):
    shmid = _libc.shmget(key, 0, 0)
    return shmid if shmid >= 0 else -ctypes.get_errno()

def make_queue(name):
    fd = _libc.mq_open(name.encode(), os.O_CREAT | os.O_RDWR, 0o666, None)
    return fd if fd >= 0 else -ctypes.get_errno()

def shm_limit():
    return int(open("/proc/sys/kernel/shmmax").read())

def find_queue(name):
    fd = _libc.mq_open(name.encode(), os.O_RDWR, 0, None)
    return fd if fd >= 0 else -ctypes.get_errno()
"""
KEY = 0x52_4E_43_01  # "RNC" 1
QUEUE = "/rnn-course-isolation-test"
_libc = ctypes.CDLL(None, use_errno=True)
_libc.mq_unlink.argtypes = (ctypes.c_char_p,)


def _host_segment(key: int) -> int:
    """The id of the segment `key` in this (the grader's) IPC namespace, or -errno."""
    shmid = _libc.shmget(key, 0, 0)
    return shmid if shmid >= 0 else -ctypes.get_errno()


def _remove_leftovers() -> None:
    """What the old code left in the grader's namespace (so a failing run cleans up)."""
    for key in (KEY, KEY + 1):
        shmid = _host_segment(key)
        if shmid >= 0:
            _libc.shmctl(shmid, 0, None)  # IPC_RMID
    _libc.mq_unlink(QUEUE.encode())


def _sandbox() -> Sandbox:
    scratch = confine.make_scratch()
    box = Sandbox("", [("student", IPC)], Limits(setup_seconds=10, call_seconds=10), scratch)
    box.start()
    return box


@pytest.fixture()
def two_jobs():
    boxes = [_sandbox(), _sandbox()]
    try:
        yield boxes
    finally:
        for box in boxes:
            box.close()
            confine.remove_scratch(box.scratch)
        _remove_leftovers()


def test_a_segment_and_a_queue_are_seen_by_no_other_job_and_end_with_their_own(two_jobs):
    first, second = two_jobs
    assert first.call("make_segment", (KEY, 4 * 2**20), {}) >= 0
    assert first.call("make_queue", (QUEUE,), {}) >= 0
    assert first.call("find_segment", (KEY,), {}) >= 0  # there, for the job that made it
    assert second.call("find_segment", (KEY,), {}) == -errno.ENOENT
    assert second.call("find_queue", (QUEUE,), {}) == -errno.ENOENT
    assert _host_segment(KEY) == -errno.ENOENT
    first.close()
    assert _host_segment(KEY) == -errno.ENOENT, "a segment outlived the job that made it"


def test_what_a_job_may_hold_in_shared_memory_is_bounded(two_jobs):
    box = two_jobs[0]
    if box.call("shm_limit", (), {}) != confine.IPC_SHM_BYTES:
        assert confine.mode() is not confine.Mode.ROOT_NAMESPACES, "a root grader sets it"
        pytest.skip("this kernel does not let a user namespace cap its own IPC (before 5.19?)")
    too_much = confine.IPC_SHM_BYTES + 2**20
    assert box.call("asks_for_segment", (KEY + 1, too_much), {}) == -errno.EINVAL
    assert box.call("make_segment", (KEY + 1, 2**20), {}) >= 0  # a little is fine


def test_a_kernels_segments_end_with_the_kernel(tmp_path):
    """The kernel launcher (`python -m instructor.infrastructure.confine`) gives the same
    namespace."""
    scratch = confine.make_scratch()
    code = IPC + f"\nassert make_segment({KEY}, 2**20) >= 0\n"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "instructor.infrastructure.confine", "--scratch", scratch, "--"]
            + [sys.executable, "-c", code],
            env={**os.environ, "PYTHONPATH": os.getcwd()},
            timeout=60,
            capture_output=True,
        )
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        assert _host_segment(KEY) == -errno.ENOENT, "a kernel's segment outlived the kernel"
    finally:
        confine.remove_scratch(scratch)
        _remove_leftovers()
