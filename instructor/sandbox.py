"""Run a student's exercise cells in a separate, confined process and call their functions.

The grader never runs student code in its own process. A `Sandbox` forks a child that executes
the notebook's set-up cell and the student's exercise (solution) cells, and then answers calls:
the grader sends the arguments (pickled: the child may trust the grader; the gradients of tensor
and module arguments travel beside them), the child calls the student's function and sends back
what it returned as plain data (`instructor.codec`: never pickled, so the grader only ever holds
real numpy arrays, numbers and containers). Arrays, tensors and modules passed in are written
back (a module's parameters and gradients), so a check can see what the student changed. A
callable argument (the `f` of `numerical_gradient`) stays in the grader and is called over the
pipe.

`StudentFunction` is what the grader's test cells see under the exercise's name: calling it
calls the sandbox; its `__code__` is compiled here from the student's source (never executed
here) so that static checks such as `checks.expect_from_scratch` still work.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import functools
import io
import os
import pickle
import select
import signal
import socket
import struct
import sys
import time
import traceback
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from instructor import codec, confine

_HEADER = struct.Struct(">IB")
MAX_MESSAGE = 64 * 2**20


class SandboxError(Exception):
    """The student's code could not be called (it timed out, died, or sent garbage)."""


class TimeLimitExceeded(SandboxError):
    pass


class ProcessDied(SandboxError):
    pass


@dataclass
class Limits:
    """How long student code may run, in seconds, and how much it may allocate."""

    setup_seconds: float = 60.0
    call_seconds: float = 30.0
    memory_bytes: int = 4 * 2**30
    max_restarts: int = 5


# ------------------------------------------------------------------------------ framing


def _send(sock: socket.socket, kind: bytes, payload: bytes) -> None:
    sock.sendall(_HEADER.pack(len(payload), kind[0]) + payload)


def _recv_exact(sock: socket.socket, n: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([sock], [], [], left)[0]:
                raise TimeLimitExceeded()
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise EOFError()
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _recv(sock: socket.socket, deadline: float | None = None) -> tuple[bytes, bytes]:
    size, kind = _HEADER.unpack(_recv_exact(sock, _HEADER.size, deadline))
    if size > MAX_MESSAGE:
        raise SandboxError(f"a message of {size} bytes is over the {MAX_MESSAGE} byte limit")
    return bytes([kind]), _recv_exact(sock, size, deadline)


# ------------------------------------------------------------------------------ the child


class _Callback:
    """Placeholder for a grader-side callable inside pickled arguments."""

    def __init__(self, index: int):
        self.index = index


class _IPythonStub:
    """`get_ipython()` for cells written with magics: line magics do nothing here."""

    def run_line_magic(self, *args: Any, **kwargs: Any) -> None:
        return None

    run_cell_magic = system = run_line_magic


def _child_main(sock: socket.socket, setup: str, cells: list[tuple[str, str]], limits: Limits,
                scratch: str | None) -> None:
    os.setsid()
    _one_thread()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    sys.stdout = sys.stderr = io.TextIOWrapper(io.FileIO(devnull, "w", closefd=False))
    if scratch is not None:
        confine.confine_current_process(scratch, limits.memory_bytes)
    namespace: dict[str, Any] = {"__name__": "__main__", "get_ipython": _IPythonStub}
    errors: dict[str, str] = {}
    for label, source in [("set-up", setup), *cells]:
        _send(sock, b"P", label.encode())  # so the grader knows which cell hung or crashed
        try:
            exec(compile(source, f"<cell {label}>", "exec"), namespace)
        except BaseException as error:  # noqa: B036 (a student's cell may raise anything)
            errors[label] = _describe(error)
    _send(sock, b"R", codec.encode(errors))
    while True:
        kind, payload = _recv(sock)
        if kind == b"Q":
            return
        name, args, kwargs, states = pickle.loads(payload)
        args, kwargs = _bind_callbacks(sock, (args, kwargs))
        for target, state in zip((*args, *kwargs.values()), states, strict=False):
            _apply_state(target, state)  # pickling drops .grad: the state carries it
        _send(sock, *_call(namespace, name, args, kwargs))


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def limit_thread_env(threads: int) -> None:
    """Cap the threads that torch and BLAS in this process's future children (and in this
    process, if they are not imported yet) may use."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)


def _one_thread() -> None:
    """Run the child's numerical libraries on one thread.

    A process forked from a grader whose torch has already run an OpenMP parallel region hangs
    at the child's first parallel region (the pool's threads do not survive a fork), so a
    student's LSTM would time out through no fault of theirs. One thread avoids that, and keeps
    parallel graders from oversubscribing the cores.
    """
    limit_thread_env(1)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def _bind_callbacks(sock: socket.socket, value: Any) -> Any:
    if isinstance(value, _Callback):
        index = value.index

        def remote(*args: Any, **kwargs: Any) -> Any:
            _send(sock, b"C", codec.encode([index, list(args), kwargs]))
            kind, payload = _recv(sock)
            result = pickle.loads(payload)
            if kind == b"F":
                raise RuntimeError(f"the checker's function raised {result}")
            return result

        return remote
    if type(value) in (list, tuple):
        return type(value)(_bind_callbacks(sock, v) for v in value)
    if type(value) is dict:
        return {k: _bind_callbacks(sock, v) for k, v in value.items()}
    return value


def _describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    if isinstance(error, SyntaxError):
        text = f"SyntaxError: {error.msg} (line {error.lineno})"
    return text[:2000]


def _call(namespace: dict, name: str, args: tuple, kwargs: dict) -> tuple[bytes, bytes]:
    fn = namespace.get(name)
    if not callable(fn):
        return b"E", codec.encode(["NameError", f"name {name!r} is not defined"])
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = fn(*args, **kwargs)
        warned = [[w.category.__name__, str(w.message)[:500]] for w in caught[:20]]
        inputs = [a for a in (*args, *kwargs.values())]
        return b"V", codec.encode([result, warned, [_state(a) for a in inputs]])
    except BaseException as error:  # noqa: B036 (reported to the grader, never re-raised here)
        message = _describe(error).split(": ", 1)[-1]
        return b"E", codec.encode([type(error).__name__, message,
                                   traceback.format_exc(limit=-3)[-2000:]])


def _state(value: Any, depth: int = 0) -> Any:
    """What it takes to mirror an argument between the processes (arrays, random generators,
    tensors and modules with their gradients, and lists or tuples of them); None for anything
    else. Used both ways: the child gets the gradients pickling drops, the grader gets the
    child's in-place changes."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, np.random.Generator):  # the exercises of notebook 06 draw from it
        return {"rng": value.bit_generator.state}
    if type(value) in (list, tuple) and depth < 4:  # a list of gradient arrays, say
        return {"items": [_state(v, depth + 1) for v in value]}
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return {"data": value, "grad": value.grad}
    if torch is not None and isinstance(value, torch.nn.Module):
        params = dict(value.named_parameters())
        return {"state": dict(value.state_dict()),  # an OrderedDict would arrive opaque
                "grads": {k: p.grad for k, p in params.items() if p.grad is not None}}
    return None


# ------------------------------------------------------------------------------ the grader side


def _is_callback(value: Any) -> bool:
    return isinstance(value, types.FunctionType | types.BuiltinFunctionType | types.MethodType
                      | functools.partial)


def _apply_state(target: Any, state: Any) -> None:
    """Copy a `_state` of an argument into the other process's copy of it, in place."""
    import numpy as np

    if state is None:
        return
    if isinstance(target, np.ndarray) and isinstance(state, np.ndarray):
        if state.shape == target.shape and target.flags.writeable:
            np.copyto(target, state, casting="unsafe")
        return
    if isinstance(target, np.random.Generator) and isinstance(state, dict):
        with contextlib.suppress(TypeError, ValueError, KeyError):  # a state it cannot take
            target.bit_generator.state = state.get("rng")
        return
    if type(target) in (list, tuple) and isinstance(state, dict) \
            and isinstance(state.get("items"), list):
        for item, item_state in zip(target, state["items"], strict=False):
            _apply_state(item, item_state)
        return
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(state, dict):
        return
    with torch.no_grad():
        if isinstance(target, torch.Tensor) and isinstance(state.get("data"), torch.Tensor):
            if state["data"].shape == target.shape:
                target.copy_(state["data"])
                grad = state.get("grad")
                target.grad = grad.to(target.dtype) if isinstance(grad, torch.Tensor) else None
        elif isinstance(target, torch.nn.Module) and isinstance(state.get("state"), dict):
            own = target.state_dict()
            for key, value in state["state"].items():
                if key in own and isinstance(value, torch.Tensor) and value.shape == own[key].shape:
                    own[key].copy_(value)
            params = dict(target.named_parameters())
            grads = state.get("grads") or {}
            for key, param in params.items():
                grad = grads.get(key)
                ok = isinstance(grad, torch.Tensor) and grad.shape == param.shape
                param.grad = grad.to(param.dtype) if ok else None


class Sandbox:
    """A forked, confined child holding a student's exercise cells.

    setup: the instructor's set-up cell (plain Python); cells: (label, plain Python source) of
    the student's exercise cells, run in order. `scratch` is the child's private working folder;
    None runs the child unconfined (see `instructor.confine`).
    """

    def __init__(self, setup: str, cells: list[tuple[str, str]], limits: Limits | None = None,
                 scratch: str | None = None):
        self.setup, self.cells = setup, cells
        self.limits = limits or Limits()
        self.scratch = scratch
        self.pid: int | None = None
        self.sock: socket.socket | None = None
        self.cell_errors: dict[str, str] = {}
        self.failure: str | None = None  # set once the child cannot be (re)started
        self.skipped: set[str] = set()  # cells left out: they hung or ended the process
        self.restarts = 0

    # lifecycle ---------------------------------------------------------------
    def start(self) -> None:
        """Fork the child and run the cells. A cell that hangs or ends the process is reported
        in `cell_errors` and left out of a restart, so the other exercises can still be graded."""
        parent, child = socket.socketpair()
        sys.stdout.flush()
        sys.stderr.flush()
        cells = [(label, source) for label, source in self.cells if label not in self.skipped]
        pid = os.fork()
        if pid == 0:  # the child: never returns into the grader's code
            code = 0
            try:
                parent.close()
                _child_main(child, self.setup, cells, self.limits, self.scratch)
            except BaseException:  # noqa: B036
                code = 1
            finally:
                os._exit(code)
        child.close()
        self.pid, self.sock = pid, parent
        deadline = time.monotonic() + self.limits.setup_seconds
        running = "set-up"
        try:
            while True:
                kind, payload = _recv(parent, deadline)
                if kind == b"P":
                    running = payload.decode(errors="replace")
                    continue
                if kind != b"R":
                    raise SandboxError("unexpected message")
                errors = codec.decode(payload)
                self.cell_errors.update({str(k): str(v) for k, v in dict(errors).items()})
                return
        except TimeLimitExceeded:
            self.close()
            problem = (f"did not finish within {self.limits.setup_seconds:.0f} s (an infinite "
                       f"loop at the top level of the cell?)")
        except (EOFError, OSError, SandboxError, codec.DecodeError, TypeError, ValueError):
            problem = f"ended the Python process running it ({self.close()})"
        if running == "set-up" or self.restarts >= self.limits.max_restarts:
            self.failure = f"running your exercise cells failed: cell {running} {problem}"
            return
        self.cell_errors[running] = problem
        self.skipped.add(running)
        self.restarts += 1
        self.start()

    def close(self) -> str:
        """Stop the child; return how it ended."""
        status = "already stopped"
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.pid is not None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                _, raw = os.waitpid(self.pid, 0)
                status = (f"signal {os.WTERMSIG(raw)}" if os.WIFSIGNALED(raw)
                          else f"exit code {os.WEXITSTATUS(raw)}")
            except ChildProcessError:
                pass
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
    def call(self, name: str, args: tuple, kwargs: dict) -> Any:
        """Call the student's `name` with (args, kwargs); return its result as plain data.

        Warnings it raised are re-issued here; exceptions come back as an exception of the same
        name; in-place changes to array, tensor and module arguments are mirrored.
        """
        self._ensure_running()
        callbacks: list[Callable] = []

        def swap(value: Any) -> Any:
            if _is_callback(value):
                callbacks.append(value)
                return _Callback(len(callbacks) - 1)
            if type(value) in (list, tuple):
                return type(value)(swap(v) for v in value)
            if type(value) is dict:
                return {k: swap(v) for k, v in value.items()}
            return value

        states = [_state(a) for a in (*args, *kwargs.values())]
        payload = pickle.dumps((name, swap(tuple(args)), swap(dict(kwargs)), states))
        deadline = time.monotonic() + self.limits.call_seconds
        try:
            _send(self.sock, b"X", payload)
            while True:
                kind, data = _recv(self.sock, deadline)
                if kind != b"C":
                    break
                self._answer_callback(callbacks, data)
            body = codec.decode(data)
        except TimeLimitExceeded:
            self.close()
            raise TimeLimitExceeded(f"{name} did not return within {self.limits.call_seconds:.0f}"
                                    f" s: an infinite loop, or much too slow") from None
        except (EOFError, OSError, codec.DecodeError, SandboxError) as error:
            status = self.close()
            raise ProcessDied(f"calling {name} ended the Python process running your code "
                              f"({status}{': ' + str(error) if str(error) else ''})") from None
        if kind == b"E":
            raise _student_exception(name, body, self.cell_errors)
        result, warned, states = body
        for (category, message) in warned:
            warnings.warn(str(message), _warning_class(str(category)), stacklevel=2)
        for target, state in zip((*args, *kwargs.values()), states, strict=False):
            _apply_state(target, state)
        return result

    def _answer_callback(self, callbacks: list[Callable], data: bytes) -> None:
        index, args, kwargs = codec.decode(data)
        try:
            _send(self.sock, b"A", pickle.dumps(callbacks[int(index)](*args, **kwargs)))
        except Exception as error:  # the checker's own function failed on the student's input
            _send(self.sock, b"F", pickle.dumps(f"{type(error).__name__}: {error}"))


def _builtin_class(name: str, base: type) -> type | None:
    """The built-in class called `name` if it is a subclass of `base`, else None."""
    found = getattr(builtins, name, None)
    return found if isinstance(found, type) and issubclass(found, base) else None


def _warning_class(name: str) -> type[Warning]:
    return _builtin_class(name, Warning) or UserWarning


def _student_exception(name: str, body: Any, cell_errors: dict[str, str]) -> Exception:
    type_name, message = str(body[0]), str(body[1])
    if type_name == "NameError" and message == f"name {name!r} is not defined":
        broken = "; ".join(f"cell {k}: {v}" for k, v in cell_errors.items())
        return NameError(f"{name} is not defined by your exercise cells"
                         + (f" ({broken})" if broken else
                            " (was its cell deleted, or the function renamed?)"))
    known = _builtin_class(type_name, Exception)
    if known is not None and not issubclass(known, Warning):
        try:
            return known(message)  # a built-in error stays itself: `except ValueError` works
        except TypeError:  # an exception class with a different constructor
            pass
    cls = type(type_name if type_name.isidentifier() else "StudentError", (Exception,), {})
    return cls(message)


# ------------------------------------------------------------------------------ static views


class StudentFunction:
    """The grader's handle on a student's function: calling it calls the sandbox.

    `__code__` and `__globals__` are built statically from the student's source so that
    `helpers.checks.referenced_names` can inspect the function without running it here.
    """

    __closure__ = None

    def __init__(self, sandbox: Sandbox, name: str, code: types.CodeType | None = None,
                 aliases: dict[str, Any] | None = None):
        self.sandbox, self.__name__ = sandbox, name
        self.__code__, self.__globals__ = code, dict(aliases or {})

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.sandbox.call(self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<your function {self.__name__}>"


def function_codes(source: str) -> dict[str, types.CodeType]:
    """name -> code object of each top-level function a cell defines (compiled, not run)."""
    try:
        module = compile(source, "<student>", "exec")
    except (SyntaxError, ValueError):
        return {}
    return {c.co_name: c for c in module.co_consts if isinstance(c, types.CodeType)}


def import_aliases(source: str) -> dict[str, Any]:
    """name -> a stand-in carrying the module it was imported from, for every import in a cell:
    `import torch as T` gives T -> module 'torch'; `from torch import tanh` gives tanh -> an
    object whose __module__ is 'torch'."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return {}
    found: dict[str, Any] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found[alias.asname or alias.name.split(".")[0]] = types.ModuleType(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                found[alias.asname or alias.name] = types.SimpleNamespace(__module__=node.module)
    return found


def defined_functions(source: str) -> list[str]:
    """Top-level function names a cell defines (by `def`)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
