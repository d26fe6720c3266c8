"""The grader turns exercise cells into Python in time linear in their length
(`instructor.records.ipython_source`), with exactly IPython's result: checked on generated cells
(magics, shell escapes, help, blocks, continuations, brackets, strings left open) against
IPython's own `TransformerManager`, and timed on the issue's cell (20,000 lines, 200 magics),
which took minutes of the grader's own process before."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from IPython.core.inputtransformer2 import TransformerManager

from instructor.records.cells import python_source
from instructor.records.ipython_source import transform_cell

LINES = [
    "x = 1",
    "%time x = 1",
    "%matplotlib inline",
    "!ls -l",
    "files = !ls",
    "value = %env HOME",
    "obj?",
    "obj.attr??",
    "%time?",
    "f(x)?",
    "def f(a):",
    "class C:",
    "if a:",
    "for i in range(3):",
    "    pass",
    "    %time y = 2",
    "        !echo deep",
    "    return a",
    "\tz = 3",
    "\t%time z",
    "x = (1,",
    "     2)",
    "y = [",
    "]",
    "s = '''",
    "%inside a string",
    "'''",
    'u = "unterminated',
    "%foo '''",
    "a = 1 + \\",
    "  %time 2 \\",
    "# a comment with %magic",
    "",
    ">>> x = 1",
    "... y = 2",
    "%%time",
    ",f a b",
    ";f a b",
    "/f a",
    "x = 1; %time y",
    "  %time indented",
    ")",
    "(",
    "    x = (",
    "  )",
    "x = %m?",
    "def g():",
    "    def h():",
    "        %m",
]


def _both(cell: str) -> tuple[str, str]:
    def run(fn):
        try:
            return fn(cell)
        except Exception as error:  # the same error type counts as the same result
            return f"raised {type(error).__name__}"

    return run(TransformerManager().transform_cell), run(transform_cell)


@settings(
    max_examples=300,
    deadline=None,
    database=None,  # nothing written into the course folder
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(st.sampled_from(LINES), max_size=25), st.booleans())
def test_the_linear_transform_is_ipythons(lines, trailing_newline):
    cell = "\n".join(lines) + ("\n" if trailing_newline else "")
    expected, got = _both(cell)
    assert got == expected, cell


def test_known_corner_cases_are_ipythons():
    for cell in (
        "def f():\n    %time x = 1\n    if x:\n        !ls\n    return x\nz = %env\n",
        "%foo '''\nx = 1\n%bar\n",
        "x = [1,\n2]?\n%t\n",
        "if 1:\n    if 2:\n        %a\n    %b\n%c\n",
        "x = 1 +\\\n  %time 2\n",
        "\n".join("%t" for _ in range(60)),
    ):
        expected, got = _both(cell)
        assert got == expected, cell
    # IPython gives up after 500 transforms (it takes half a minute to get there)
    assert transform_cell("\n".join("%t" for _ in range(499))).count("run_line_magic") == 499
    assert _both("\n".join("%t" for _ in range(500)))[1] == "raised RuntimeError"


def test_a_long_cell_full_of_magics_costs_milliseconds():
    """The issue's cell: 20,000 lines, 200 magics (235 s of the grader's process before)."""
    cell = "\n".join("%time x = 1" if i % 100 == 0 else f"y{i} = {i}" for i in range(20_000))
    started = time.process_time()
    python_source(cell)
    assert time.process_time() - started < 5.0
    nested = "def f():\n" + "\n".join(
        "    %time x = 1" if i % 50 == 0 else f"    y{i} = {i}" for i in range(20_000)
    )
    started = time.process_time()
    python_source(nested)
    assert time.process_time() - started < 5.0
