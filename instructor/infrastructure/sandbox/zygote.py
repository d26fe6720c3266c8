"""The zygote: a clean process that forks sandbox children on request.

Starting a fresh interpreter for every sandbox costs about a second of imports (numpy,
matplotlib, torch); forking the grader would be instant but would hand the child everything the
grader holds in memory (hidden tests, model solutions). The zygote has both virtues: it is
started with exec (`python -m instructor.infrastructure.sandbox.zygote FD`), imports the modules the
children need, and then only forks: it never receives anything but sockets, so a child forked from
it holds nothing the grader read. Each child then confines itself
(`instructor.infrastructure.sandbox.child`).

`Zygote` is the grader's handle; `zygote(allow_torch)` gives the one for this process (one with
torch imported, one without, started when first needed).
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import threading

from instructor.infrastructure.sandbox import codec
from instructor.infrastructure.sandbox.protocol import (
    Message,
    ProtocolError,
    recv_packet,
    send_packet,
)

# Imported once in the zygote so that its children start warm: what every notebook's set-up
# cell imports and the sandbox child needs (torch only in the zygote that allows it).
WARM_MODULES = ("numpy", "matplotlib.pyplot", "tqdm.auto", "helpers.checks")


def _serve(control: socket.socket) -> None:
    """The zygote's loop: SPAWN -> fork a child on the passed socket; WAIT -> reap a child."""
    from instructor.infrastructure.sandbox import child

    while True:
        kind, payload, fds = recv_packet(control)
        if kind is Message.SPAWN and len(fds) == 1:
            pid = os.fork()
            if pid == 0:
                control.close()
                os.setsid()
                child.main([str(fds[0])])  # never returns
            os.close(fds[0])
            send_packet(control, Message.SPAWNED, codec.encode(pid))
        elif kind is Message.WAIT:
            try:
                _, status = os.waitpid(int(codec.decode(payload)), 0)
            except (ChildProcessError, ValueError, codec.DecodeError):
                status = 0
            send_packet(control, Message.EXITED, codec.encode(status))
        else:
            for fd in fds:
                os.close(fd)
            raise ProtocolError(f"the zygote does not take {kind.name}")


def _warm_torch(torch) -> None:
    """One small training step on one thread, so that children start with torch's lazy
    initialisation done (a child's first step would otherwise take seconds of its call's time)."""
    torch.set_num_threads(1)
    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    torch.nn.functional.mse_loss(model(torch.zeros(3, 2)), torch.zeros(3, 2)).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()


def main(argv: list[str] | None = None) -> None:
    """`python -m instructor.infrastructure.sandbox.zygote FD [--torch]`."""
    from instructor.infrastructure import confine

    argv = list(sys.argv[1:] if argv is None else argv)
    confine.die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    control = socket.socket(fileno=int(argv[0]))
    os.environ["MPLBACKEND"] = "Agg"
    os.environ.update(confine.thread_environment(1))
    modules = WARM_MODULES + (("torch",) if "--torch" in argv else ())
    for module in modules:
        try:
            __import__(module)
        except ImportError:
            pass
    if "torch" in sys.modules:
        _warm_torch(sys.modules["torch"])
    confine.mode()  # probed once here, not in every child
    try:
        _serve(control)
    except (EOFError, OSError):  # the grader went away
        pass
    finally:
        os._exit(0)


class Zygote:
    """The grader's handle on a running zygote (started with exec, clean environment)."""

    def __init__(self, allow_torch: bool, env: dict[str, str]):
        self.allow_torch = allow_torch
        self.owner = os.getpid()
        self.lock = threading.Lock()
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "instructor.infrastructure.sandbox.zygote",
                    str(child.fileno()),
                    *(["--torch"] if allow_torch else []),
                ],
                pass_fds=(child.fileno(),),
                env=env,
                cwd="/",
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            child.close()
        self.control = parent

    def _ask(self, kind: Message, payload: bytes, fds: tuple[int, ...], answer: Message) -> int:
        with self.lock:
            send_packet(self.control, kind, payload, fds)
            got, data, extra = recv_packet(self.control)
        for fd in extra:
            os.close(fd)
        if got is not answer:
            raise ProtocolError(f"the zygote answered {got.name}")
        return int(codec.decode(data))

    def spawn(self) -> tuple[int, socket.socket]:
        """A new child: its pid, and the grader's end of its socket. OSError when the zygote is
        gone."""
        ours, theirs = socket.socketpair()
        try:
            pid = self._ask(Message.SPAWN, b"", (theirs.fileno(),), Message.SPAWNED)
        except (EOFError, ProtocolError, ValueError, codec.DecodeError) as error:
            ours.close()
            raise OSError(f"the sandbox zygote is gone ({error!r})") from None
        finally:
            theirs.close()
        return pid, ours

    def reap(self, pid: int) -> int:
        """Wait for a child (after it was killed): its `waitpid` status (0 if unknown)."""
        try:
            return self._ask(Message.WAIT, codec.encode(pid), (), Message.EXITED)
        except (EOFError, OSError, ProtocolError, ValueError, codec.DecodeError):
            return 0

    def alive(self) -> bool:
        return self.owner == os.getpid() and self.process.poll() is None

    def close(self) -> None:
        self.control.close()
        if self.owner == os.getpid():
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.process.wait()


_zygotes: dict[bool, Zygote] = {}
_registry_lock = threading.Lock()


def zygote(allow_torch: bool, env: dict[str, str]) -> Zygote:
    """This process's zygote (with or without torch), started on first use and again if it
    died; stopped when this process exits."""
    with _registry_lock:
        found = _zygotes.get(allow_torch)
        if found is None or not found.alive():
            if found is not None and found.owner == os.getpid():
                found.close()
            found = _zygotes[allow_torch] = Zygote(allow_torch, env)
        return found


def zygote_pids() -> set[int]:
    """The pids of this process's running zygotes."""
    with _registry_lock:
        return {z.process.pid for z in _zygotes.values() if z.alive()}


@atexit.register
def _stop_all() -> None:
    for found in list(_zygotes.values()):
        if found.owner == os.getpid():
            found.close()
    _zygotes.clear()


if __name__ == "__main__":
    main()
