"""The kernel run of a submission, which produces the outputs its feedback shows.

nbgrader's Execute runs every cell in the student's kernel, test cells included; here test cells
never run there (each is marked "not graded" for `TrustedGrading` to fill in), the kernel is
confined (`instructor.infrastructure.confine`: a private view of the machine and no network, so it
talks to the grader over unix sockets in its scratch folder), a cell's output is capped as it
arrives, and a kernel that hangs or dies ends this notebook's run with a note instead of failing the
whole autograde. Whatever happens, the kernel's scratch folder is removed afterwards, and every
problem is recorded in the notebook (`instructor.records.problems`).
"""

from __future__ import annotations

import os
import sys
import time

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbgrader.preprocessors import Execute
from traitlets import Integer

from instructor.grading.trusted_run import error_output
from instructor.infrastructure import confine, reaper
from instructor.records import phases, problems
from instructor.records.cells import grade_id, is_test_cell
from instructor.records.problems import Kind, Problem

NOT_GRADED = "NotGraded"
# Error names a cell's output can carry, and the problem each one is.
TIMEOUT_ERRORS = ("CellTimeoutError", "KeyboardInterrupt")
MEMORY_ERRORS = ("MemoryError", "_ArrayMemoryError", "OutOfMemoryError")


class KernelNotConfined(RuntimeError):
    """This machine cannot confine a kernel (see `confine.kernel_confinement`)."""


class ConfinedKernelManager(AsyncKernelManager):
    """Starts the kernel through `python -m instructor.infrastructure.confine`, which confines it
    first."""

    scratch: str | None = None

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        cmd = super().format_kernel_cmd(extra_arguments)
        reason = confine.kernel_confinement()
        if reason is not None:
            raise KernelNotConfined(reason)
        return [
            sys.executable,
            "-m",
            "instructor.infrastructure.confine",
            "--scratch",
            str(self.scratch),
            "--",
            *cmd,
        ]

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        """Launch it, and record its launcher in the job (`instructor.infrastructure.reaper`)."""
        await super()._async_launch_kernel(kernel_cmd, **kw)
        process = getattr(self.provisioner, "process", None)
        if process is not None:
            reaper.launched(process.pid)


def output_bytes(value: object) -> int:
    """The size of an output message's content, every part counted: text, every MIME type's
    data (strings, or JSON), metadata, an error's name, value and traceback (UTF-8 bytes of its
    strings; 8 per other scalar)."""
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, dict):
        return sum(output_bytes(k) + output_bytes(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return sum(output_bytes(v) for v in value)
    return 8


def shortened_error(content: dict, keep: int = 2000) -> dict:
    """An error output's content cut to about `keep` characters of value and traceback."""
    traceback = [str(line)[:keep] for line in content.get("traceback", [])[:10]]
    return {
        **content,
        "ename": str(content.get("ename", ""))[:200],
        "evalue": str(content.get("evalue", ""))[:keep],
        "traceback": [*traceback, "... (the rest of this error was dropped: too large)"],
    }


def cell_label(cell, index: int) -> str:
    """How the summary names a cell: its nbgrader id, or its position."""
    gid = grade_id(cell)
    return f"cell {gid}" if gid else f"cell #{index + 1}"


class GradeExecute(Execute):
    """nbgrader's Execute, confined, without test cells, capped, and survivable (see above)."""

    max_output_bytes = Integer(
        1_000_000,
        help="bytes of output kept per cell, of every MIME type and its metadata; the rest is "
        "dropped as it arrives",
    ).tag(config=True)
    max_notebook_output_bytes = Integer(
        8_000_000,
        help="bytes of output kept for the whole notebook (many cells each just under the "
        "per-cell cap); past it every cell's further output is dropped",
    ).tag(config=True)

    def __init__(self, **kwargs):
        kwargs.setdefault("kernel_manager_class", ConfinedKernelManager)
        super().__init__(**kwargs)

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        km.scratch = confine.make_scratch()
        self._scratches.append(km.scratch)
        confine.seed_font_cache(km.scratch)
        km.transport, km.ip = "ipc", os.path.join(km.scratch, "kernel")
        return km

    def _problem(self, kind: Kind, where: str = "", detail: str = "") -> None:
        problem = Problem(kind, where, detail)
        self.log.warning("%s", problem.sentence())
        problems.record(self._nb, problem)

    def _charge(self, cell_index: int, size: int) -> bool:
        """Count `size` more bytes against a cell's output; False (once reported, with a note
        in the cell) when that goes past max_output_bytes."""
        used = self._output_used.get(cell_index, 0)
        self._output_used[cell_index] = used + size
        total = self._total_used
        self._total_used = total + size
        if total + size > self.max_notebook_output_bytes:
            if total <= self.max_notebook_output_bytes:
                self._problem(Kind.OUTPUT_TRUNCATED, "the notebook",
                              str(self.max_notebook_output_bytes))  # fmt: skip
            self._output_used[cell_index] = max(used, self.max_output_bytes) + 1  # no more here
            return False
        if used + size <= self.max_output_bytes:
            return True
        if used <= self.max_output_bytes:
            self._problem(
                Kind.OUTPUT_TRUNCATED,
                cell_label(self._nb.cells[cell_index], cell_index),
                str(self.max_output_bytes),
            )
            self._nb.cells[cell_index].setdefault("outputs", []).append(
                nbformat.v4.new_output(
                    "stream",
                    name="stdout",
                    text=f"\n... output truncated: this cell output more "
                    f"than {self.max_output_bytes} bytes\n",
                )
            )
        return False

    def output(self, outs, msg, display_id, cell_index):
        """Keep at most max_output_bytes of a cell's output, whatever its kind (a print loop,
        a huge JSON or image output cannot fill the grader's memory or the feedback). An
        error past the cap is kept, shortened, once per cell, so that the cell still shows it
        failed; a kernel that sends error after error past the cap gets the rest dropped."""
        content = msg.get("content", {})
        if self._charge(cell_index, output_bytes(content)):
            return super().output(outs, msg, display_id, cell_index)
        if msg.get("msg_type") == "error" and cell_index not in self._error_kept:
            self._error_kept.add(cell_index)  # one error per cell past the cap, not a flood
            msg = {**msg, "content": shortened_error(content)}
            return super().output(outs, msg, display_id, cell_index)
        return None

    def _update_display_id(self, display_id, msg):
        """An update of earlier outputs (`update_display`, or a display with the same id)
        replaces each of them: it costs its size once per output it replaces, in that output's
        cell, and is dropped when any of those cells would go past the cap."""
        size = output_bytes(msg.get("content", {}))
        targets = self._display_id_map.get(display_id, {})
        fits = all(
            self._output_used.get(index, 0) + size * len(outputs) <= self.max_output_bytes
            for index, outputs in targets.items()
        )
        for index, outputs in targets.items():
            self._charge(index, size * len(outputs))
        return super()._update_display_id(display_id, msg) if fits else None

    def preprocess(self, nb, resources=None, km=None):
        self._nb, self._stopped, self._output_used, self._scratches = nb, None, {}, []
        self._total_used, self._error_kept = 0, set()
        started = time.monotonic()
        try:
            return super().preprocess(nb, resources, km)
        except Exception as error:  # the kernel never started, or died outside a cell
            if isinstance(error, KernelNotConfined):
                self._problem(Kind.KERNEL_NOT_CONFINED, detail=str(error))
            else:
                self._problem(Kind.NOT_EXECUTED, detail=f"{type(error).__name__}: {error}"[:300])
            self._stopped = f"{type(error).__name__}: {error}"[:500]
            for index, cell in enumerate(nb.cells):
                self.preprocess_cell(cell, resources, index)
            return nb, resources
        finally:  # nbclient has already dropped self.km: the folders are ours to remember
            for scratch in self._scratches:
                confine.remove_scratch(scratch)
            phases.record(nb, phases.KERNEL_RUN, time.monotonic() - started)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if is_test_cell(cell):
            cell.outputs = [error_output(NOT_GRADED, "this test did not run")]
            return cell, resources
        if self._stopped:
            if not any("(not run:" in o.get("text", "") for o in cell.outputs):
                cell.outputs = [
                    nbformat.v4.new_output(
                        "stream", name="stdout", text=f"(not run: {self._stopped})\n"
                    )
                ]
            return cell, resources
        label = cell_label(cell, index)
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except (CellTimeoutError, DeadKernelError, RuntimeError, TimeoutError) as error:
            self._stopped = (
                f"the kernel stopped responding in an earlier cell ({type(error).__name__})"
            )
            if isinstance(error, CellTimeoutError):
                self._problem(Kind.CELL_TIMEOUT, label)
            self._problem(Kind.KERNEL_DIED, label)
            cell.outputs.append(error_output(type(error).__name__, str(error)[:500]))
            return cell, resources
        for out in cell.get("outputs", []):
            if out.get("output_type") != "error":
                continue
            if out.get("ename") in TIMEOUT_ERRORS:
                self._problem(Kind.CELL_TIMEOUT, label)
            elif out.get("ename") in MEMORY_ERRORS:
                self._problem(Kind.OUT_OF_MEMORY, label, out.get("ename", ""))
            else:
                self._problem(Kind.CELL_RAISED, label, str(out.get("ename", "an error")))
                self.log.warning("%s: %s", label, "\n".join(out.get("traceback", []))[-2000:])
        return cell, resources
