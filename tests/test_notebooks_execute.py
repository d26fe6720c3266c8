"""Every solution notebook runs top to bottom in a real kernel with every test cell passing,
and every claim its text makes about its experiments holding (RNN_COURSE_STRICT_CLAIMS=1: a
claim that does not hold raises helpers.claims.ClaimFailed in the kernel, which inherits it)."""

from __future__ import annotations

import pytest

import course_tools
from helpers import claims

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("assignment", course_tools.assignments())
def test_solution_notebook_executes_cleanly(assignment, tmp_path, monkeypatch):
    monkeypatch.setenv(claims.STRICT_ENV, "1")
    path = course_tools.notebook_path(course_tools.ROOT / "solutions", assignment)
    nb = course_tools.read(path)
    explorers = "widgets.Explorer(" in path.read_text()
    if explorers:  # move every slider once: no setting may fail to draw
        course_tools.add_explorer_sweep(nb, points=2)
    course_tools.execute(nb, tmp_path)
    if explorers:
        report = course_tools.explorer_report(nb)
        assert report, "the notebook builds an explorer but none was found after running it"
        for name, found in report.items():
            assert found["timings"] and not found["errors"], f"explorer {name}: {found}"
        nb.cells.pop()
    problems, figures = [], 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = course_tools.nbgrader_meta(cell)
        for out in cell.outputs:
            figures += "image/png" in out.get("data", {})
            if out.output_type == "error":
                problems.append(f"{meta.get('grade_id', 'cell')}: {out.ename}: {out.evalue}")
            # nbgrader zeroes a test cell that writes to stderr or ends with a value
            if meta.get("grade") and (
                out.get("name") == "stderr" or out.output_type == "execute_result"
            ):
                problems.append(f"{meta['grade_id']} is not silent: {out}")
    assert not problems, "\n".join(problems)
    assert figures >= 1, "the notebook shows no figure (is MPLBACKEND=Agg leaking in?)"
