"""Confinement of student code: a read-only view of the machine, a private folder, limits.

Every process that runs student code (the sandbox child of `instructor.sandbox` and the Jupyter
kernel that executes a notebook for its feedback) is confined before any student code runs:

- **Linux namespaces** (preferred; needs no root): the process gets its own user, mount and PID
  namespaces. Every mount is made read-only except a private scratch folder, and then locked by
  a second user namespace, so the student's code cannot remount anything writable. It can read
  what the grader can, but write nothing outside the scratch folder: not the installed
  `helpers`, not the gradebook, not another student's folder. A fresh /proc shows only its own
  processes, and it can signal nothing outside its PID namespace.
- **Another user** (when namespaces are not available and the grader runs as root): the process
  switches to `nobody`, which owns nothing of the course. Kernels need `nobody` to be able to
  read Python and the course; when it cannot, notebooks are not executed (see GradeExecute).
- Without either, student code runs as the grader's user; `instructor.autograde` then restores
  and reports any change to the course's own files.

Limits on memory, file size and core dumps apply in every case.

`python -m instructor.confine --scratch DIR -- KERNEL ARGV` is the kernel launcher.
"""

from __future__ import annotations

import ctypes
import functools
import os
import pwd
import resource
import shutil
import signal
import struct
import sys
import tempfile

SANDBOX_USER = "nobody"
FILE_SIZE_LIMIT = 256 * 2**20
PROCESS_LIMIT = 4096
KERNEL_MEMORY = 8 * 2**30

_CLONE_NEWNS, _CLONE_NEWUSER, _CLONE_NEWPID = 0x20000, 0x10000000, 0x20000000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_BIND, _MS_REC, _MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
_AT_FDCWD, _AT_RECURSIVE, _MOUNT_ATTR_RDONLY = -100, 0x8000, 1
_SYS_MOUNT_SETATTR = 442  # the same number on x86_64 and aarch64
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE, _PR_SET_NO_NEW_PRIVS = 1, 4, 38
_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _set_mount_readonly(path: str, readonly: bool, recursive: bool) -> None:
    attr = struct.pack("QQQQ", _MOUNT_ATTR_RDONLY if readonly else 0,
                       0 if readonly else _MOUNT_ATTR_RDONLY, 0, 0)
    buffer = ctypes.create_string_buffer(attr, len(attr))
    _check(_libc.syscall(_SYS_MOUNT_SETATTR, _AT_FDCWD, path.encode(),
                         _AT_RECURSIVE if recursive else 0, buffer, len(attr)),
           f"mount_setattr {path}")


def _enter_namespaces(scratch: str) -> None:
    """Continue in a new process, pid 1 of fresh user, mount and PID namespaces, in which every
    mount is read-only (and locked) except `scratch`. The calling process stays behind only to
    wait for it and exit with its status. Must be called from a single-threaded process."""
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWPID), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"),
                       ("gid_map", f"0 {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
    child = os.fork()
    if child:  # stay behind: interrupts go to the whole process group, the child handles them
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _, status = os.waitpid(child, 0)
        os._exit(os.waitstatus_to_exitcode(status) % 256)
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    _check(_libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "make mounts private")
    _check(_libc.mount(b"proc", b"/proc", b"proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, None),
           "mount /proc")
    _check(_libc.mount(scratch.encode(), scratch.encode(), None, _MS_BIND, None), "bind scratch")
    _set_mount_readonly("/", True, recursive=True)
    _set_mount_readonly(scratch, False, recursive=False)
    # A second user namespace locks every read-only flag: no remount can undo it from inside.
    _check(_libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS), "lock mounts")
    os.chdir(scratch)


@functools.cache
def namespaces_available() -> bool:
    """True when this machine lets an unprivileged process build the namespace sandbox."""
    if not sys.platform.startswith("linux"):
        return False
    scratch = tempfile.mkdtemp(prefix="rnn-course-probe-")
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            _enter_namespaces(scratch)
            try:
                open(os.path.join(os.path.dirname(scratch), "rnn-course-probe-write"), "w")
            except OSError:
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    shutil.rmtree(scratch, ignore_errors=True)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def make_undumpable() -> None:
    """Stop same-user processes from reading this one's memory or /proc/<pid>/root (the
    grader's processes call this; student code then cannot reach into them)."""
    _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def sandbox_ids() -> tuple[int, int] | None:
    """(uid, gid) to run student code as, or None when this process cannot switch users."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SANDBOX_USER)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def _switch_users() -> tuple[int, int] | None:
    """The user to switch to when namespaces are not available (None: no switch)."""
    return None if namespaces_available() else sandbox_ids()


def _become(ids: tuple[int, int]) -> None:
    """Switch this process to (uid, gid) for good, with no supplementary groups."""
    os.setgroups([])
    os.setgid(ids[1])
    os.setuid(ids[0])


def make_scratch() -> str:
    """A fresh private folder for one piece of student code (owned by the sandbox user)."""
    path = tempfile.mkdtemp(prefix="rnn-course-sandbox-")
    ids = _switch_users()
    if ids is not None:
        os.chown(path, *ids)
    os.chmod(path, 0o700)
    return path


def remove_scratch(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _virtual_memory() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def confine_current_process(scratch: str, memory_bytes: int) -> None:
    """Move into `scratch`, cap resources, then confine this process for good: into namespaces
    (it then continues as a new process: see `_enter_namespaces`), or as the sandbox user.

    memory_bytes: how much more virtual memory the process may map than it holds now.
    """
    os.chdir(scratch)
    for var in ("HOME", "TMPDIR", "MPLCONFIGDIR", "IPYTHONDIR", "JUPYTER_CONFIG_DIR",
                "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "XDG_CACHE_HOME"):
        os.environ[var] = scratch
    tempfile.tempdir = scratch
    limits = [(resource.RLIMIT_CORE, 0), (resource.RLIMIT_FSIZE, FILE_SIZE_LIMIT),
              (resource.RLIMIT_NPROC, PROCESS_LIMIT)]
    if memory_bytes:
        limits.append((resource.RLIMIT_AS, _virtual_memory() + memory_bytes))
    for which, value in limits:
        _, hard = resource.getrlimit(which)
        resource.setrlimit(which, (value, value if hard == resource.RLIM_INFINITY
                                   else min(value, hard)))
    if namespaces_available():
        _enter_namespaces(scratch)
    else:
        ids = sandbox_ids()
        if ids is not None:
            _become(ids)
    _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  # no setuid program gives privileges back


@functools.cache
def kernel_confinement() -> str | None:
    """None when kernels can be confined; otherwise why not, in one sentence."""
    if namespaces_available():
        return None
    ids = sandbox_ids()
    if ids is None:
        return ("this machine offers neither user namespaces nor root, so notebooks would run "
                "with your permissions")
    import ipykernel

    import helpers

    needed = [sys.executable, os.path.dirname(helpers.__file__),
              os.path.dirname(ipykernel.__file__)]
    pid = os.fork()
    if pid == 0:
        ok = False
        try:
            _become(ids)
            ok = all(os.access(p, os.R_OK | os.X_OK) for p in needed)
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return None
    return (f"the '{SANDBOX_USER}' user cannot read {', '.join(needed)} (make the course and "
            f"its Python world-readable, or enable user namespaces)")


def main(argv: list[str] | None = None) -> None:
    """`--scratch DIR -- COMMAND...`: confine this process, then exec COMMAND."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 4 or argv[0] != "--scratch" or argv[2] != "--":
        raise SystemExit("usage: python -m instructor.confine --scratch DIR -- COMMAND ...")
    scratch, command = argv[1], argv[3:]
    for i, arg in enumerate(command[:-1]):
        if arg == "-f":  # the kernel's connection file is private to root: hand it a copy
            copy = os.path.join(scratch, "kernel-connection.json")
            shutil.copyfile(command[i + 1], copy)
            ids = _switch_users()
            if ids is not None:
                os.chown(copy, *ids)
            command[i + 1] = copy
    confine_current_process(scratch, KERNEL_MEMORY)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
