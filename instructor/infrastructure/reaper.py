"""No process of a job outlives it: the check after each job, and the sweep where needed.

Every process that runs student code belongs to a confined process tree started by a launcher
(a sandbox's zygote child, a kernel's `python -m instructor.infrastructure.confine`). With
namespaces, the tree's processes die with their launcher by construction
(`instructor.infrastructure.confine`: a PID namespace whose trusted init dies with the launcher, and
takes every process of the namespace with it).

`job()` scopes one job: the launchers started in it (`launched`) are recorded, and the grading
process becomes a child subreaper, so that a process student code leaves behind where there is
no PID namespace (it left its session and cleared its own parent-death signal) is re-parented
to the grading process instead of to the machine's init. `JobProcesses.check` then verifies,
after the job: a launcher still running, or an orphan re-parented here since the job started,
is killed and reported (`Kind.PROCESS_SURVIVED`). With namespaces, the check finds nothing.

Limits: an orphan is attributed to the job that finds it; where one grading process runs
several jobs at once (a cluster with several threads per worker) and student code runs without
a PID namespace, it may be another job's, and the report says so.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from instructor.records.problems import Kind, Problem

_PR_SET_CHILD_SUBREAPER = 36
_libc = ctypes.CDLL(None, use_errno=True)
# How long the check waits for processes it killed, or that are still being torn down.
SETTLE_SECONDS = 2.0


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, start time) of a process, or None when it is gone (or a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[1]), fields[19]


def children() -> set[int]:
    """The pids of this process's live children."""
    me, found = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None and stat[0] == me:
                found.add(int(entry))
    return found


@dataclass(frozen=True)
class Launch:
    """One launcher of a confined process tree: its pid and start time (pids are reused)."""

    pid: int
    started: str

    def alive(self) -> bool:
        stat = _stat(self.pid)
        return stat is not None and stat[1] == self.started


@dataclass(eq=False)  # one job is one job, whatever it holds
class JobProcesses:
    """The confined process trees one job started, and the processes here before it."""

    before: set[int] = field(default_factory=children)
    launches: list[Launch] = field(default_factory=list)

    def check(self) -> list[Problem]:
        """Kill whatever of this job still runs (see the module docstring); one problem saying
        how many processes there were, or none."""
        alone = _in_flight() <= 1  # this job's scope is still open
        stopped: set[int] = set()
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            found = {launch.pid for launch in self.launches if launch.alive()} | _orphans(self)
            if not found:
                break
            if time.monotonic() > deadline:  # torn down since, or never would be: kill
                for pid in found - stopped:
                    _kill(pid)
                stopped |= found
                if time.monotonic() > deadline + SETTLE_SECONDS:
                    break
            time.sleep(0.05)
        for pid in stopped:  # those re-parented here are this process's to reap
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)
        if not stopped:
            return []
        detail = f"{len(stopped)} process{'es' if len(stopped) > 1 else ''}"
        if not alone:
            detail += ", perhaps of a submission graded beside it"
        return [Problem(Kind.PROCESS_SURVIVED, detail=detail)]


_current: contextvars.ContextVar[JobProcesses | None] = contextvars.ContextVar(
    "rnn_course_job_processes", default=None
)
_lock = threading.Lock()
_jobs: list[JobProcesses] = []  # the jobs in flight in this process


def _in_flight() -> int:
    with _lock:
        return len(_jobs)


def _known() -> set[int]:
    """Processes here that are no job's leftovers: every job's running launchers, and the
    sandbox zygotes."""
    from instructor.infrastructure.sandbox.zygote import zygote_pids

    with _lock:
        launchers = {launch.pid for job in _jobs for launch in job.launches}
    return launchers | zygote_pids()


def _uid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _orphans(job: JobProcesses) -> set[int]:
    """Children of this process that appeared since `job` started and nobody launched: orphans
    re-parented here (this process is a subreaper while jobs run). Where student code runs as
    another user, only processes of other users: none of the grader's own is student code."""
    from instructor.infrastructure import confine

    found = children() - job.before - _known()
    if confine.mode() is confine.Mode.NONE:
        return found
    return {pid for pid in found if _uid(pid) not in (None, os.getuid())}


def _kill(pid: int) -> None:
    with contextlib.suppress(OSError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def job() -> Iterator[JobProcesses]:
    """Scope one job in this thread (and the asyncio tasks it starts): record its launchers.
    Call `check` on what it yields at the end of the job, inside the scope."""
    _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    processes = JobProcesses()
    token = _current.set(processes)
    with _lock:
        _jobs.append(processes)
    try:
        yield processes
    finally:
        _current.reset(token)
        with _lock:
            _jobs.remove(processes)


def launched(pid: int) -> None:
    """Record `pid`, the launcher of a confined process tree, in the current job (if any)."""
    processes = _current.get()
    stat = _stat(pid)
    if processes is not None and stat is not None:
        processes.launches.append(Launch(pid, stat[1]))


def run_job(body: Callable[[], None], problems: list[Problem]) -> None:
    """Run one job's `body` in a `job` scope, then add to `problems` what `check` found (also
    when `body` raised, which it then raises again)."""
    with job() as processes:
        try:
            body()
        finally:
            problems += processes.check()
