"""The grader's side of a sandbox: start the child, send it the cells, call its functions.

`Sandbox` has its child forked by a zygote (`instructor.infrastructure.sandbox.zygote`), a process
started with exec and a clean environment that never receives anything but sockets, so the child
holds nothing the grader has read. The child confines itself before it receives any student code.
Calls send their arguments pickled (the child trusts the grader); results come back as plain data
(`instructor.infrastructure.sandbox.codec`), never unpickled. A cell that hangs or ends the process
is left out of a restart, so one broken exercise costs only its own points. A student's function
that calls another exercise above its own gets that exercise's model solution, answered here from a
process of its own (`model_calls`), so one wrong function costs only its own points too.
"""

from __future__ import annotations

import functools
import os
import pickle
import signal
import socket
import tempfile
import time
import types
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import instructor
from helpers.checks import InputChanged
from instructor.infrastructure import confine, reaper
from instructor.infrastructure.sandbox import codec
from instructor.infrastructure.sandbox.errors import (
    ProcessDied,
    SandboxError,
    TimeLimitExceeded,
    student_exception,
    warning_class,
)
from instructor.infrastructure.sandbox.mirror import changed_argument, state_of
from instructor.infrastructure.sandbox.protocol import (
    Callback,
    Message,
    ProtocolError,
    Timeout,
    expect,
    recv,
    send,
)
from instructor.infrastructure.sandbox.zygote import Zygote, zygote
from instructor.records.problems import Kind, Problem

if TYPE_CHECKING:  # model_calls starts sandboxes of its own
    from instructor.infrastructure.sandbox.model_calls import ModelCalls

# Seconds the child may take to start, import what it needs, confine itself and run the
# instructor's set-up cell: the grader's own work, not counted against the student's cells.
STARTUP_SECONDS = 120.0


@dataclass
class Limits:
    """How long student code may run, in seconds, and how much it may allocate."""

    setup_seconds: float = 60.0
    call_seconds: float = 30.0
    memory_bytes: int = 4 * 2**30
    max_restarts: int = 5


def _is_callback(value: Any) -> bool:
    return isinstance(
        value, types.FunctionType | types.BuiltinFunctionType | types.MethodType | functools.partial
    )


def child_environment() -> dict[str, str]:
    """A clean environment for the zygote and its children (`confine.clean_environment`, with
    this package on the search path and one thread per numerical library); each child moves
    home and temporary files into its own scratch folder when it confines itself."""
    env = confine.clean_environment(tempfile.gettempdir())
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(instructor.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    env.update(confine.thread_environment(1))
    return env


def start_zygote(allow_torch: bool) -> None:
    """Start this process's zygote of that kind now, in the background, if it is not running:
    its imports take seconds, which the first sandbox then need not wait for."""
    zygote(allow_torch, child_environment())


class Sandbox:
    """A confined child process holding a student's exercise cells.

    setup: the instructor's set-up cell (plain Python; run best effort: a line the sandbox
    cannot run, `import torch` where torch is hidden, is skipped); cells: (label, plain Python
    source) of the student's exercise cells, run in order. `scratch` is the child's private
    working folder; None runs the child unconfined (tests of the protocol only). allow_torch:
    False hides torch from the child entirely (exercises written with numpy). models: where a
    student's function calling another exercise gets that exercise's model solution
    (`model_calls.ModelCalls`); None: it gets the student's own.
    """

    def __init__(
        self,
        setup: str,
        cells: list[tuple[str, str]],
        limits: Limits | None = None,
        scratch: str | None = None,
        allow_torch: bool = True,
        models: ModelCalls | None = None,
    ):
        self.setup, self.cells = setup, cells
        self.models = models
        self.limits = limits or Limits()
        self.scratch, self.allow_torch = scratch, allow_torch
        self.zygote: Zygote | None = None
        self.pid: int | None = None
        self.sock: socket.socket | None = None
        self.cell_errors: dict[str, str] = {}
        self.failure: str | None = None  # set once the child cannot be (re)started
        self.skipped: set[str] = set()  # cells left out: they hung or ended the process
        self.restarts = 0
        self.problems: list[Problem] = []

    # lifecycle ---------------------------------------------------------------
    def _spawn(self) -> socket.socket:
        self.zygote = zygote(self.allow_torch, child_environment())
        self.pid, self.sock = self.zygote.spawn()
        reaper.launched(self.pid)
        return self.sock

    def start(self) -> None:
        """Start the child and run the cells. A cell that hangs or ends the process is reported
        in `cell_errors` and left out of a restart, so the other exercises can still be graded."""
        cells = [(label, source) for label, source in self.cells if label not in self.skipped]
        deadline = time.monotonic() + STARTUP_SECONDS
        running = "set-up"
        try:
            sock = self._spawn()
            send(
                sock,
                Message.CONFIG,
                codec.encode(
                    {
                        "scratch": self.scratch,
                        "memory": self.limits.memory_bytes,
                        "torch": self.allow_torch,
                    }
                ),
            )
            expect(sock, Message.READY, deadline)
            send(sock, Message.CELLS, codec.encode([self.setup, [list(c) for c in cells]]))
            while True:
                kind, payload = recv(sock, deadline)
                if kind is Message.RUNNING:
                    if running == "set-up":  # the student's cells start: their time counts
                        deadline = time.monotonic() + self.limits.setup_seconds
                    running = payload.decode(errors="replace")
                    continue
                if kind is not Message.DEFINED:
                    raise ProtocolError(f"unexpected {kind.name}")
                errors = codec.decode(payload)
                self.cell_errors.update({str(k): str(v) for k, v in dict(errors).items()})
                return
        except Timeout:
            self.close()
            problem = (
                f"did not finish within {self.limits.setup_seconds:.0f} s (an infinite "
                f"loop at the top level of the cell?)"
            )
        except (
            EOFError,
            OSError,
            SandboxError,
            ProtocolError,
            codec.DecodeError,
            TypeError,
            ValueError,
        ):
            problem = f"ended the Python process running it ({self.close()})"
        if running == "set-up" or self.restarts >= self.limits.max_restarts:
            self.failure = f"running your exercise cells failed: cell {running} {problem}"
            self.problems.append(Problem(Kind.EXERCISE_CELL_FAILED, running, problem))
            return
        self.cell_errors[running] = problem
        self.skipped.add(running)
        self.restarts += 1
        self.start()

    def close(self) -> str:
        """Stop the child (and everything it started); return how it ended."""
        status = "already stopped"
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.pid is not None and self.zygote is not None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            code = os.waitstatus_to_exitcode(self.zygote.reap(self.pid))
            status = f"signal {-code}" if code < 0 else f"exit code {code}"
            self.pid = None
        return status

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _ensure_running(self) -> None:
        if self.failure is not None:
            raise ProcessDied(self.failure)
        if self.sock is None:
            if self.restarts > self.limits.max_restarts:
                raise ProcessDied("your code stopped the grader's Python process too many times")
            self.restarts += 1
            self.start()
            if self.failure is not None:
                raise ProcessDied(self.failure)

    # calls -------------------------------------------------------------------
    def call(self, name: str, args: tuple, kwargs: dict, parameters: Sequence[str] = ()) -> Any:
        """Call the student's `name` with (args, kwargs); return its result as plain data.

        Warnings it raised are re-issued here; exceptions come back as an exception of the same
        class where that class is trusted (see `errors.student_exception`); in-place changes to
        generator, model and optimizer arguments are mirrored. Data arguments (arrays, tensors,
        and lists, tuples and dicts of them) are never changed here: a call that changed one in
        the child raises `helpers.checks.InputChanged`, naming it as `parameters` (the
        function's positional parameter names) does.
        """
        self._ensure_running()
        callbacks: list[Callable] = []

        def swap(value: Any) -> Any:
            if _is_callback(value):
                callbacks.append(value)
                return Callback(len(callbacks) - 1)
            if type(value) in (list, tuple):
                return type(value)(swap(v) for v in value)
            if type(value) is dict:
                return {k: swap(v) for k, v in value.items()}
            return value

        states = [state_of(a) for a in (*args, *kwargs.values())]
        models = self.models.above(name) if self.models is not None else ()
        payload = pickle.dumps((name, swap(tuple(args)), swap(dict(kwargs)), states, models))
        kind, body = self._exchange(name, payload, callbacks, models)
        if kind is Message.RAISED:
            raise student_exception(name, body, self.cell_errors)
        result, warned, states = body
        for category, message in warned:
            warnings.warn(str(message), warning_class(str(category)), stacklevel=2)
        self._refuse_changed_input(name, args, kwargs, states, parameters)
        return result

    def _exchange(
        self, name: str, payload: bytes, callbacks: list[Callable], models: Sequence[str]
    ) -> tuple[Message, Any]:
        """Send a call and answer the child's callbacks and model calls until it returns or
        raises: (RETURNED or RAISED, the decoded body). The call's time limit does not count
        the models' time. Raises TimeLimitExceeded or ProcessDied (the child is then closed, and
        the problem recorded)."""
        deadline = time.monotonic() + self.limits.call_seconds
        try:
            send(self.sock, Message.CALL, payload)
            while True:
                kind, data = recv(self.sock, deadline)
                if kind is Message.CALLBACK:
                    self._answer_callback(callbacks, data)
                elif kind is Message.MODEL:  # the model's time is not the student's
                    started = time.monotonic()
                    self._answer_model(models, data)
                    deadline += time.monotonic() - started
                else:
                    break
            if kind not in (Message.RETURNED, Message.RAISED):
                raise ProtocolError(f"unexpected {kind.name}")
            return kind, codec.decode(data)
        except Timeout:
            self.close()
            self.problems.append(Problem(Kind.CALL_TIMEOUT, name))
            raise TimeLimitExceeded(
                f"{name} did not return within {self.limits.call_seconds:.0f}"
                f" s: an infinite loop, or much too slow"
            ) from None
        except (EOFError, OSError, codec.DecodeError, ProtocolError) as error:
            status = self.close()
            self.problems.append(Problem(Kind.PROCESS_DIED, name, status))
            raise ProcessDied(
                f"calling {name} ended the Python process running your code "
                f"({status}{': ' + str(error) if str(error) else ''})"
            ) from None

    def _refuse_changed_input(
        self, name: str, args: tuple, kwargs: dict, states: Any, parameters: Sequence[str]
    ) -> None:
        """Raise `InputChanged` (and record the problem) when the call changed a data argument
        in the child, naming it by `parameters`."""
        targets = [*args, *kwargs.values()]
        changed = changed_argument(targets, states if isinstance(states, list) else [])
        if changed is None:
            return
        index, after = changed
        labels = [
            parameters[i] if i < len(parameters) else f"argument {i + 1}" for i in range(len(args))
        ] + [str(k) for k in kwargs]
        label = labels[index]
        self.problems.append(Problem(Kind.INPUT_CHANGED, name, label))
        raise InputChanged(name, label, targets[index], after)

    def _answer_model(self, models: Sequence[str], data: bytes) -> None:
        """Answer the child's call to another exercise with its model solution's result (plain
        data), when it is one of `models` (those above the function being called) and
        `self.models` answers; otherwise decline, and the child runs the student's own."""
        try:
            exercise, args, kwargs = codec.decode(data)
            ok = exercise in models and type(args) is list and type(kwargs) is dict
        except (codec.DecodeError, TypeError, ValueError):
            ok = False
        if ok and self.models is not None:
            answered, result = self.models.answer(exercise, tuple(args), kwargs)
            if answered:
                send(self.sock, Message.ANSWER, pickle.dumps(result))
                return
        send(self.sock, Message.DECLINED)

    def _answer_callback(self, callbacks: list[Callable], data: bytes) -> None:
        index, args, kwargs = codec.decode(data)
        try:
            send(self.sock, Message.ANSWER, pickle.dumps(callbacks[int(index)](*args, **kwargs)))
        except Exception as error:  # the checker's own function failed on the student's input
            send(self.sock, Message.ANSWER_FAILED, pickle.dumps(f"{type(error).__name__}: {error}"))
