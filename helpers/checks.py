"""The framework behind every visible check.

A failed check raises `CheckFailure` (an AssertionError, so nbgrader takes the points) whose
message names the exercise, the input that was tried, what came back, what was expected and a
hint, for example:

    rnn_backward: dW_hh is wrong.
      input:    T=3, B=2, D=4, H=5, seed 0 (see helpers.checks.small_rnn_case)
      returned: dW_hh[0, :3] = [ 0.412 -0.118  0.037]
      expected: dW_hh[0, :3] = [ 0.389 -0.121  0.040]   (max relative error 6.1e-02, at
                dW_hh[2, 4]: returned 0.01234, expected 0.01396)
      hint:     ...

The expected values always come from an independent oracle in the notebook (torch.autograd,
torch.nn): nothing here computes an exercise's answer.

In a notebook a failure shows that message alone, without the frames of this module
(`CheckFailure._render_traceback_`, which IPython uses instead of a traceback); when the
student's own code raised, one more line says where. `str(failure)` is the message itself,
which is what the grader reads.
"""

from __future__ import annotations

import inspect
import itertools
import sys
import traceback
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from helpers import known_mistakes
from helpers._validate import number, positive_int

# Name the known mistake a failing visible check's function behaves like (helpers.known_mistakes):
# None = in a notebook's kernel only (IPython running), True/False = always/never.
NAME_KNOWN_MISTAKES: bool | None = None
# Exercise -> what its function returned during the check now running (`call` records).
_TRACES: dict[str, known_mistakes.Trace] = {}
# Exercise -> its last visible check's outcome in this kernel (`progress` lists them).
_OUTCOMES: dict[str, str] = {}
# Exercise -> the trace of its last failed check (`last_failed_trace`).
_FAILED: dict[str, known_mistakes.Trace] = {}
# Say, when a check fails, that the student's function calls another exercise's function that
# fails its own check (`failing_callees`): None = in a notebook's kernel only, True/False =
# always/never. (The grader needs no such line: it gives a function the model solutions of the
# exercises it calls, instructor/infrastructure/sandbox/model_calls.py.)
NAME_FAILING_CALLEES: bool | None = None
# Exercise -> the function its last check called (`call` records), and the one that failed it.
_CHECKED: dict[str, Callable[..., Any]] = {}
_FAILING: dict[str, Callable[..., Any]] = {}


def _in_kernel() -> bool:
    shell = sys.modules.get("IPython")
    return bool(shell and shell.get_ipython() is not None)


def _naming() -> bool:
    if NAME_KNOWN_MISTAKES is not None:
        return NAME_KNOWN_MISTAKES
    return _in_kernel()


def _trace(exercise: str) -> known_mistakes.Trace:
    return _TRACES.setdefault(exercise, known_mistakes.Trace())


def start_check(exercise: str | None = None) -> None:
    """Forget what earlier checks recorded (of `exercise`, or of all): a check's trace starts
    empty. Runs before every notebook cell (an IPython event) and after each check ends."""
    if exercise is None:
        _TRACES.clear()
        _FAILED.clear()
    else:
        _TRACES.pop(exercise, None)


def last_failed_trace(exercise: str) -> known_mistakes.Trace | None:
    """What the function returned during the last failed check of `exercise`, or None."""
    return _FAILED.get(exercise)


def _known_mistake(exercise: str, problem: str, returned: str) -> str:
    """Record the exercise as failing; return the lines naming the known mistake its function
    behaves like (none when naming is off or the check traced no call). The trace ends with
    what the check found: its `problem` and what it saw `returned` (numbers rounded), which
    tell apart functions that return the same (a train_step's updated parameters)."""
    trace = _TRACES.pop(exercise, None)
    if trace is None:  # a check that reports, in its own words, a failure it caught: one trace
        trace = _FAILED.get(exercise)
    if trace is not None:
        trace.failed(problem, returned)
        _FAILED[exercise] = trace
    naming = _naming() and trace is not None
    named = trace.name(exercise) if naming else None
    _OUTCOMES[exercise] = f"failing: {named.description}" if named else "failing"
    if not naming:
        return ""
    if named is None:
        return "\n  known mistake: none of the course's known mistakes matches."
    return named.text(exercise)


class CheckFailure(AssertionError):
    """A visible or hidden check failed; the message says what, where, and what to try."""

    def _render_traceback_(self) -> list[str]:
        """What IPython shows for this failure instead of a traceback (IPython 7.34 and 8+):
        the message, and the line of the student's own code that raised, if one did."""
        lines = str(self).split("\n")
        lines[0] = f"\x1b[0;31m{type(self).__name__}\x1b[0m: {lines[0]}"
        where = _student_line(self.__context__)
        return lines + ([f"  raised at: {where}"] if where else [])


def _student_line(error: BaseException | None) -> str:
    """Where a student's function raised `error`: "line N of f: <code>" for the innermost frame
    in notebook code (a cell), or "" when there is none (or the exercise is still a stub)."""
    if error is None or isinstance(error, CheckFailure | NotImplementedError):
        return ""
    cells = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename.startswith("<ipython-input-") or "/ipykernel_" in frame.filename
    ]
    if not cells:
        return ""
    frame = cells[-1]
    code = f": {frame.line.strip()}" if frame.line else ""
    return f"line {frame.lineno} of {frame.name} (in its cell){code}"


def preview(values: Any, max_items: int = 3) -> str:
    """A short, readable rendering of an array's first few entries (or of any other value)."""
    if isinstance(values, np.ndarray):
        flat = values.reshape(-1)[:max_items] if values.ndim else values.reshape(1)
        text = np.array2string(flat, precision=3, suppress_small=False, floatmode="fixed")
        return text if values.ndim else text[1:-1].strip()  # a 0-d array is one number: no brackets
    text = repr(values)
    return text if len(text) <= 80 else text[:77] + "..."


def _student_namespace() -> dict[str, Any]:
    main = sys.modules.get("__main__")
    return vars(main) if main is not None else {}


def failing_callees(exercise: str, namespace: dict[str, Any] | None = None) -> list[str]:
    """The other exercises whose functions the student's function for `exercise` calls (itself
    or through their own helpers) and whose last visible check in this kernel failed on that
    very function (a function redefined since then is not blamed)."""
    namespace = _student_namespace() if namespace is None else namespace
    fn = namespace.get(exercise)
    if not callable(fn):
        return []
    seen: set[str] = {exercise}
    todo, found = [fn], []
    while todo and len(seen) < 200:
        for name in sorted(referenced_names(todo.pop()) - seen):
            seen.add(name)
            value = namespace.get(name)
            if name in _FAILING and value is _FAILING[name]:
                found.append(name)
            elif isinstance(value, types.FunctionType) and name not in _OUTCOMES:
                todo.append(value)  # the student's own helper: what it calls counts too
    return sorted(found)


def _blame(exercise: str, problem: str) -> tuple[str, str]:
    """The first line of a failure's message, and a line of what the check found, when the
    student's function calls another exercise's function that fails its own check."""
    enabled = NAME_FAILING_CALLEES if NAME_FAILING_CALLEES is not None else _in_kernel()
    callees = failing_callees(exercise) if enabled else []
    if not callees:
        return problem, ""
    them = " and ".join(f"your {c}" for c in callees)
    which = "which fails its check" if len(callees) == 1 else "which fail their checks"
    first = f"your {exercise} calls {them}, {which}: fix {' and '.join(callees)} first."
    return first, f"\n  found:    {problem}"


def fail(
    exercise: str, problem: str, *, inputs: str, returned: str, expected: str, hint: str
) -> None:
    """Raise a CheckFailure with the course's five-part message. When the student's function
    calls another exercise's function that fails its own check, the message starts by saying
    so (`failing_callees`) and names no known mistake of its own (it would be a false name).

    Raised `from None`: a failure reported while handling the student's exception does not
    chain that exception's traceback through this module (it stays in `__context__`)."""
    first, found = _blame(exercise, problem)
    named = _known_mistake(exercise, problem, returned)
    if found:
        named = ""
        _OUTCOMES[exercise] = f"failing: {first}"
    if exercise in _CHECKED:
        _FAILING[exercise] = _CHECKED[exercise]
    raise CheckFailure(
        f"{exercise}: {first}{found}\n"
        f"  input:    {inputs}\n"
        f"  returned: {returned}\n"
        f"  expected: {expected}\n"
        f"  hint:     {hint}" + named
    ) from None


IN_PLACE_HINT = (
    "work on a copy (x * c or np.array(x, dtype=float) makes a new array); never assign into "
    "an argument (x[...] = ..., x += ...)."
)


class InputChanged(CheckFailure):
    """A student's function changed, in place, an argument it must leave alone. Raised where
    the function ran (a grading sandbox, a diagnosis replay); `call` reports it as a five-part
    CheckFailure. before, after: the argument as it was given and as the call left it."""

    def __init__(self, exercise: str, argument: str, before: Any = None, after: Any = None):
        super().__init__(
            f"{exercise} changed its argument {argument} in place; it must not modify its "
            f"inputs\n  hint:     {IN_PLACE_HINT}"
        )
        self.exercise, self.argument, self.before, self.after = exercise, argument, before, after


def _torch_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def protected_copy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """What a student's function is given for the argument `value`: a copy of its data (numpy
    arrays and torch tensors, alone or in lists, tuples and dicts), so that the caller's own
    arrays, from which the expected value is computed, never change. Anything else is `value`
    itself: a random generator, a model or an optimizer is there to be changed (a draw advances
    the generator, a training step moves the model), and numbers and functions cannot be.
    memo: copies already made in this call, so that an array passed twice stays one array."""
    memo = {} if memo is None else memo
    if id(value) in memo:
        return memo[id(value)]
    if isinstance(value, np.ndarray):
        copied: Any = value.copy()
    elif _torch_tensor(value):
        copied = value.detach().clone().requires_grad_(value.requires_grad)
        if value.grad is not None:
            copied.grad = value.grad.detach().clone()
    elif type(value) in (list, tuple):
        copied = type(value)(protected_copy(v, memo) for v in value)
    elif type(value) is dict:
        copied = {k: protected_copy(v, memo) for k, v in value.items()}
    else:
        return value
    memo[id(value)] = copied
    return copied


def _same_array(a: np.ndarray, b: Any) -> bool:
    if not isinstance(b, np.ndarray) or a.shape != b.shape or a.dtype != b.dtype:
        return False
    try:
        return bool(np.array_equal(a, b, equal_nan=True))
    except TypeError:  # no NaN in this dtype (strings, objects)
        return bool(np.array_equal(a, b))


def same_data(original: Any, other: Any) -> bool:
    """Whether `other` holds the same data as `original` (see `protected_copy`): arrays and
    tensors by shape, type and every value (NaN equal to NaN), lists, tuples and dicts item by
    item; anything that is not data counts as the same (it may change)."""
    if isinstance(original, np.ndarray):
        return _same_array(original, other)
    if _torch_tensor(original):
        if not _torch_tensor(other) or original.shape != other.shape:
            return False
        a, b = original.detach(), other.detach()
        return a.dtype == b.dtype and bool(((a == b) | ((a != a) & (b != b))).all())
    if type(original) in (list, tuple):
        return (
            type(other) is type(original)
            and len(other) == len(original)
            and all(same_data(a, b) for a, b in zip(original, other, strict=True))
        )
    if type(original) is dict:
        return (
            type(other) is dict
            and other.keys() == original.keys()
            and all(same_data(original[k], other[k]) for k in original)
        )
    return True


def argument_labels(fn: Callable[..., Any], args: tuple, kwargs: dict) -> list[str]:
    """The name of each argument of a call fn(*args, **kwargs), positional ones first, as the
    function's signature names them ("argument 3" where it does not)."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    positional = []
    for p in parameters:
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break
        positional.append(p.name)
    labels = [
        positional[i] if i < len(positional) else f"argument {i + 1}" for i in range(len(args))
    ]
    return labels + [str(k) for k in kwargs]


def first_changed(originals: list[Any], given: list[Any]) -> int | None:
    """The index of the first argument whose data `given` no longer matches `originals`."""
    for index, (original, other) in enumerate(zip(originals, given, strict=False)):
        if not same_data(original, other):
            return index
    return None


def _data_preview(value: Any) -> str:
    if _torch_tensor(value):
        value = value.detach().cpu().numpy()
    if type(value) in (list, tuple) and value and isinstance(value[0], np.ndarray):
        return f"[{preview(value[0])}, ...] ({len(value)} items)"
    return preview(value)


def _first_difference(where: str, before: Any, after: Any) -> tuple[str, str]:
    """When the previews of two same-shape float arrays look alike (a change in the last
    digits), their first differing entry in full: "; x[1] = -0.24999999999999997" and
    "; x[1] = -0.25". Otherwise two empty strings."""
    if not (isinstance(before, np.ndarray) and isinstance(after, np.ndarray)):
        return "", ""
    if before.shape != after.shape or preview(before) != preview(after):
        return "", ""
    if not (np.issubdtype(before.dtype, np.floating) and np.issubdtype(after.dtype, np.floating)):
        return "", ""
    differ = np.argwhere(~((before == after) | (np.isnan(before) & np.isnan(after))))
    if not len(differ):
        return "", ""
    i = tuple(int(j) for j in differ[0])
    entry = f"{where}[{', '.join(map(str, i))}]" if i else where
    return f"; {entry} = {float(after[i])!r}", f"; {entry} = {float(before[i])!r}"


def _fail_in_place(exercise: str, changed: InputChanged, inputs: str) -> None:
    where = changed.argument
    after, before = _first_difference(where, changed.before, changed.after)
    fail(
        exercise,
        f"changed its argument {where} in place; it must not modify its inputs.",
        inputs=inputs,
        returned=f"{where} after the call: {_data_preview(changed.after)}{after}",
        expected=f"{where} unchanged: {_data_preview(changed.before)}{before}",
        hint=IN_PLACE_HINT,
    )


def _fail_for_exception(exercise: str, error: Exception, inputs: str) -> None:
    """Fail for an exception the student's function raised (see `call`; called while it is
    being handled, so the failure's context is the student's exception)."""
    if isinstance(error, NotImplementedError):
        fail(
            exercise,
            "not implemented yet.",
            inputs=inputs,
            returned="NotImplementedError",
            expected="your implementation",
            hint="replace `raise NotImplementedError()` with your code, then run the cell that "
            "defines the function before this check.",
        )
    fail(  # a student's bug: report it as a failed check with its input
        exercise,
        f"raised {type(error).__name__}.",
        inputs=inputs,
        returned=f"{type(error).__name__}: {error}",
        expected="a result, not an exception",
        hint="read the error above; check the shapes of your intermediate arrays "
        "(the docstring lists them).",
    )


def call(
    exercise: str, fn: Callable[..., Any], *args: Any, inputs: str, **kwargs: Any
) -> tuple[Any, list[warnings.WarningMessage]]:
    """Call a student's function; return (result, warnings it raised).

    Warnings are recorded, not printed (nbgrader zeroes a test cell that writes to stderr).
    An exception becomes a CheckFailure that names the input; NotImplementedError says the
    exercise is still to do. The function works on copies of the data it is given
    (`protected_copy`): the caller's arrays stay as they were, and a function that changes an
    argument in place fails, naming the argument (here, or where it ran: `InputChanged`).
    """
    return _call(exercise, fn, args, kwargs, inputs)


def _call(
    exercise: str,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    inputs: str,
    let_raise: bool = False,
) -> tuple[Any, list[warnings.WarningMessage]]:
    """`call`; with let_raise, the student's exception (other than NotImplementedError) is
    traced and re-raised for the caller to judge (`expect_raises`)."""
    _CHECKED[exercise] = fn
    memo: dict[int, Any] = {}
    given_args = tuple(protected_copy(a, memo) for a in args)
    given_kwargs = {k: protected_copy(v, memo) for k, v in kwargs.items()}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = fn(*given_args, **given_kwargs)
    except InputChanged as changed:  # found where the function ran (a grading sandbox)
        _fail_in_place(exercise, changed, inputs)
    except CheckFailure:
        raise
    except Exception as error:
        _trace(exercise).raised(error)
        if let_raise and not isinstance(error, NotImplementedError):
            raise
        _fail_for_exception(exercise, error, inputs)
    _trace(exercise).returned(result)
    originals, given = [*args, *kwargs.values()], [*given_args, *given_kwargs.values()]
    index = first_changed(originals, given)
    if index is not None:
        label = argument_labels(fn, args, kwargs)[index]
        _fail_in_place(
            exercise, InputChanged(exercise, label, originals[index], given[index]), inputs
        )
    return result, list(caught)


def expect_raises(
    exercise: str,
    error: type[Exception],
    fn: Callable[..., Any],
    *args: Any,
    inputs: str,
    problem: str,
    expected: str,
    hint: str,
) -> None:
    """Fail unless fn(*args) raises `error` (a bad input the exercise must refuse).

    Another exception fails with this check's `expected` and `hint` (a ZeroDivisionError or a
    KeyError where a ValueError was due); NotImplementedError fails as it does in `call`.
    """
    try:
        got, _ = _call(exercise, fn, args, {}, inputs, let_raise=True)
    except CheckFailure:
        raise
    except error:
        return
    except Exception as other:
        fail(
            exercise,
            f"raised {type(other).__name__}, not {error.__name__}.",
            inputs=inputs,
            returned=f"{type(other).__name__}: {other}",
            expected=expected,
            hint=hint,
        )
    fail(exercise, problem, inputs=inputs, returned=preview(got), expected=expected, hint=hint)


def as_array(
    exercise: str, name: str, returned: Any, shape: tuple[int, ...], *, inputs: str, hint: str = ""
) -> np.ndarray:
    """Check `returned` is a finite float numpy array of `shape`; return it as np.ndarray."""
    if shape == () and isinstance(returned, float | np.floating):
        returned = np.asarray(returned, dtype=np.float64)
    if not isinstance(returned, np.ndarray):
        fail(
            exercise,
            f"{name} should be a numpy array.",
            inputs=inputs,
            returned=f"{type(returned).__name__}",
            expected=f"np.ndarray of shape {shape}",
            hint=hint or "return numpy arrays (np.float64), not lists, tensors or scalars.",
        )
    if returned.shape != tuple(shape):
        fail(
            exercise,
            f"{name} has the wrong shape.",
            inputs=inputs,
            returned=f"shape {returned.shape}",
            expected=f"shape {tuple(shape)}",
            hint=hint
            or "compare with the shapes in the docstring; a transposed matrix or a "
            "missing/extra time step changes the shape.",
        )
    if not np.issubdtype(returned.dtype, np.floating):
        fail(
            exercise,
            f"{name} should hold floats.",
            inputs=inputs,
            returned=f"dtype {returned.dtype}",
            expected="dtype float64",
            hint="integer arrays lose the fractional part; build results with float arrays.",
        )
    if not np.all(np.isfinite(returned)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(returned))[0])
        fail(
            exercise,
            f"{name} contains inf or NaN.",
            inputs=inputs,
            returned=f"{name}{list(bad)} = {returned[bad]}",
            expected="finite values",
            hint=hint or "look for an overflow or a division by zero.",
        )
    return returned


def max_relative_error(returned: np.ndarray, expected: np.ndarray) -> float:
    """max |a - b| / max(1e-8, |a| + |b|), the course's gradient-check measure."""
    a, b = np.asarray(returned, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)), initial=0.0))


def close(returned: Any, expected: Any, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """True when every entry agrees: |a - b| <= atol + rtol * |b| (the shapes must match)."""
    a, b = np.asarray(returned, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= atol + rtol * np.abs(b)))


def expect_close(
    exercise: str,
    name: str,
    returned: Any,
    expected: np.ndarray,
    *,
    inputs: str,
    hint: str,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> np.ndarray:
    """Check `returned` matches `expected` (shape, finiteness, values); return it as an array.

    On failure the message shows the row holding the worst entry, returned against expected.
    """
    expected = np.asarray(expected, dtype=np.float64)
    got = as_array(exercise, name, returned, expected.shape, inputs=inputs)
    if close(got, expected, rtol=rtol, atol=atol):
        return got
    err = np.abs(got - expected) - rtol * np.abs(expected)
    if expected.ndim == 0:
        where, window = name, ()
    else:
        worst = np.unravel_index(int(np.argmax(err)), expected.shape)
        start = max(0, min(int(worst[-1]) - 1, expected.shape[-1] - 3))
        window = (*worst[:-1], slice(start, start + 3))
        where = f"{name}[{''.join(f'{i}, ' for i in worst[:-1])}{start}:{start + 3}]"
    if exercise in _TRACES:
        _TRACES[exercise].returned(got)  # what was found wrong, for naming a known mistake
    fail(
        exercise,
        f"{name} is wrong.",
        inputs=inputs,
        returned=f"{where} = {preview(np.asarray(got[window]))}",
        expected=f"{where} = {preview(np.asarray(expected[window]))}   "
        f"({_worst_relative_error(name, got, expected)})",
        hint=hint,
    )
    return got  # not reached


def _worst_relative_error(name: str, got: np.ndarray, expected: np.ndarray) -> str:
    """The largest relative error, the entry where it is, and the two values there with the
    digits that tell them apart (a window printed to 3 decimals can hide the difference)."""
    relative = np.abs(got - expected) / np.maximum(1e-8, np.abs(got) + np.abs(expected))
    worst = np.unravel_index(int(np.argmax(relative)), expected.shape)
    a, b = float(got[worst]), float(expected[worst])
    digits = next((d for d in range(4, 17) if f"{a:.{d}g}" != f"{b:.{d}g}"), 17)
    digits += digits > 4  # one digit past where they part, when 4 did not tell them apart
    shown = f"{a:.{digits}g}", f"{b:.{digits}g}"
    entry = f", at {name}[{', '.join(str(int(i)) for i in worst)}]" if worst else ""
    why = (
        "" if relative[worst] < 1 - 1e-9 else ", opposite signs" if a * b < 0 else ", one of them 0"
    )
    return (
        f"max relative error {relative[worst]:.1e}{entry}: returned {shown[0]}, "
        f"expected {shown[1]}{why}"
    )


def expect(
    exercise: str,
    condition: bool,
    problem: str,
    *,
    inputs: str,
    returned: str,
    expected: str,
    hint: str,
) -> None:
    """Fail with the five-part message unless `condition` holds."""
    if not condition:
        fail(exercise, problem, inputs=inputs, returned=returned, expected=expected, hint=hint)


def as_number(exercise: str, name: str, returned: Any, *, inputs: str, hint: str) -> float:
    """Check `returned` is one real, finite number (a Python or numpy float or int, or a 0-d
    float array); return it as a float."""
    ok = (
        isinstance(returned, int | float | np.integer | np.floating | np.ndarray)
        and not isinstance(returned, bool | np.bool_)
        and np.ndim(returned) == 0
        and np.isrealobj(returned)
    )
    expect(
        exercise,
        ok,
        f"{name} should be one real number.",
        inputs=inputs,
        returned=f"{type(returned).__name__}: {preview(returned)}",
        expected="a float",
        hint=hint,
    )
    value = float(returned)
    expect(
        exercise,
        bool(np.isfinite(value)),
        f"{name} is inf or NaN.",
        inputs=inputs,
        returned=repr(value),
        expected="a finite number",
        hint="look for an overflow or a division by zero.",
    )
    return value


def expect_unchanged(exercise: str, name: str, before: Any, after: Any, *, inputs: str) -> None:
    """Fail when a student's function changed its argument `name` in place.

    before: a copy taken before the call; after: the argument itself after the call (an array,
    or a list of arrays).
    """
    many = isinstance(before, list)
    befores, afters = (before, after) if many else ([before], [after])
    for i, (old, new) in enumerate(itertools.zip_longest(befores, afters)):
        if (
            old is None
            or new is None
            or np.shape(old) != np.shape(new)
            or not np.array_equal(old, new, equal_nan=True)
        ):
            where = f"{name}[{i}]" if many else name
            fail(
                exercise,
                f"changed its input {name} in place.",
                inputs=inputs,
                returned=f"{where} after the call: {preview(np.asarray(new))}",
                expected=f"{where} unchanged: {preview(np.asarray(old))}",
                hint="work on a copy (x * c or np.array(x, dtype=float) makes a new array); "
                "never assign into an argument (x[...] = ..., x *= ...).",
            )


def expect_elementwise(
    exercise: str,
    fn: Callable[..., Any],
    x: Any,
    expected: Any,
    *args: Any,
    hint: str,
    warning_hint: str,
    atol: float = 1e-300,
) -> None:
    """Check an elementwise function: fn(x, *args) must equal `expected` (same shape, relative
    error <= 1e-9, or an absolute error <= atol), raise no warning (an overflow in exp, say) and
    leave x unchanged."""
    x = np.array(x, dtype=np.float64)
    before = x.copy()
    extra = "".join(f", {a!r}" for a in args)
    inputs = f"x of shape {x.shape}: {preview(x, 4)}{extra}"
    got, caught = call(exercise, fn, x, *args, inputs=inputs)
    warned = [f"{w.category.__name__}: {w.message}" for w in caught]
    expect(
        exercise,
        not warned,
        "raised a warning.",
        inputs=inputs,
        returned=warned[0] if warned else "",
        expected="no warning",
        hint=warning_hint,
    )
    expect_unchanged(exercise, "x", before, x, inputs=inputs)
    expect_close(
        exercise,
        f"{exercise}(x{extra})",
        got,
        expected,
        inputs=inputs,
        rtol=1e-9,
        atol=atol,
        hint=hint,
    )


def first_bad_step(num_steps: int, agrees: Callable[[int], bool]) -> int | None:
    """The smallest t in 1..num_steps for which agrees(t) is False, or None when all agree.

    Used to localise a sequence-level error: agrees(t) compares a student's function with the
    oracle on the first t time steps only.
    """
    num_steps = positive_int("num_steps", num_steps)
    for t in range(1, num_steps + 1):
        if not agrees(t):
            return t
    return None


def referenced_names(fn: Callable[..., Any]) -> set[str]:
    """Every global or attribute name a function's code (nested functions included) refers to,
    plus the module names of the globals it uses (so `import torch as T` is still seen)."""
    names: set[str] = set()
    codes = [getattr(fn, "__code__", None)]
    while codes:
        code = codes.pop()
        if code is None:
            continue
        names.update(code.co_names)
        codes.extend(c for c in code.co_consts if hasattr(c, "co_names"))
    glob = getattr(fn, "__globals__", {})
    values = [glob[name] for name in names if name in glob]
    values += [
        cell.cell_contents
        for cell in (getattr(fn, "__closure__", None) or ())
        if cell.cell_contents is not None
    ]
    for value in values:
        module = (
            getattr(value, "__name__", None)
            if isinstance(value, types.ModuleType)
            else getattr(value, "__module__", None)
        )
        if isinstance(module, str):
            names.add(module.split(".")[0])
    return names


def expect_from_scratch(
    exercise: str, fn: Callable[..., Any], forbidden: tuple[str, ...] = ("torch",)
) -> None:
    """Fail when a from-scratch exercise calls torch (or another forbidden name) instead of
    computing its result with numpy."""
    used = sorted(referenced_names(fn) & set(forbidden))
    expect(
        exercise,
        not used,
        "must be written with numpy alone.",
        inputs="the function's code",
        returned=f"it uses {', '.join(used)}",
        expected="numpy operations only",
        hint="the point is to derive and write the computation yourself; PyTorch is the "
        "checker's oracle, not part of the answer.",
    )


def passed(exercise: str, what: str = "all visible checks") -> None:
    """Print a one-line success message (stdout only: test cells must stay silent on stderr)."""
    start_check(exercise)
    _OUTCOMES[exercise] = "passed"
    _FAILING.pop(exercise, None)
    print(f"\u2714 {exercise}: {what} passed.")


def progress(exercises: list[str] | None = None) -> None:
    """Print where this notebook stands: every exercise (by default those the shipped table
    lists for the notebooks that define them, else those checked so far) as passed, failing
    (with the known mistake when one was named) or not checked yet."""
    exercises = exercises or known_mistakes.exercises_defined(sys.modules["__main__"].__dict__)
    exercises = exercises or list(_OUTCOMES)
    width = max((len(e) for e in exercises), default=0)
    for exercise in exercises:
        outcome = _OUTCOMES.get(exercise, "not checked yet: run its check cell")
        mark = (
            "\u2714" if outcome == "passed" else "\u2718" if outcome.startswith("f") else "\u2022"
        )
        print(f"{mark} {exercise:<{width}}  {outcome}")
    done = sum(_OUTCOMES.get(e) == "passed" for e in exercises)
    print(f"{done} of {len(exercises)} exercises pass their visible checks.")


def _watch_cells() -> None:
    """In a notebook's kernel, start every cell with empty traces (`start_check`)."""
    shell = sys.modules.get("IPython")
    ip = shell.get_ipython() if shell else None
    if ip is not None:
        ip.events.register("pre_run_cell", lambda *args: start_check())


_watch_cells()


@dataclass(frozen=True)
class RNNCase:
    """Random inputs for a vanilla RNN, in float64 and the contract's layouts.

    xs (T, B, D), h0 (B, H), W_xh (H, D), W_hh (H, H), b_h (H,), dhs (T, B, H): dhs[t] plays the
    loss's direct gradient with respect to h_{t+1}.
    """

    T: int
    B: int
    D: int
    H: int
    seed: int
    xs: np.ndarray
    h0: np.ndarray
    W_xh: np.ndarray
    W_hh: np.ndarray
    b_h: np.ndarray
    dhs: np.ndarray

    @property
    def params(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(W_xh, W_hh, b_h), the order every exercise takes them in."""
        return self.W_xh, self.W_hh, self.b_h

    def describe(self) -> str:
        """How to rebuild this case: shown in every failure message."""
        return (
            f"T={self.T}, B={self.B}, D={self.D}, H={self.H}, seed {self.seed} "
            f"(see helpers.checks.small_rnn_case)"
        )

    def prefix(self, t: int) -> RNNCase:
        """The same case cut to its first t time steps."""
        return RNNCase(
            t,
            self.B,
            self.D,
            self.H,
            self.seed,
            self.xs[:t],
            self.h0,
            self.W_xh,
            self.W_hh,
            self.b_h,
            self.dhs[:t],
        )


def small_rnn_case(
    T: int = 3, B: int = 2, D: int = 4, H: int = 5, seed: int = 0, scale: float = 0.5
) -> RNNCase:
    """A reproducible RNN problem: entries are Gaussian with standard deviation `scale`.

    H and D differ by default so that a transposed weight matrix fails loudly on shapes too.
    """
    T, B, D, H = (positive_int(n, v) for n, v in (("T", T), ("B", B), ("D", D), ("H", H)))
    scale = number("scale", scale, positive=True)
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(T, B, D))
    h0 = rng.normal(scale=scale, size=(B, H))
    W_xh = rng.normal(scale=scale, size=(H, D))
    W_hh = rng.normal(scale=scale, size=(H, H))
    b_h = rng.normal(scale=scale, size=(H,))
    dhs = rng.normal(size=(T, B, H))
    return RNNCase(T, B, D, H, seed, xs, h0, W_xh, W_hh, b_h, dhs)
