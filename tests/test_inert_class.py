"""A class whose students attack the coordinator and the instructor's screen, graded as an
instructor grades it (`rnn-course autograde`, then `feedback`, `report` and `export`):

- a forged grader record in the notebook's metadata (problems, diagnoses, times, an unknown
  problem kind): ignored, reported, and the submission graded as usual (never NOT GRADED);
- an exception type name full of terminal escape sequences: shown, never obeyed, in the
  summary and the student's log;
- a markdown `<img onerror>` and `display(HTML("<script>"))`: nothing runs in the feedback;
- a cell that prints the hidden tests' marker: that student's feedback is withheld with a line,
  and every student after them still gets theirs;
- an exercise cell of 20,000 lines holding 200 magics: refused before the grader parses it;
- three large `application/json` outputs: capped like printed text;
- a student whose id is a spreadsheet formula: inert in the report's CSV and the export;
- and a correct notebook, graded in full as before.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import nbformat
import pytest
from test_inert_channels import ESCAPES, FORGED, live_parts

import course_tools
from instructor.records.submission import Submission

pytestmark = pytest.mark.slow
ASSIGNMENT = "01_bptt"
LIMITS = """
c.Execute.timeout = 30
c.TrustedGrading.setup_timeout = 6
c.TrustedGrading.call_timeout = 6
c.GradeExecute.max_output_bytes = 1_000_000
"""
FORMULA_STUDENT = "=2+5"
PWNED = "document.title='pwned'"
MAGIC_CELL = "\n".join("%time x = 1" if i % 100 == 0 else f"y{i} = {i}" for i in range(20_000))


def _extra(nb, *cells) -> None:
    """Add the student's own cells after the set-up cell."""
    nb.cells[2:2] = list(cells)


def _students(release, solution) -> dict[str, nbformat.NotebookNode]:
    def solved():
        return course_tools.make_submission(release, solution)

    out = {"solved": solved()}
    # in an exercise cell: the feedback page shows exercise cells and check results only
    answer = course_tools.solution_sources(solution)["relative_error"]
    out["a_prints_marker"] = course_tools.make_submission(
        release, solution, {"relative_error": f"print('### BEGIN HIDDEN TESTS')\n{answer}"}
    )
    out["b_forges_record"] = solved()
    out["b_forges_record"].metadata["rnn_course"] = FORGED
    out["c_escapes_and_scripts"] = solved()
    _extra(
        out["c_escapes_and_scripts"],
        nbformat.v4.new_markdown_cell(f'<img src=x onerror="{PWNED}"> hello'),
        nbformat.v4.new_code_cell(
            "from IPython.display import HTML, Javascript, display\n"
            f'display(HTML("<script>{PWNED}</script><a href=\\"javascript:alert(1)\\">x</a>"))\n'
            f'display(Javascript("{PWNED}"))'
        ),
        nbformat.v4.new_code_cell(f"raise type({ESCAPES!r}, (Exception,), {{}})('boom')"),
    )
    out["d_json_outputs"] = solved()
    _extra(
        out["d_json_outputs"],
        nbformat.v4.new_code_cell(
            "from IPython.display import display\n"
            "for _ in range(3):\n"
            "    display({'application/json': {'k': 'x' * 2_000_000}}, raw=True)"
        ),
    )
    out["e_magic_cell"] = course_tools.make_submission(
        release, solution, {"relative_error": MAGIC_CELL}
    )
    out[FORMULA_STUDENT] = solved()
    return out


def _cli(root, *args, timeout=3000):
    return subprocess.run(
        [sys.executable, "-m", "instructor.cli", "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ,
    )


@pytest.fixture(scope="module")
def attacked_class(tmp_path_factory):
    root, solution, release = course_tools.released_course(
        tmp_path_factory.mktemp("class"), ASSIGNMENT, LIMITS
    )
    students = _students(release, solution)
    for student, nb in students.items():
        course_tools.submit(root, ASSIGNMENT, student, nb)
    graded = _cli(root, "autograde", "-a", ASSIGNMENT, "-j", "2", "-q", "--student-timeout", "60")
    feedback = _cli(root, "feedback", "-a", ASSIGNMENT)
    report = _cli(root, "report", "-a", ASSIGNMENT, "-o", "reports")
    export = _cli(root, "export", "-o", "grades.csv")
    return root, students, graded, feedback, report, export


def _marker(root, student) -> dict:
    return json.loads(Submission(root, ASSIGNMENT, student).marker.read_text())


def _line(summary: str, student: str) -> str:
    return "\n".join(line for line in summary.splitlines() if f"/{student}:" in line)


def test_every_submission_is_graded_and_the_correct_ones_in_full(attacked_class):
    root, students, graded, *_ = attacked_class
    assert graded.returncode == 0, graded.stdout[-3000:] + graded.stderr[-3000:]
    assert "NOT GRADED" not in graded.stdout
    full = course_tools.grade_cells(
        course_tools.read(course_tools.notebook_path(root / "solutions", ASSIGNMENT))
    )
    for student in students:
        got = course_tools.cell_scores(root, ASSIGNMENT, student)
        if student == "e_magic_cell":
            assert got["hidden_relative_error"] == 0
            assert got["hidden_rnn_backward"] == full["hidden_rnn_backward"]
        else:
            assert got == full, student


def test_a_forged_grader_record_is_ignored_and_reported(attacked_class):
    root, _, graded, *_ = attacked_class
    line = _line(graded.stdout, "b_forges_record")
    assert "carried its own 'rnn_course' metadata" in line
    for forged in ("course files changed", "confined by nothing", "NO_SUCH_KIND", "cannot read"):
        assert forged not in line, line
    marker = _marker(root, "b_forges_record")
    assert marker["diagnoses"] == [] and marker["phases"].get("diagnosis", 0) < 9999
    assert [p["kind"] for p in marker["problems"]] == ["FORGED_RECORD"]


def test_escape_sequences_reach_no_terminal_or_log(attacked_class):
    root, _, graded, *_ = attacked_class
    line = _line(graded.stdout, "c_escapes_and_scripts")
    assert "\\x1b[2K" in line, line
    log = Submission(root, ASSIGNMENT, "c_escapes_and_scripts").log.read_text()
    for text in (graded.stdout, log):
        assert not [c for c in text if (ord(c) < 32 and c not in "\n\t") or 127 <= ord(c) < 160]
        assert "\u202e" not in text


def test_nothing_a_student_wrote_runs_in_their_feedback(attacked_class):
    root, *_ = attacked_class
    pages = sorted((root / "feedback").rglob("*.html"))
    assert pages
    for page in pages:
        text = page.read_text()
        assert live_parts(text) == [], (page, live_parts(text)[:5])
    own = (root / "feedback/c_escapes_and_scripts" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    # the student's own markdown and demo cells are not on the page (it shows exercises and
    # check results); what a page does show is inert (tests/test_contain_markup.py too)
    assert "onerror" not in own and "pwned" not in own and "Your answer" in own


def test_one_students_feedback_failure_stops_no_other(attacked_class):
    root, students, _, feedback, *_ = attacked_class
    assert feedback.returncode == 1
    assert "a_prints_marker" in feedback.stdout and "withheld" in feedback.stdout
    for student in students:
        page = root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        assert page.is_file() == (student != "a_prints_marker"), student


def test_a_huge_exercise_cell_is_refused_before_the_grader_parses_it(attacked_class):
    root, _, graded, *_ = attacked_class
    assert "exercise cell relative_error is larger than" in _line(graded.stdout, "e_magic_cell")
    assert _marker(root, "e_magic_cell")["seconds"] < 60


def test_the_output_cap_counts_json_outputs(attacked_class):
    root, _, graded, *_ = attacked_class
    path = root / "autograded/d_json_outputs" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert path.stat().st_size < 2_000_000
    assert "output more than 1000000 bytes" in _line(graded.stdout, "d_json_outputs")


def test_report_and_export_cells_start_no_formula(attacked_class):
    root, students, _, _, report, export = attacked_class
    assert report.returncode == 0 and export.returncode == 0, report.stderr + export.stderr
    for path, column in (
        (root / "reports" / f"{ASSIGNMENT}.csv", "student"),
        (root / "grades.csv", "student_id"),
    ):
        with open(path, newline="") as rows:
            table = list(csv.DictReader(rows))
        names = {row[column] for row in table}
        assert "'" + FORMULA_STUDENT in names and FORMULA_STUDENT not in names, path
        assert len(names) == len(students), path
    page = (root / "reports" / f"{ASSIGNMENT}.html").read_text()
    assert live_parts(page) == [] and "pwned" not in page
