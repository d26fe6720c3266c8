"""The sandbox child: a fresh Python process that runs a student's exercise cells and answers
calls to their functions (`python -m instructor.infrastructure.sandbox.child FD`, started by
`Sandbox`).

It is started with exec, never forked from the grader, so it holds nothing the grader read
(hidden tests, model solutions, other students' results). It imports what it needs, confines
itself (`instructor.infrastructure.confine`: a private read-only view of the machine, no network;
without torch for exercises written with numpy), and only then receives the student's code. While a
student's function runs, the exercises above its own are stubs that ask the grader for their model
solution's answer (`_model_stub`): the model itself is never here.
"""

from __future__ import annotations

import ast
import io
import os
import pickle
import signal
import socket
import sys
import traceback
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from instructor.infrastructure import confine
from instructor.infrastructure.sandbox import codec
from instructor.infrastructure.sandbox.mirror import apply_state, state_of
from instructor.infrastructure.sandbox.protocol import (
    Callback,
    Message,
    ProtocolError,
    expect,
    recv,
    send,
)


class _IPythonStub:
    """`get_ipython()` for cells written with magics: line magics do nothing here."""

    def run_line_magic(self, *args: Any, **kwargs: Any) -> None:
        return None

    run_cell_magic = system = run_line_magic


def _quiet() -> None:
    """Standard streams go nowhere: nothing a student prints reaches the grader."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    sys.stdout = sys.stderr = io.TextIOWrapper(io.FileIO(devnull, "w", closefd=False))


def _describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    if isinstance(error, SyntaxError):
        text = f"SyntaxError: {error.msg} (line {error.lineno})"
    return text[:2000]


def _statements(source: str) -> list[str]:
    """The set-up cell as separate statements; `from m import a, b` becomes one import per name,
    so that a name that cannot be imported here (torch, in a sandbox without it) costs only
    itself."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return [source]
    out = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and len(node.names) > 1:
            out += [
                ast.unparse(ast.ImportFrom(node.module, [alias], node.level))
                for alias in node.names
            ]
        else:
            out.append(ast.unparse(node))
    return out


def _run_cells(sock: socket.socket, setup: str, cells: list, namespace: dict) -> dict[str, str]:
    """Run the set-up (best effort: it is the instructor's) and then each student cell."""
    send(sock, Message.RUNNING, b"set-up")
    for statement in _statements(setup):
        try:
            exec(compile(statement, "<set-up>", "exec"), namespace)
        except BaseException:  # noqa: B036, S110 (a set-up line this sandbox cannot run)
            pass
    errors: dict[str, str] = {}
    for label, source in cells:
        send(sock, Message.RUNNING, str(label).encode())  # so the grader knows what hung
        try:
            exec(compile(source, f"<cell {label}>", "exec"), namespace)
        except BaseException as error:  # noqa: B036 (a student's cell may raise anything)
            errors[str(label)] = _describe(error)
    return errors


def _bind_callbacks(sock: socket.socket, value: Any) -> Any:
    """Replace each Callback placeholder by a function that calls the grader."""
    if isinstance(value, Callback):
        index = value.index

        def remote(*args: Any, **kwargs: Any) -> Any:
            send(sock, Message.CALLBACK, codec.encode([index, list(args), kwargs]))
            kind, payload = recv(sock)
            result = pickle.loads(payload)
            if kind is Message.ANSWER_FAILED:
                raise RuntimeError(f"the checker's function raised {result}")
            return result

        return remote
    if type(value) in (list, tuple):
        return type(value)(_bind_callbacks(sock, v) for v in value)
    if type(value) is dict:
        return {k: _bind_callbacks(sock, v) for k, v in value.items()}
    return value


def _plain(value: Any, depth: int = 0) -> bool:
    """Whether `value` crosses to the grader intact as `codec` data: numbers, strings, numeric
    numpy arrays, and lists, tuples and dicts of them (not tensors: a model without torch could
    not take them, and their gradients would not cross)."""
    if depth > codec.MAX_DEPTH // 2:
        return False
    if value is None or type(value) in (bool, int, float, complex, str):
        return True
    if type(value) is np.ndarray or isinstance(value, np.generic):
        return value.dtype.kind in codec.NUMERIC_KINDS and value.dtype.fields is None
    if type(value) in (list, tuple):
        return all(_plain(v, depth + 1) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _plain(v, depth + 1) for k, v in value.items())
    return False


def _model_stub(sock: socket.socket, exercise: str, own: Any) -> Any:
    """Stands for another exercise's function while a student's function runs: the call goes
    to the grader, which answers with that exercise's model solution (run in a process of its
    own: nothing of it is here), so that each exercise is graded on its own. Arguments that are
    not plain data, a call the grader declines (its budget spent, the model failed on them)
    run the student's own function `own` instead."""

    def model(*args: Any, **kwargs: Any) -> Any:
        if _plain(args) and _plain(kwargs):
            send(sock, Message.MODEL, codec.encode([exercise, list(args), kwargs]))
            kind, payload = recv(sock)
            if kind is Message.ANSWER:
                return pickle.loads(payload)
            if kind is not Message.DECLINED:
                raise ProtocolError(f"unexpected {kind.name}")
        if not callable(own):
            raise NameError(f"name {exercise!r} is not defined")
        return own(*args, **kwargs)

    model.__name__ = model.__qualname__ = exercise
    return model


def _call(
    sock: socket.socket,
    namespace: dict,
    name: str,
    args: tuple,
    kwargs: dict,
    models: Sequence[str] = (),
) -> tuple[Message, bytes]:
    """Call the student's `name`; while it runs, each exercise of `models` (those above its own)
    is the grader's model solution (`_model_stub`)."""
    missing = object()
    saved = {m: namespace.get(m, missing) for m in models if m != name}
    for exercise, own in saved.items():
        namespace[exercise] = _model_stub(sock, exercise, None if own is missing else own)
    try:
        return _call_student(namespace, name, args, kwargs)
    finally:
        for exercise, own in saved.items():
            if own is missing:
                namespace.pop(exercise, None)
            else:
                namespace[exercise] = own


def _call_student(namespace: dict, name: str, args: tuple, kwargs: dict) -> tuple[Message, bytes]:
    fn = namespace.get(name)
    if not callable(fn):
        return Message.RAISED, codec.encode(
            ["builtins", "NameError", f"name {name!r} is not defined", ""]
        )
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = fn(*args, **kwargs)
        warned = [[w.category.__name__, str(w.message)[:500]] for w in caught[:20]]
        states = [state_of(a) for a in (*args, *kwargs.values())]
        return Message.RETURNED, codec.encode([result, warned, states])
    except BaseException as error:  # noqa: B036 (reported to the grader, never re-raised here)
        cls = type(error)
        message = _describe(error).split(": ", 1)[-1]
        return Message.RAISED, codec.encode(
            [str(cls.__module__), cls.__qualname__, message, traceback.format_exc(limit=-3)[-2000:]]
        )


def serve(sock: socket.socket) -> None:
    """The child's whole life: configure, confine, run the cells, answer calls until EOF."""
    config = codec.decode(expect(sock, Message.CONFIG))
    os.environ.update(confine.thread_environment(1))
    if config.get("torch"):
        import torch

        torch.set_num_threads(1)
    if config.get("scratch"):
        view = confine.View(str(config["scratch"]), allow_torch=bool(config.get("torch")))
        confine.confine_current_process(view, int(config.get("memory") or 0))
    send(sock, Message.READY)
    setup, cells = codec.decode(expect(sock, Message.CELLS))
    namespace: dict[str, Any] = {"__name__": "__main__", "get_ipython": _IPythonStub}
    errors = _run_cells(sock, str(setup), list(cells), namespace)
    send(sock, Message.DEFINED, codec.encode(errors))
    while True:
        name, args, kwargs, states, models = pickle.loads(expect(sock, Message.CALL))
        args, kwargs = _bind_callbacks(sock, (args, kwargs))
        for target, state in zip((*args, *kwargs.values()), states, strict=False):
            apply_state(target, state)  # pickling drops .grad: the state carries it
        send(sock, *_call(sock, namespace, name, args, kwargs, models))


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    confine.die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sock = socket.socket(fileno=int(argv[0]))
    _quiet()
    code = 0
    try:
        serve(sock)
    except EOFError:  # the grader closed the conversation
        pass
    except BaseException:  # noqa: B036
        code = 1
    finally:
        os._exit(code)


if __name__ == "__main__":
    main()
