"""Confinement of student code: an unprivileged user, a private folder, resource limits.

When the grader runs as root (a container, a CI runner, a grading server), every process that
runs student code (the sandbox child of `instructor.sandbox` and the Jupyter kernel that
executes the notebook for feedback) switches to the `nobody` user in a private scratch folder
before any student code runs. It can then write nothing the instructor owns: not the installed
`helpers`, not the gradebook, not another student's folder. Limits on memory, file size and
process count stop a runaway submission from taking the machine down.

Without root there is no other user to switch to: student code runs as the instructor, the
limits still apply, and `instructor.autograde` restores and reports any change to the course's
own files (see README: "Grading integrity").

`python -m instructor.confine --scratch DIR -- KERNEL ARGV` is the kernel launcher.
"""

from __future__ import annotations

import ctypes
import functools
import os
import pwd
import resource
import shutil
import sys
import tempfile

from jupyter_client.manager import AsyncKernelManager

SANDBOX_USER = "nobody"
FILE_SIZE_LIMIT = 256 * 2**20
PROCESS_LIMIT = 512
KERNEL_MEMORY = 8 * 2**30


def sandbox_ids() -> tuple[int, int] | None:
    """(uid, gid) to run student code as, or None when this process cannot switch users."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SANDBOX_USER)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def make_scratch() -> str:
    """A fresh private folder for one piece of student code (owned by the sandbox user)."""
    path = tempfile.mkdtemp(prefix="rnn-course-sandbox-")
    ids = sandbox_ids()
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
    """Move into `scratch`, cap resources, and drop to the sandbox user (irreversibly).

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
    ids = sandbox_ids()
    if ids is not None:
        os.setgroups([])
        os.setgid(ids[1])
        os.setuid(ids[0])
    try:  # PR_SET_NO_NEW_PRIVS: no setuid program can give the privileges back
        ctypes.CDLL(None, use_errno=True).prctl(38, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


@functools.cache
def kernel_confinement() -> str | None:
    """None when kernels can run as the sandbox user; otherwise why not, in one sentence."""
    ids = sandbox_ids()
    if ids is None:
        return ("not running as root, so student code runs as you (file tampering is detected "
                "and undone, not prevented)")
    import ipykernel

    import helpers

    needed = [sys.executable, os.path.dirname(helpers.__file__),
              os.path.dirname(ipykernel.__file__)]
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(ids[1])
            os.setuid(ids[0])
            ok = all(os.access(p, os.R_OK | os.X_OK) for p in needed)
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return None
    return (f"the '{SANDBOX_USER}' user cannot read {', '.join(needed)}; kernels run unconfined "
            f"(make the course and its environment world-readable to confine them)")


class ConfinedKernelManager(AsyncKernelManager):
    """Starts the kernel through `python -m instructor.confine`, which drops privileges first."""

    scratch: str | None = None

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        cmd = super().format_kernel_cmd(extra_arguments)
        if kernel_confinement() is not None:
            return cmd
        self.scratch = make_scratch()
        return [sys.executable, "-m", "instructor.confine", "--scratch", self.scratch, "--", *cmd]



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
            ids = sandbox_ids()
            if ids is not None:
                os.chown(copy, *ids)
            command[i + 1] = copy
    confine_current_process(scratch, KERNEL_MEMORY)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
