"""Feedback a student can read, returned in one step (issue 26).

A small class of 01_bptt is graded through the CLI (a catalogue mistake, a solved notebook, an
untouched one, a broken one), then `rnn-course feedback --lms moodle`. Each page must name every
exercise in its summary (not "Test cell" ten times), show the student's answers and the checks'
results without the checking tools' code or any test's code, wrap long lines, draw formulas with
no network and fetch nothing; the broken notebook must get a page saying why; the Moodle zip
must hold one folder per participant as Moodle's importer reads them; and `--lms canvas` must say
why there is no such route. The formula drawing and the cells a page keeps are also checked on
their own, without nbgrader.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

import course_tools
from instructor.diagnosis import catalogue
from instructor.output.feedback_bundle import moodle_folder
from instructor.output.preprocessors import DrawMaths, ShowExercises
from instructor.output.tex_image import with_drawn_maths
from instructor.output.ungraded_page import ungraded_page
from instructor.records import lms
from instructor.records.cells import (
    HIDDEN_BEGIN,
    is_checking_tools_cell,
    is_test_cell,
    nbgrader_meta,
)

ASSIGNMENT = "01_bptt"
LIMITS = """
c.Execute.timeout = 30
c.TrustedGrading.setup_timeout = 6
c.TrustedGrading.call_timeout = 6
"""
IDS = {"mistaken": ("101", "Zoë_Ann/Ng"), "solved": ("102", "Bo Li"), "broken": ("103", "Un Read")}
CHROMIUM = Path("/usr/bin/chromium")


def _cli(root, *args):
    return subprocess.run(
        [sys.executable, "-m", "instructor.cli", "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=1200,
        env=os.environ,
    )


@pytest.fixture(scope="module")
def fed_class(tmp_path_factory):
    root, solution, release = course_tools.released_course(
        tmp_path_factory.mktemp("feedback"), ASSIGNMENT, LIMITS
    )
    mistake = catalogue.load(course_tools.ROOT / "solutions", ASSIGNMENT)[0]
    submit = course_tools.submit
    submit(root, ASSIGNMENT, "mistaken", course_tools.make_submission(release, solution, {
        mistake.exercise: mistake.source}))  # fmt: skip
    submit(root, ASSIGNMENT, "solved", course_tools.make_submission(release, solution))
    submit(root, ASSIGNMENT, "untouched", release)
    broken = submit(root, ASSIGNMENT, "broken", release)
    broken.write_text(broken.read_text()[:3000])
    lms.record(root, ASSIGNMENT, {s: lms.LmsId(lms.Lms.MOODLE, i, n) for s, (i, n) in IDS.items()})
    graded = _cli(root, "autograde", "-a", ASSIGNMENT, "-j", "2", "-q")
    assert graded.returncode in (0, 1), graded.stderr[-3000:]
    fed = _cli(root, "feedback", "-a", ASSIGNMENT, "--lms", "moodle")
    assert fed.returncode == 0, fed.stdout + fed.stderr
    return root, solution, fed.stdout


def _page(root, student) -> str:
    return (root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()


def _text(page: str) -> str:
    """What a page shows as text (tags removed, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def _exercises(solution) -> list[str]:
    return [
        nbgrader_meta(c)["grade_id"] for c in solution.cells if nbgrader_meta(c).get("solution")
    ]


@pytest.mark.slow
def test_the_summary_names_every_exercise_with_its_checks(fed_class):
    root, solution, _ = fed_class
    page = _page(root, "mistaken")
    summary = page[page.index('id="toc"') : page.index("</table>")]
    for exercise in _exercises(solution):
        assert f"<code>{exercise}</code>" in summary, exercise
    assert "Test cell" not in page
    assert summary.count("failed") >= 2 and "passed" in summary  # rnn_step_forward's two checks
    assert "Your answer: <code>rnn_step_forward</code>" in page


@pytest.mark.slow
def test_the_page_shows_answers_and_results_not_the_checking_code(fed_class):
    root, solution, _ = fed_class
    page = _text(_page(root, "mistaken"))
    assert "h_prev @ W_hh + b_h" in page  # the student's (mistaken) answer
    assert "CheckFailure: rnn_step_forward: h_t is wrong." in page  # what failed, with hint
    assert "behaves like a known mistake" in page
    instructor_lines = [
        line.strip()
        for cell in solution.cells
        if is_checking_tools_cell(cell) or is_test_cell(cell)
        for line in cell.source.splitlines()
        if len(line.strip()) > 25 and not line.strip().startswith("#")
    ]
    answers = "\n".join(c.source for c in solution.cells if nbgrader_meta(c).get("solution"))
    instructor_lines = [line for line in instructor_lines if line not in answers]
    assert len(instructor_lines) > 20
    shown = [line for line in instructor_lines if line in page]
    assert not shown, f"checking or test code on the page: {shown[:3]}"
    assert HIDDEN_BEGIN not in page
    assert "Every answer in this course starts from one" not in page  # the lesson's prose


@pytest.mark.slow
def test_the_page_wraps_text_and_fetches_nothing(fed_class):
    root, *_ = fed_class
    for student in ("mistaken", "solved", "untouched", "broken"):
        page = _page(root, student)
        assert re.search(r"white-space:\s*pre-wrap", page), student
        assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page), student
        assert "<script" not in page.lower() and "mathjax" not in page.lower(), student
        assert "Content-Security-Policy" in page


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed")
def test_in_a_browser_nothing_scrolls_sideways_and_the_page_is_short(fed_class):
    from playwright.sync_api import sync_playwright

    root, *_ = fed_class
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        fetched = []
        page.on("request", lambda r: fetched.append(r.url) if "://" in r.url[:8] else None)
        page.goto((root / "feedback/mistaken" / ASSIGNMENT / f"{ASSIGNMENT}.html").as_uri())
        wide = page.evaluate(
            "[...document.querySelectorAll('pre')].filter(e => e.scrollWidth > e.clientWidth + 2)"
            ".length"
        )
        height = page.evaluate("document.documentElement.scrollHeight")
        browser.close()
    assert wide == 0
    assert height < 6000, height  # 16,275 px when it showed the whole notebook
    assert not [u for u in fetched if u.startswith(("http:", "https:"))], fetched


@pytest.mark.slow
def test_a_submission_that_could_not_be_graded_gets_a_page_saying_why(fed_class):
    root, *_ = fed_class
    page = _page(root, "broken")
    assert "could not be graded" in page and "not a valid notebook (broken JSON)" in page
    assert "Score: 0 / 15" in page


@pytest.mark.slow
def test_the_moodle_zip_holds_one_folder_per_participant(fed_class):
    root, _, out = fed_class
    with zipfile.ZipFile(root / "feedback" / f"{ASSIGNMENT}-moodle.zip") as archive:
        names = sorted(archive.namelist())
        for name in names:  # as Moodle's importer splits them (explode('_', $part, 5))
            info = name.split("/")[0].split("_", 4)
            assert info[1] in {i for i, _ in IDS.values()} and info[2:4] == [
                "assignsubmission",
                "file",
            ]
        assert archive.read(f"Bo Li_102_assignsubmission_file_/{ASSIGNMENT}.html").decode() == (
            _page(root, "solved")
        )
    assert names == sorted(
        f"{n}_{i}_assignsubmission_file_/{ASSIGNMENT}.html"
        for n, i in (("Zoë Ann Ng", "101"), ("Bo Li", "102"), ("Un Read", "103"))
    )
    assert "not packed" in out and "01_bptt/untouched" in out


def test_canvas_has_no_bulk_feedback_route_and_the_command_says_why(tmp_path):
    root = course_tools.copy_course(tmp_path)
    out = _cli(root, "feedback", "--lms", "canvas")
    assert out.returncode == 2
    assert "Re-Upload Submissions" in out.stderr and "SpeedGrader" in out.stderr


# ---- without nbgrader ---------------------------------------------------------------------


def test_formulas_are_drawn_as_pictures_with_their_tex_escaped():
    drawn = with_drawn_maths("## 4. What the loss sees: $\\|dL/dh_k\\|$ and `$code$`")
    assert drawn.startswith("## 4. What the loss sees: <img") and "`$code$`" in drawn
    assert 'src="data:image/svg+xml;base64,' in drawn and "$\\|" not in drawn
    hostile = with_drawn_maths('$x"><script>alert(1)</script>$')
    assert "<script" not in hostile and "&lt;script&gt;" in hostile
    assert with_drawn_maths("costs $5 and $6") == "costs $5 and $6"


def test_the_page_keeps_headings_answers_and_check_results_only():
    root = course_tools.ROOT
    nb = course_tools.read(course_tools.notebook_path(root / "solutions", ASSIGNMENT))
    resources = {"nbgrader": {"assignment": ASSIGNMENT, "notebook": ASSIGNMENT}}
    config = course_tools.course_config(root)
    out, resources = ShowExercises(config=config).preprocess(nb, resources)
    out, _ = DrawMaths(config=config).preprocess(out, resources)
    roles = [c.metadata["course_feedback"]["role"] for c in out.cells]
    assert set(roles) == {"heading", "answer", "visible", "hidden"}
    assert resources["course_feedback"]["exercises"] == _exercises(
        course_tools.read(course_tools.notebook_path(root / "solutions", ASSIGNMENT))
    )
    assert all(c.source == "" for c in out.cells if c.metadata["course_feedback"]["role"] in (
        "visible", "hidden"))  # fmt: skip
    assert not any(is_checking_tools_cell(c) for c in out.cells)
    assert out.cells[0].source == "### Exercise 1: one step (≈ 5 min)"


def test_a_heading_with_maths_is_drawn_on_the_page():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("### The singular values of each $W_{hh}$")]
    out, _ = DrawMaths().preprocess(nb, {})
    assert "$" not in out.cells[0].source and "data:image/svg+xml" in out.cells[0].source


def test_the_ungraded_page_escapes_what_the_student_named():
    page = ungraded_page("01_bptt", ["<img src=x onerror=alert(1)>.ipynb is broken"], 15)
    assert "<img" not in page and "&lt;img" in page and "Score: 0 / 15" in page


def test_a_moodle_folder_name_reads_as_one_participant():
    person = lms.LmsId(lms.Lms.MOODLE, "42", "A_B/C\\D")
    assert moodle_folder(person) == "A B C D_42_assignsubmission_file_"
