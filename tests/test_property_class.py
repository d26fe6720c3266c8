"""Generated classes of generated notebooks, through grading, feedback, report and export
(hypothesis): random notebook and cell metadata (a copy of the grader's record key included),
cell types, sizes, student-made outputs of several MIME types, exception type names, student
ids, all strings drawn with HTML markup, spreadsheet formulas and control characters in them.
Whatever they hold: nothing crashes, nothing is NOT GRADED, every correct answer gets its
points, and every string lands inert: terminal and log lines without control characters,
feedback and report pages where nothing runs, CSV cells that start no formula.

Grading is what costs here, so the course is a tiny one (one assignment, one exercise, numpy
only), and hypothesis draws a few classes of a few students each.
"""

from __future__ import annotations

import csv
import itertools
import json

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_inert_channels import live_parts

import course_tools
from instructor.commands import export as grades_csv
from instructor.commands import report
from instructor.commands.feedback import generate_feedback
from instructor.coordinator.autograde import autograde
from instructor.records.notebook_record import METADATA_KEY
from instructor.records.submission import Submission

pytestmark = pytest.mark.slow
ASSIGNMENT = "90_tiny"
POINTS = {"test_add": 1.0, "hidden_add": 2.0}
LIMITS = """
c.Execute.timeout = 20
c.TrustedGrading.setup_timeout = 10
c.TrustedGrading.call_timeout = 5
"""
# What makes a string dangerous somewhere: markup, formulas, control characters.
NASTY = [
    "<script>document.title='pwned'</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "<svg onload=alert(1)>",
    '=HYPERLINK("evil","x")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "\x1b[2K\r15/15",
    "\x1b]0;title\x07",
    "\x9b31m",
    "\u202eevil",
    "\n  fake line",
    "\x00",
    "### BEGIN SOLUTION",
]
_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(min_size=0, max_size=30),
    st.lists(st.sampled_from(NASTY), min_size=1, max_size=3).map("".join),
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=6,
)
_MIMES = ["text/html", "text/plain", "text/markdown", "application/json", "image/svg+xml",
          "application/javascript", "text/latex", "application/vnd.custom+json"]  # fmt: skip


def _source(setup: bool) -> nbformat.NotebookNode:
    """The tiny assignment's source notebook (model solution and hidden test)."""
    nb = nbformat.v4.new_notebook()
    meta = {"schema_version": 3, "task": False}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Tiny\n\n<!-- colab-badge -->"),
        nbformat.v4.new_code_cell("# colab-install\nimport numpy as np" if setup else ""),
        nbformat.v4.new_code_cell(
            "def add(a, b):\n    ### BEGIN SOLUTION\n    return np.add(a, b)\n    ### END SOLUTION",
            metadata={
                "nbgrader": {
                    **meta,
                    "grade": False,
                    "solution": True,
                    "locked": False,
                    "grade_id": "add",
                }
            },
        ),  # fmt: skip
        nbformat.v4.new_code_cell(
            "assert add(1, 2) == 3",
            metadata={
                "nbgrader": {
                    **meta,
                    "grade": True,
                    "solution": False,
                    "locked": True,
                    "grade_id": "test_add",
                    "points": 1,
                }
            },
        ),  # fmt: skip
        nbformat.v4.new_code_cell(
            "### BEGIN HIDDEN TESTS\nassert add(2, 2) == 4\n### END HIDDEN TESTS",
            metadata={
                "nbgrader": {
                    **meta,
                    "grade": True,
                    "solution": False,
                    "locked": True,
                    "grade_id": "hidden_add",
                    "points": 2,
                }
            },
        ),  # fmt: skip
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return nb


@st.composite
def extra_cells(draw) -> list[nbformat.NotebookNode]:
    """A student's own cells: markdown, raw and code, with metadata, outputs already in the
    file, and code that displays every MIME type or raises an exception with a drawn name."""
    cells = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["markdown", "raw", "display", "raise", "print"]))
        metadata = draw(st.dictionaries(_text, _json, max_size=2))
        if draw(st.booleans()):
            metadata[METADATA_KEY] = draw(_json)
        if kind in ("markdown", "raw"):
            make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_raw_cell
            cells.append(make(draw(_text) * draw(st.integers(1, 3)), metadata=metadata))
            continue
        if kind == "display":
            mimes = draw(st.lists(st.sampled_from(_MIMES), min_size=1, max_size=3))
            data = {m: draw(_json if m.endswith("json") else _text) for m in mimes}
            source = "from IPython.display import display\nimport json\n" + (
                f"display(json.loads({json.dumps(data)!r}), raw=True)"
            )
        elif kind == "raise":
            source = f"raise type({draw(_text)!r}, (Exception,), {{}})({draw(_text)!r})"
        else:
            source = f"print({draw(_text)!r} * {draw(st.integers(1, 1000))})"
        cell = nbformat.v4.new_code_cell(source, metadata=metadata)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=draw(_text))]
        cells.append(cell)
    return cells


@st.composite
def students(draw) -> list[tuple[str, dict, list, int, bool]]:
    """A class: per student an id (drawn with formulas and markup), notebook metadata, their
    own cells and where they go, and whether their answer is right."""
    alphabet = st.sampled_from(list("abcXYZ019=+-@_ ()<>'\"&;,"))
    out = []
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.text(alphabet, min_size=1, max_size=12)).strip() or "s"
        metadata = draw(st.dictionaries(_text, _json, max_size=2))
        if draw(st.booleans()):
            metadata[METADATA_KEY] = draw(
                st.one_of(_json, st.just({"problems": [{"kind": "NO_SUCH"}], "seconds": "x"}))
            )
        out.append(
            (name, metadata, draw(extra_cells()), draw(st.integers(1, 5)), draw(st.booleans()))
        )
    return out


@pytest.fixture(scope="module")
def tiny_course(tmp_path_factory):
    root = course_tools.copy_course(tmp_path_factory.mktemp("tiny"))
    for folder in list((root / "solutions").iterdir()):
        if folder.is_dir():
            for path in folder.iterdir():
                path.unlink()
            folder.rmdir()
    (root / "solutions" / ASSIGNMENT).mkdir()
    nbformat.write(_source(True), root / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(LIMITS)
    course_tools.generate_release(root, [ASSIGNMENT])
    return root


def _controls(text: str, keep: str = "") -> list[str]:
    return [
        c
        for c in text
        if (ord(c) < 32 and c not in keep) or 0x7F <= ord(c) <= 0x9F or c == "\u202e"
    ]


_examples = itertools.count()


@settings(
    max_examples=6,
    deadline=None,
    database=None,  # nothing written into the course folder
    derandomize=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)  # fmt: skip
@given(students())
def test_generated_notebooks_grade_and_land_inert(tiny_course, drawn):
    root = tiny_course
    release = course_tools.read(course_tools.notebook_path(root / "notebooks", ASSIGNMENT))
    solution = course_tools.read(course_tools.notebook_path(root / "solutions", ASSIGNMENT))
    example = next(_examples)
    named: dict[str, bool] = {}
    for i, (name, metadata, cells, position, right) in enumerate(drawn):
        student = f"{name}{example}.{i}"
        wrong = {"add": "def add(a, b):\n    return a - b"}
        nb = course_tools.make_submission(release, solution, None if right else wrong)
        nb.metadata.update(metadata)
        nb.cells[position:position] = cells
        course_tools.submit(root, ASSIGNMENT, student, nb)
        named[student] = right

    summary = autograde(root, [ASSIGNMENT], list(named), workers=2, progress=False)
    lines = summary.lines()
    assert not summary.ungraded, lines
    assert not [line for line in lines if _controls(line)], lines
    for student, right in named.items():
        got = course_tools.cell_scores(root, ASSIGNMENT, student)
        assert got == (POINTS if right else dict.fromkeys(POINTS, 0.0)), (student, lines)
        log = Submission(root, ASSIGNMENT, student).log.read_text()
        assert not _controls(log, keep="\n\t"), student

    fed = generate_feedback(root, [ASSIGNMENT], list(named))
    assert not fed.failures, [f.line() for f in fed.failures]
    for page in fed.written:
        assert live_parts(page.read_text()) == [], page

    reported = report.write_reports(root, root / "reports", [ASSIGNMENT])
    assert not reported.failures
    assert live_parts((root / "reports" / f"{ASSIGNMENT}.html").read_text()) == []
    exported = grades_csv.export(root, root / "grades.csv")
    assert not exported.failures
    for path in (root / "reports" / f"{ASSIGNMENT}.csv", root / "grades.csv"):
        with open(path, newline="") as rows:
            cells = [cell for row in csv.reader(rows) for cell in row]
        live = [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]
        live += [c for c in cells if c.startswith("-") and not c.lstrip("-").replace(".", "")
                 .isdigit()]  # fmt: skip
        assert not live, (path, live)
