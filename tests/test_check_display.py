"""What a student sees when a visible check fails in a notebook: the five-part message alone (no
frames of helpers/checks.py, no chained traceback), plus the line of their own code that raised;
and the grader's view, str(failure), unchanged."""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat
import pytest

import course_tools
from helpers import checks

pytestmark = pytest.mark.slow

CELLS = [
    "import numpy as np\nfrom helpers import checks\n",
    "def student(x):\n    y = x + 1\n    return np.dot(y, np.ones(7))\n",
    'checks.call("student", student, np.ones(3), inputs="x of shape (3,)")\n',
    'def stub(x):\n    raise NotImplementedError()\n\nchecks.call("stub", stub, 1, inputs="1")\n',
    'checks.expect_close("student", "student(x)", np.ones(3), np.zeros(3), inputs="x", '
    'hint="add nothing")\n',
]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _errors(tmp_path) -> list[str]:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    import nbclient

    nbclient.NotebookClient(
        nb,
        timeout=60,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    shown = []
    for cell in nb.cells[2:]:
        (error,) = [o for o in cell.outputs if o.output_type == "error"]
        assert error.ename == "CheckFailure"
        shown.append(ANSI.sub("", "\n".join(error.traceback)))
    return shown


def test_a_failing_check_shows_its_message_alone(tmp_path):
    raised, stub, wrong = _errors(tmp_path)
    for text in (raised, stub, wrong):
        assert text.startswith("CheckFailure: "), text
        assert all(part in text for part in ("input:", "returned:", "expected:", "hint:"))
        assert "checks.py" not in text and "Traceback" not in text and "During handling" not in text
    assert "returned: ValueError: shapes (3,) and (7,) not aligned" in raised
    assert raised.splitlines()[-1] == (
        "  raised at: line 3 of student (in its cell): return np.dot(y, np.ones(7))"
    )
    assert "raised at" not in stub and "raised at" not in wrong
    assert len(wrong.splitlines()) == 5


def test_the_graders_view_is_the_message_and_the_cause_is_kept():
    def student(x):
        raise ValueError("bad x")

    with pytest.raises(checks.CheckFailure) as info:
        checks.call("student", student, 1, inputs="1")
    assert str(info.value).split("\n")[0] == "student: raised ValueError."
    assert info.value.__suppress_context__ and isinstance(info.value.__context__, ValueError)
    # Raised outside a notebook cell: no student line to show, and the message is unchanged.
    assert checks.CheckFailure._render_traceback_(info.value)[1:] == str(info.value).split("\n")[1:]


def test_checks_import_without_torch():
    """The grading sandbox of from-scratch exercises has no torch: checks must not need it."""
    block = (
        "import sys\nclass NoTorch:\n    def find_spec(self, name, *args):\n"
        "        if name.split('.')[0] == 'torch':\n"
        "            raise ImportError('torch is blocked')\n"
        "sys.meta_path.insert(0, NoTorch())\nimport helpers.checks\n"
        "assert 'torch' not in sys.modules\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", block], cwd=course_tools.ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
