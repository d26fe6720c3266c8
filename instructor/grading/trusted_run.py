"""How a submission is tested: the instructor's test cells, in the grader's process, against
the student's functions, which run in confined sandboxes.

The instructor's set-up, checking-tool and test cells come from the source notebook
(`solutions/`), never from the submission. Each exercise function the source defines is bound to
a `StudentFunction` that calls the student's exercise cells in a sandbox: one without torch for
exercises written with numpy, one with torch for exercises that work on torch objects (decided
by the model solution: see `sandbox.uses_torch`). Only plain data comes back; every comparison
happens here. A student's function that calls another exercise above its own gets that
exercise's model solution (`sandbox.model_calls`), so each exercise is graded on its own.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass, field

import nbformat
from nbformat.notebooknode import NotebookNode

from instructor.diagnosis.recorder import Call, RecordedFunction
from instructor.infrastructure import confine, source_notebook
from instructor.infrastructure.sandbox import (
    Limits,
    ModelCalls,
    Sandbox,
    StudentFunction,
    function_codes,
    import_aliases,
    start_zygote,
)
from instructor.records.cells import (
    grade_id,
    is_solution_cell,
    is_unwritten,
    python_source,
)
from instructor.records.problems import Kind, Problem


@dataclass
class Outcome:
    """What one test cell printed, and the error it ended with (None: it passed)."""

    grade_id: str
    stdout: str
    error: tuple[str, str] | None

    @property
    def passed(self) -> bool:
        return self.error is None

    def outputs(self) -> list[NotebookNode]:
        outs = (
            [nbformat.v4.new_output("stream", name="stdout", text=self.stdout[-5000:])]
            if self.stdout
            else []
        )
        return outs + ([error_output(*self.error)] if self.error else [])


@dataclass
class TrustedRun:
    """Every test cell's outcome by grade id, and the problems seen on the way; with recording
    on, also every call the tests made to the student's functions (for
    `instructor.diagnosis.replay`)."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    owner: dict[str, str] = field(default_factory=dict)  # function -> its exercise cell's id
    students: dict[str, StudentFunction] = field(default_factory=dict)
    calls: dict[str, list[Call]] = field(default_factory=dict)


def error_output(name: str, message: str) -> NotebookNode:
    """An error output that quotes only the message (never a line of test source)."""
    return nbformat.v4.new_output(
        "error",
        ename=name,
        evalue=message,
        traceback=[
            f"{name}: {line}" if i == 0 else line for i, line in enumerate(message.splitlines())
        ],
    )


def exec_quietly(source: str, label: str, namespace: dict, out: io.StringIO) -> None:
    """Run trusted cell source in `namespace`; its stdout goes to `out`, stderr and warnings
    nowhere (nbgrader would read them as a failure)."""
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(io.StringIO()),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        exec(compile(python_source(source), f"<{label}>", "exec"), namespace)


def model_calls(
    source_nb: NotebookNode, limits: Limits | None = None, confined: bool = True
) -> ModelCalls:
    """The source notebook's model solutions, for a student's calls to other exercises."""
    parsed = source_notebook.parse(source_nb)
    return _model_calls(parsed, limits, confined)


def _model_calls(
    parsed: source_notebook.SourceNotebook,
    limits: Limits | None,
    confined: bool,
    answers: list[tuple[str, str]] | None = None,
) -> ModelCalls:
    """The model solutions of `parsed`, answering none of the exercises whose cell in
    `answers` (grade id, source) the student left as released."""
    order = {name: index for index, m in enumerate(parsed.models) for name in m.functions}
    stubs = {gid for gid, source in answers or [] if is_unwritten(source)}
    unwritten = frozenset(name for name, gid in parsed.owner.items() if gid in stubs)
    return ModelCalls(
        parsed.setup,
        [(m.label, m.source) for m in parsed.models],
        order,
        parsed.with_torch,
        limits,
        confined,
        unwritten,
    )


def _kinds(owner: dict[str, str], with_torch: set[str]) -> set[bool]:
    """The sandboxes the exercises `owner` need: True for the one with torch, False for the
    one without."""
    return {name in with_torch for name in owner}


def sandbox_kinds(source_nb: NotebookNode) -> set[bool]:
    """The sandboxes `run_tests` starts for this source notebook."""
    parsed = source_notebook.parse(source_nb)
    return _kinds(parsed.owner, parsed.with_torch)


def warm_up(source_nb: NotebookNode) -> None:
    """Start, in the background, the sandbox zygotes that testing against this source notebook
    will use (`sandbox.start_zygote`), so that the first submission does not wait for them."""
    for allow_torch in sandbox_kinds(source_nb):
        start_zygote(allow_torch)


def run_tests(
    source_nb: NotebookNode,
    submission_nb: NotebookNode,
    limits: Limits | None = None,
    confined: bool = True,
    record: bool = False,
) -> TrustedRun:
    """Run the source notebook's test cells against the submission's exercise cells.

    source_nb: the instructor's notebook (solutions and hidden tests); its first code cell is
    the set-up, its locked code cells the checking tools. submission_nb: the student's notebook;
    only its exercise cells (by nbgrader metadata) are used, in notebook order (a duplicated
    exercise cell: the last definition wins, as in a kernel). record: keep every call the tests
    make to the student's functions (`instructor.diagnosis.recorder.RecordedFunction`), for
    diagnosis.
    """
    parsed = source_notebook.parse(source_nb)
    answers = [
        (grade_id(c), python_source(c.source))
        for c in submission_nb.cells
        if is_solution_cell(c) and grade_id(c)
    ]
    models = _model_calls(parsed, limits, confined, answers)
    sandboxes = {
        allow: Sandbox(
            parsed.setup,
            answers,
            limits,
            confine.make_scratch() if confined else None,
            allow_torch=allow,
            models=models,
        )
        for allow in _kinds(parsed.owner, parsed.with_torch)
    }
    run = TrustedRun(owner=dict(parsed.owner))
    try:
        namespace = _test_namespace(parsed, answers, sandboxes, run, record)
        for cell in parsed.tests:
            run.outcomes[grade_id(cell)] = _run_test(cell, namespace)
    finally:
        models.close()
        for allow, sandbox in sandboxes.items():
            _close_sandbox(sandbox, allow, parsed, run)
    run.problems += [
        Problem(Kind.TESTS_NOT_RUN, gid)
        for gid, o in run.outcomes.items()
        if o.error and o.error[0] in ("TimeLimitExceeded", "ProcessDied")
    ]
    return run


def _test_namespace(
    parsed: source_notebook.SourceNotebook,
    answers: list[tuple[str, str]],
    sandboxes: dict[bool, Sandbox],
    run: TrustedRun,
    record: bool,
) -> dict:
    """The namespace the test cells run in: the set-up cell and the checking tools, run here in
    the grader, and each exercise as the student's function in its sandbox (recorded into `run`
    when `record`)."""
    namespace: dict = {"__name__": "__main__"}
    exec_quietly(parsed.setup_cell, "set-up", namespace, io.StringIO())
    for label, source in parsed.tools:
        exec_quietly(source, label, namespace, io.StringIO())
    codes: dict = {}
    aliases: dict = {}
    for _, source in answers:
        codes.update(function_codes(source))
        aliases.update(import_aliases(source))
    for name in parsed.owner:
        sandbox = sandboxes[name in parsed.with_torch]
        if record:
            log = run.calls.setdefault(name, [])
            function = RecordedFunction(sandbox, name, codes.get(name), aliases, log)
        else:
            function = StudentFunction(sandbox, name, codes.get(name), aliases)
        function.parameters = parsed.parameters.get(name, ())
        namespace[name] = run.students[name] = function
    return namespace


def _close_sandbox(
    sandbox: Sandbox, allow_torch: bool, parsed: source_notebook.SourceNotebook, run: TrustedRun
) -> None:
    """Close a sandbox and remove its scratch folder; its problems, and the errors of the
    exercise cells it ran, go into `run`."""
    sandbox.close()
    if sandbox.scratch:
        confine.remove_scratch(sandbox.scratch)
    run.problems += sandbox.problems
    mine = {
        parsed.owner[name] for name in parsed.owner if (name in parsed.with_torch) == allow_torch
    }
    run.problems += [
        Problem(Kind.EXERCISE_CELL_FAILED, label, message)
        for label, message in sandbox.cell_errors.items()
        if label in mine
    ]


def grade_submission(
    source_nb: NotebookNode,
    submission_nb: NotebookNode,
    limits: Limits | None = None,
    confined: bool = True,
) -> dict[str, Outcome]:
    """grade id -> Outcome of every test cell (see `run_tests`)."""
    return run_tests(source_nb, submission_nb, limits, confined).outcomes


def _run_test(cell: NotebookNode, namespace: dict) -> Outcome:
    gid = grade_id(cell)
    out = io.StringIO()
    error = None
    try:
        exec_quietly(cell.source, gid, dict(namespace), out)
    except AssertionError as failure:  # helpers.checks.CheckFailure and plain asserts
        error = (type(failure).__name__, str(failure) or "a check failed")
    except Exception as failure:  # the student's result broke the check: report, don't leak
        error = (type(failure).__name__, f"{failure}\n(while checking {gid})")
    return Outcome(gid, out.getvalue(), error)
