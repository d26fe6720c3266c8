"""The grader's static view of a student's functions: what can be learned from their source
without running it (never run in the grader)."""

from __future__ import annotations

import ast
import inspect
import types
from typing import Any


class StudentFunction:
    """The grader's handle on a student's function: calling it calls `sandbox`.

    `__code__` and `__globals__` are built statically from the student's source so that
    `helpers.checks.referenced_names` can inspect the function without running it here.
    """

    __closure__ = None
    # The exercise's positional parameter names, as the model solution names them: how a failure
    # names an argument the student's function changed in place (set by the grader).
    parameters: tuple[str, ...] = ()

    def __init__(
        self,
        sandbox: Any,
        name: str,
        code: types.CodeType | None = None,
        aliases: dict[str, Any] | None = None,
    ):
        self.sandbox, self.__name__ = sandbox, name
        self.__code__, self.__globals__ = code, dict(aliases or {})

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.sandbox.call(self.__name__, args, kwargs, self.parameters)

    @property
    def __signature__(self) -> inspect.Signature:
        """The positional parameters, by name (`helpers.checks.argument_labels` reads them)."""
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        named = [inspect.Parameter(p, kind) for p in self.parameters]
        rest = [
            inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL),
            inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD),
        ]
        return inspect.Signature(named + rest)

    def __repr__(self) -> str:
        return f"<your function {self.__name__}>"


def function_codes(source: str) -> dict[str, types.CodeType]:
    """name -> code object of each top-level function a cell defines (compiled, not run)."""
    try:
        module = compile(source, "<student>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # nested too deep: as unparsable
        return {}
    return {c.co_name: c for c in module.co_consts if isinstance(c, types.CodeType)}


def import_aliases(source: str) -> dict[str, Any]:
    """name -> a stand-in carrying the module it was imported from, for every import in a cell:
    `import torch as T` gives T -> module 'torch'; `from torch import tanh` gives tanh -> an
    object whose __module__ is 'torch'."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # nested too deep: as unparsable
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
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # nested too deep: as unparsable
        return []
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def uses_torch(source: str) -> set[str]:
    """The top-level functions of `source` whose code names torch (an import of it, or the name
    itself): exercises that work on torch objects, graded where torch is available."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # nested too deep: as unparsable
        return set()
    found = set()
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            named = isinstance(inner, ast.Name) and inner.id == "torch"
            imported = (
                isinstance(inner, ast.Import)
                and any(a.name.split(".")[0] == "torch" for a in inner.names)
            ) or (
                isinstance(inner, ast.ImportFrom) and (inner.module or "").split(".")[0] == "torch"
            )
            if named or imported:
                found.add(node.name)
                break
    return found


def positional_parameters(code: types.CodeType | None) -> tuple[str, ...]:
    """The positional parameter names of a function's code object (empty for None)."""
    return () if code is None else tuple(code.co_varnames[: code.co_argcount])
