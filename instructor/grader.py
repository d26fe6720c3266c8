"""Grading that student code cannot game, wired into nbgrader's autograde and feedback.

nbgrader runs a notebook's test cells in the student's kernel, where a student cell can rebind
`np.allclose`, install an IPython hook, or return an object that equals everything. Here the
student's kernel never runs a test cell. Instead:

1. `GradeExecute` runs the submission in a confined kernel for its outputs (the feedback shows
   them), skipping every grade cell and marking it "not graded" (so a failure further on can only
   cost points, never give them);
2. `TrustedGrading` runs the instructor's own set-up, checking-tool and test cells, taken from
   `solutions/` and not from the submission, in the grader's process. The exercise names are
   bound to `StudentFunction`s that call the student's exercise cells in a fresh, confined
   sandbox process (`instructor.sandbox`); only plain data comes back, and every comparison
   happens here. Each grade cell's outputs are replaced by what the trusted run printed or
   raised, and nbgrader's `SaveAutoGrades` scores those;
3. `HideHiddenTests` removes hidden tests from the feedback; failure messages never quote them.

Graded code is what the exercise cells define: a helper a student writes in a cell of their own
is not seen by the grader (the notebooks say so).
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Bool, Float, Integer

from instructor import confine
from instructor.sandbox import (
    Limits,
    Sandbox,
    StudentFunction,
    defined_functions,
    function_codes,
    import_aliases,
)

HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
NOT_GRADED = "NotGraded"


def nbgrader_meta(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test_cell(cell: NotebookNode) -> bool:
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def python_source(source: str) -> str:
    """IPython cell source as plain Python (magics become get_ipython() calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def error_output(name: str, message: str) -> NotebookNode:
    """An error output that quotes only the message (never a line of test source)."""
    return nbformat.v4.new_output("error", ename=name, evalue=message,
                                  traceback=[f"{name}: {line}" if i == 0 else line
                                             for i, line in enumerate(message.splitlines())])


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
        outs = [nbformat.v4.new_output("stream", name="stdout", text=self.stdout[-5000:])
                ] if self.stdout else []
        return outs + ([error_output(*self.error)] if self.error else [])


def _exec_quietly(source: str, label: str, namespace: dict, out: io.StringIO) -> None:
    """Run trusted cell source in `namespace`; its stdout goes to `out`, stderr and warnings
    nowhere (nbgrader would read them as a failure)."""
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(python_source(source), f"<{label}>", "exec"), namespace)


def grade_submission(source_nb: NotebookNode, submission_nb: NotebookNode,
                     limits: Limits | None = None, confined: bool = True) -> dict[str, Outcome]:
    """Run the source notebook's test cells against the submission's exercise cells.

    source_nb: the instructor's notebook (solutions and hidden tests); its first code cell is
    the set-up, its locked code cells the checking tools. submission_nb: the student's notebook;
    only its solution cells (by nbgrader metadata) are used. Returns grade_id -> Outcome.
    """
    code = [c for c in source_nb.cells if c.cell_type == "code"]
    setup = code[0].source
    tools = [c for c in code[1:] if nbgrader_meta(c).get("locked") and not is_test_cell(c)]
    tests = [c for c in code if is_test_cell(c)]
    expected: list[str] = []
    for cell in code:
        if nbgrader_meta(cell).get("solution"):
            expected += defined_functions(python_source(strip_markers(cell.source)))
    answers = [(nbgrader_meta(c)["grade_id"], python_source(c.source))
               for c in submission_nb.cells
               if c.cell_type == "code" and nbgrader_meta(c).get("solution")
               and nbgrader_meta(c).get("grade_id")]
    scratch = confine.make_scratch() if confined else None
    sandbox = Sandbox(python_source(setup), answers, limits, scratch)
    try:
        namespace: dict = {"__name__": "__main__"}
        _exec_quietly(setup, "set-up", namespace, io.StringIO())
        for cell in tools:
            _exec_quietly(cell.source, nbgrader_meta(cell).get("grade_id", "tools"), namespace,
                          io.StringIO())
        codes: dict = {}
        aliases: dict = {}
        for _, source in answers:
            codes.update(function_codes(source))
            aliases.update(import_aliases(source))
        for name in expected:
            namespace[name] = StudentFunction(sandbox, name, codes.get(name), aliases)
        return {nbgrader_meta(c)["grade_id"]: _run_test(c, namespace) for c in tests}
    finally:
        sandbox.close()
        if scratch:
            confine.remove_scratch(scratch)


def _run_test(cell: NotebookNode, namespace: dict) -> Outcome:
    gid = nbgrader_meta(cell)["grade_id"]
    out = io.StringIO()
    error = None
    try:
        _exec_quietly(cell.source, gid, dict(namespace), out)
    except AssertionError as failure:  # helpers.checks.CheckFailure and plain asserts
        error = (type(failure).__name__, str(failure) or "a check failed")
    except Exception as failure:  # the student's result broke the check: report, don't leak
        error = (type(failure).__name__, f"{failure}\n(while checking {gid})")
    return Outcome(gid, out.getvalue(), error)


def strip_markers(source: str) -> str:
    """A solution cell's source without the BEGIN/END SOLUTION marker lines."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in SOLUTION_MARKERS)


def source_notebook(config, resources: dict) -> Path:
    """The instructor's version of the notebook being graded, from solutions/."""
    from nbgrader.coursedir import CourseDirectory

    info = resources["nbgrader"]
    coursedir = CourseDirectory(config=config)
    return Path(coursedir.format_path(coursedir.source_directory, ".", info["assignment"])) / \
        f"{info['notebook']}.ipynb"


# ------------------------------------------------------------------------------ nbgrader


class ConfinedKernelManager(AsyncKernelManager):
    """Starts the kernel through `python -m instructor.confine`, which drops privileges first."""

    scratch: str | None = None

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        cmd = super().format_kernel_cmd(extra_arguments)
        if confine.kernel_confinement() is not None:
            raise RuntimeError(f"cannot confine the kernel: {confine.kernel_confinement()}")
        self.scratch = confine.make_scratch()
        return [sys.executable, "-m", "instructor.confine", "--scratch", self.scratch, "--", *cmd]



class GradeExecute(Execute):
    """nbgrader's Execute with three changes: test cells are not run in the student's kernel
    (each is marked "not graded" for `TrustedGrading` to fill in); the kernel runs confined
    (`instructor.confine`); and a kernel that hangs or dies ends this notebook's run with a note
    in the feedback instead of failing the whole autograde."""

    max_output_chars = Integer(1_000_000, help="characters of output kept per cell; the rest "
                                               "is dropped as it arrives").tag(config=True)

    def __init__(self, **kwargs):
        kwargs.setdefault("kernel_manager_class", ConfinedKernelManager)
        super().__init__(**kwargs)

    def output(self, outs, msg, display_id, cell_index):
        """Keep at most max_output_chars of a cell's output (a print loop cannot fill the
        grader's memory or the feedback)."""
        content = msg.get("content", {})
        size = len(content.get("text", "")) + sum(
            len(v) for v in content.get("data", {}).values() if isinstance(v, str))
        used = self._output_used.get(cell_index, 0)
        self._output_used[cell_index] = used + size
        if used + size <= self.max_output_chars or msg.get("msg_type") == "error":
            return super().output(outs, msg, display_id, cell_index)
        if used <= self.max_output_chars:
            outs.append(nbformat.v4.new_output(
                "stream", name="stdout", text=f"\n... output truncated: this cell printed more "
                                              f"than {self.max_output_chars} characters\n"))
        return None

    def preprocess(self, nb, resources=None, km=None):
        self._stopped: str | None = None
        self._output_used: dict[int, int] = {}
        try:
            return super().preprocess(nb, resources, km)
        except Exception as error:  # the kernel never started, or died outside a cell
            self._stopped = f"{type(error).__name__}: {error}"[:500]
            self.log.warning("notebook not executed: %s", self._stopped)
            for index, cell in enumerate(nb.cells):
                self.preprocess_cell(cell, resources, index)
            return nb, resources
        finally:
            scratch = getattr(self.km, "scratch", None)
            if scratch:
                confine.remove_scratch(scratch)

    @staticmethod
    def _mark_not_graded(cell: NotebookNode) -> None:
        cell.outputs = [error_output(NOT_GRADED, "this test did not run")]

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if is_test_cell(cell):
            self._mark_not_graded(cell)
            return cell, resources
        if self._stopped:
            if not any("(not run:" in o.get("text", "") for o in cell.outputs):
                cell.outputs = [nbformat.v4.new_output(
                    "stream", name="stdout", text=f"(not run: {self._stopped})\n")]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except (CellTimeoutError, DeadKernelError, RuntimeError, TimeoutError) as error:
            self._stopped = (f"the kernel stopped responding in an earlier cell "
                             f"({type(error).__name__})")
            cell.outputs.append(error_output(type(error).__name__, str(error)[:500]))
            return cell, resources


class TrustedGrading(NbGraderPreprocessor):
    """Scores every test cell by `grade_submission` and writes its outputs into the cell."""

    enabled = Bool(True).tag(config=True)
    call_timeout = Float(30.0, help="seconds one call of a student's function may take").tag(
        config=True)
    setup_timeout = Float(60.0, help="seconds the exercise cells may take to define their "
                                     "functions").tag(config=True)
    confined = Bool(True, help="run student code as the sandbox user when possible").tag(
        config=True)

    def preprocess(self, nb, resources):
        source = nbformat.read(source_notebook(self.config, resources), as_version=4)
        limits = Limits(setup_seconds=self.setup_timeout, call_seconds=self.call_timeout)
        try:
            outcomes = grade_submission(source, nb, limits,
                                        confined=self.confined)
        except Exception as error:  # a grader fault: every test scores zero, loudly
            self.log.error("trusted grading failed: %s", error)
            outcomes = {}
        for cell in nb.cells:
            if is_test_cell(cell):
                found = outcomes.get(nbgrader_meta(cell)["grade_id"])
                cell.outputs = found.outputs() if found else [
                    error_output(NOT_GRADED, "the grader could not run this test")]
        return nb, resources


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback: replace every hidden-test block by a one-line note (the results stay)."""

    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and HIDDEN_BEGIN in cell.source:
            kept, hiding = [], False
            for line in cell.source.splitlines():
                if line.strip() == HIDDEN_BEGIN:
                    hiding = True
                    kept.append("# (hidden tests ran here; their results are below)")
                elif line.strip() == HIDDEN_END:
                    hiding = False
                elif not hiding:
                    kept.append(line)
            cell.source = "\n".join(kept)
        return cell, resources
