"""Student code gets no kernel keyring: keyrings are not namespaced by mount, PID, IPC or network
namespaces, and an attacker showed that a key one job's `nobody` added to nobody's user keyring
was read by a later student's kernel (and would stay for days). `confine.deny_keyrings` makes
add_key, request_key and keyctl fail with EPERM in sandboxes and kernels alike."""

from __future__ import annotations

import ctypes
import errno
import os
import subprocess
import sys

from instructor.infrastructure import confine
from instructor.infrastructure.sandbox import Limits, Sandbox

KEYS = """
import ctypes, platform

_libc = ctypes.CDLL(None, use_errno=True)
_ADD_KEY = {"x86_64": 248, "aarch64": 217}[platform.machine()]

def add_key(description):
    # add_key("user", description, "secret", 6, KEY_SPEC_USER_KEYRING)
    serial = _libc.syscall(_ADD_KEY, b"user", description.encode(), b"secret", 6,
                           ctypes.c_int(-4))
    return serial if serial >= 0 else -ctypes.get_errno()
"""


def test_the_filter_denies_exactly_the_keyring_calls():
    rows = confine._keyring_filter()
    # every listed architecture's three numbers jump to the final EPERM; nothing else does
    deny = len(rows) - 1
    jumps = [i + 1 + jt for i, (code, jt, _, _) in enumerate(rows) if code == 0x15 and jt]
    assert len(jumps) == sum(len(n) for n in confine._KEYRING_SYSCALLS.values())
    assert set(jumps) == {deny} and rows[deny][3] == 0x00050000 | errno.EPERM


def test_a_sandbox_cannot_add_a_key():
    scratch = confine.make_scratch()
    box = Sandbox("", [("student", KEYS)], Limits(setup_seconds=10, call_seconds=10), scratch)
    try:
        box.start()
        assert box.call("add_key", ("rnn-course-test",), {}) == -errno.EPERM
    finally:
        box.close()
        confine.remove_scratch(scratch)


def test_a_kernel_cannot_add_a_key(tmp_path):
    """The kernel launcher (`python -m instructor.infrastructure.confine`) installs the same
    filter."""
    scratch = confine.make_scratch()
    code = KEYS + "\nimport sys\nsys.exit(0 if add_key('rnn-course-test') == -1 else 3)\n"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "instructor.infrastructure.confine", "--scratch", scratch, "--",
             sys.executable, "-c", code.replace("-ctypes.get_errno()", "-1")],
            capture_output=True, text=True, timeout=60, cwd=os.getcwd(),
        )  # fmt: skip
        assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    finally:
        confine.remove_scratch(scratch)


def test_the_grader_itself_keeps_its_keyrings():
    """The filter is installed in the confined process only, never in the grader."""
    libc = ctypes.CDLL(None, use_errno=True)
    # keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0): any answer but EPERM
    number = {"x86_64": 250, "aarch64": 219}.get(os.uname().machine)
    if number is None:
        return
    result = libc.syscall(number, 0, ctypes.c_int(-3), 0)
    assert result >= 0 or ctypes.get_errno() != errno.EPERM
