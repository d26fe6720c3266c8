"""The wire between the grader and a sandbox child: framed messages of known kinds.

A frame is a 4-byte length, a 1-byte kind and the payload. What the child sends is always
`instructor.infrastructure.sandbox.codec` data (plain values, never unpickled); what the grader
sends may be pickled, since the child trusts the grader.

A child's conversation: CONFIG -> READY, CELLS -> (RUNNING per cell) -> DEFINED, then any number of
CALL -> (CALLBACK -> ANSWER | ANSWER_FAILED, or MODEL -> ANSWER | DECLINED)* -> RETURNED | RAISED.
MODEL asks for the model solution of another exercise, one of the names the CALL listed (those
above the called function's exercise, `instructor.infrastructure.sandbox.model_calls`): the grader
answers with the model's result, or DECLINED, and the child then runs the student's own function.
The zygote's: SPAWN (with a socket) -> SPAWNED, and WAIT -> EXITED.
"""

from __future__ import annotations

import enum
import select
import socket
import struct
import time

_HEADER = struct.Struct(">IB")
MAX_MESSAGE = 64 * 2**20


class Message(enum.Enum):
    """Every kind of message, by its one-byte code. Direction and payload in the comment."""

    CONFIG = b"G"  # grader -> child: how to confine itself (codec dict)
    READY = b"Y"  # child -> grader: confined, waiting for the cells (empty)
    CELLS = b"L"  # grader -> child: [set-up source, [[label, source], ...]] (codec)
    RUNNING = b"P"  # child -> grader: the label of the cell it starts now (utf-8)
    DEFINED = b"R"  # child -> grader: {label: error} for cells that failed (codec)
    CALL = b"X"  # grader -> child: (name, args, kwargs, argument states, models) (pickle)
    CALLBACK = b"C"  # child -> grader: [index, args, kwargs] of a grader function (codec)
    ANSWER = b"A"  # grader -> child: what the callback returned (pickle)
    ANSWER_FAILED = b"F"  # grader -> child: why the callback failed (pickle str)
    MODEL = b"M"  # child -> grader: [exercise, args, kwargs] for its model solution (codec)
    DECLINED = b"D"  # grader -> child: no model answer: run the student's own (empty)
    RETURNED = b"V"  # child -> grader: [result, warnings, argument states] (codec)
    RAISED = b"E"  # child -> grader: [module, class name, message, traceback] (codec)
    # with the zygote that starts children (instructor.infrastructure.sandbox.zygote)
    SPAWN = b"S"  # grader -> zygote: start a child on the socket passed alongside (empty)
    SPAWNED = b"N"  # zygote -> grader: the child's pid (codec int)
    WAIT = b"W"  # grader -> zygote: reap this (killed) child (codec int)
    EXITED = b"Z"  # zygote -> grader: how it ended, as `waitpid` status (codec int)


_BY_CODE = {m.value[0]: m for m in Message}


class ProtocolError(Exception):
    """The other side sent something that is not a message of this protocol."""


class Timeout(Exception):
    """No whole message arrived before the deadline."""


def send(sock: socket.socket, kind: Message, payload: bytes = b"") -> None:
    sock.sendall(_HEADER.pack(len(payload), kind.value[0]) + payload)


def send_packet(
    sock: socket.socket, kind: Message, payload: bytes = b"", fds: tuple[int, ...] = ()
) -> None:
    """One message on a SOCK_SEQPACKET socket (the zygote's), with file descriptors."""
    socket.send_fds(sock, [_HEADER.pack(len(payload), kind.value[0]) + payload], list(fds))


def recv_packet(sock: socket.socket) -> tuple[Message, bytes, list[int]]:
    """One message sent by `send_packet`: its kind, payload and descriptors."""
    data, fds, _, _ = socket.recv_fds(sock, 1 << 16, 4)
    if not data:
        raise EOFError()
    if len(data) < _HEADER.size:
        raise ProtocolError("a truncated packet")
    size, code = _HEADER.unpack(data[: _HEADER.size])
    kind = _BY_CODE.get(code)
    if kind is None or size != len(data) - _HEADER.size:
        raise ProtocolError(f"a bad packet of kind {code!r}")
    return kind, data[_HEADER.size :], fds


def _recv_exact(sock: socket.socket, n: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([sock], [], [], left)[0]:
                raise Timeout()
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise EOFError()
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def recv(sock: socket.socket, deadline: float | None = None) -> tuple[Message, bytes]:
    """The next message; Timeout past `deadline` (a time.monotonic() value), EOFError when the
    other side is gone, ProtocolError for garbage."""
    size, code = _HEADER.unpack(_recv_exact(sock, _HEADER.size, deadline))
    if size > MAX_MESSAGE:
        raise ProtocolError(f"a message of {size} bytes is over the {MAX_MESSAGE} byte limit")
    kind = _BY_CODE.get(code)
    if kind is None:
        raise ProtocolError(f"unknown message kind {code!r}")
    return kind, _recv_exact(sock, size, deadline)


def expect(sock: socket.socket, kind: Message, deadline: float | None = None) -> bytes:
    """The payload of the next message, which must be of `kind`."""
    got, payload = recv(sock, deadline)
    if got is not kind:
        raise ProtocolError(f"expected {kind.name}, got {got.name}")
    return payload


class Callback:
    """Stands for a grader-side function inside pickled CALL arguments (the child calls it back
    over the wire)."""

    def __init__(self, index: int):
        self.index = index
