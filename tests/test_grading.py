"""Autograding a whole class the way an instructor does (`rnn-course autograde`, two workers):
the round trip (solved, untouched, mistaken), tampering and reading attempts, broken
submissions, deleted, duplicated, retyped and edited cells, feedback without hidden tests, CSV
export, no temporary file left behind, and resuming an interrupted or repeated run."""

from __future__ import annotations

import copy
import csv
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

import course_tools
from attacks import ATTACKS, BROKEN, CANARY, SECRETS, broken_answers
from instructor.coordinator.autograde import autograde, find_submissions
from instructor.infrastructure import confine
from instructor.records.submission import Submission
from mutants import MUTANTS, exercise_of

pytestmark = pytest.mark.slow
ASSIGNMENTS = course_tools.assignments()
ASSIGNMENT = "01_bptt"  # the attacks and broken submissions are written against notebook 01
# Short limits so that hanging submissions cost seconds, not minutes (30 s per cell leaves room
# for the set-up cell of a kernel that shares two cores with the others).
TEST_LIMITS = """
c.Execute.timeout = 30
c.TrustedGrading.setup_timeout = 6
c.TrustedGrading.call_timeout = 6
"""


def _index(nb, grade_id):
    return next(
        i
        for i, c in enumerate(nb.cells)
        if course_tools.nbgrader_meta(c).get("grade_id") == grade_id
    )


def _delete(*grade_ids):
    def change(nb):
        nb.cells = [
            c for c in nb.cells if course_tools.nbgrader_meta(c).get("grade_id") not in grade_ids
        ]

    return change


def _duplicate(*grade_ids):
    def change(nb):
        for gid in grade_ids:
            i = _index(nb, gid)
            nb.cells.insert(i + 1, copy.deepcopy(nb.cells[i]))

    return change


def _last_copy_wrong(nb):
    i = _index(nb, "rnn_forward")
    wrong = copy.deepcopy(nb.cells[i])
    wrong.source = (
        "def rnn_forward(xs, h0, W_xh, W_hh, b_h):\n"
        "    return np.zeros((xs.shape[0],) + h0.shape)\n"
    )
    nb.cells.insert(i + 3, wrong)  # a later copy, below the tests: the one a kernel keeps


def _retype(grade_id):
    def change(nb):
        i = _index(nb, grade_id)
        cell = nb.cells[i]
        nb.cells[i] = course_tools.nbformat.v4.new_markdown_cell(
            cell.source, metadata=cell.metadata
        )

    return change


def _tests_edited_to_pass(nb):
    for cell in nb.cells:
        if course_tools.nbgrader_meta(cell).get("grade_id", "").startswith(("test_", "hidden_")):
            cell.source = "pass"


def _runs_out_of_memory(nb):
    nb.cells.insert(
        _index(nb, "rnn_forward"),
        course_tools.nbformat.v4.new_code_cell("hoard = bytearray(10**13)"),
    )


# Correct notebooks whose cells were changed in ways that must cost nothing: student ->
# (change, exercises that lose points, what the summary says).
CELL_CHANGES = {
    "deletes_a_test": (
        _delete("test_rnn_step_forward"),
        set(),
        "deleted cell test_rnn_step_forward was put back",
    ),
    "deletes_a_hidden_test": (
        _delete("hidden_rnn_backward"),
        set(),
        "deleted cell hidden_rnn_backward was put back",
    ),
    "deletes_tools_and_tests": (
        _delete("checking_tools", "test_rnn_forward", "hidden_rnn_forward"),
        set(),
        "deleted cell checking_tools, test_rnn_forward, hidden_rnn_forward was put back",
    ),
    "duplicates_cells": (
        _duplicate("rnn_forward", "test_relative_error"),
        set(),
        "cell rnn_forward, test_relative_error appears 2 times: the last copy is graded",
    ),
    "last_copy_wrong": (
        _last_copy_wrong,
        {"rnn_forward"},
        "cell rnn_forward appears 2 times: the last copy is graded",
    ),
    "retypes_a_test": (
        _retype("test_rnn_backward"),
        set(),
        "cell test_rnn_backward was changed to markdown and was restored",
    ),
    "edits_tests_to_pass": (_tests_edited_to_pass, set(), "read-only cell test_rnn_step_forward"),
    "runs_out_of_memory": (_runs_out_of_memory, set(), "ran out of memory (MemoryError)"),
}


def build_class(root):
    """Write every kind of submission into submitted/; return the bytes of files that
    tampering must not change."""
    for assignment in course_tools.selected_assignments():
        solution = course_tools.read(course_tools.notebook_path(root / "solutions", assignment))
        release = course_tools.read(course_tools.notebook_path(root / "notebooks", assignment))
        course_tools.submit(
            root, assignment, "solved", course_tools.make_submission(release, solution)
        )
        course_tools.submit(
            root,
            assignment,
            "untouched",
            course_tools.make_submission(release, solution, solved=False),
        )
        mutants = [m for m in MUTANTS if m.assignment == assignment and m.roundtrip]
        for i, mutant in enumerate(mutants):
            course_tools.submit(
                root,
                assignment,
                f"mistake{i}",
                course_tools.make_submission(release, solution, {mutant.cell: mutant.source}),
            )
    if course_tools.SELECTED:
        return {}  # `pytest --notebook ID`: the attacks' tests are not about one notebook
    solution = course_tools.read(course_tools.notebook_path(root / "solutions", ASSIGNMENT))
    release = course_tools.read(course_tools.notebook_path(root / "notebooks", ASSIGNMENT))
    (root / "canary.txt").write_text(CANARY)
    for attack in ATTACKS:
        attacked = course_tools.read(
            course_tools.notebook_path(root / "solutions", attack.assignment)
        )
        released = course_tools.read(
            course_tools.notebook_path(root / "notebooks", attack.assignment)
        )
        course_tools.submit(
            root,
            attack.assignment,
            attack.student,
            course_tools.make_submission(
                released, attacked, {attack.cell: attack.source.replace("{root}", str(root))}
            ),
        )
    for student, (change, _, _) in CELL_CHANGES.items():
        nb = course_tools.make_submission(release, solution)
        change(nb)
        course_tools.submit(root, ASSIGNMENT, student, nb)
    for student, replace in BROKEN.items():
        course_tools.submit(
            root,
            ASSIGNMENT,
            student,
            course_tools.make_submission(release, solution, broken_answers(solution, replace)),
        )
    edited = course_tools.make_submission(
        release,
        solution,
        {
            "rnn_forward": "def rnn_forward(xs, h0, W_xh, W_hh, b_h):\n    return np.zeros("
            "(xs.shape[0],) + h0.shape)\n"
        },
    )
    edited.cells = [
        c
        for c in edited.cells
        if course_tools.nbgrader_meta(c).get("grade_id") != "hidden_rnn_forward"
    ]
    for cell in edited.cells:
        if course_tools.nbgrader_meta(cell).get("grade_id") == "test_rnn_forward":
            cell.source = "print('all good')"
    course_tools.submit(root, ASSIGNMENT, "edits_tests", edited)
    path = course_tools.submit(root, ASSIGNMENT, "broken_json", release)
    path.write_text(path.read_text()[:5000])
    path = course_tools.submit(
        root, ASSIGNMENT, "renamed", course_tools.make_submission(release, solution)
    )
    path.rename(path.with_name(f"{ASSIGNMENT} (1).ipynb"))
    import helpers.checks

    guarded = [
        root / "nbgrader_config.py",
        root / "submitted/solved" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        Path(helpers.checks.__file__),
    ]
    return {p: p.read_bytes() for p in guarded}


class PrintedSummary:
    """The summary `rnn-course autograde` printed, line by line."""

    def __init__(self, text: str):
        self.text = text

    def lines(self) -> list[str]:
        return self.text.splitlines()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = course_tools.copy_course(tmp_path_factory.mktemp("class"))
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(TEST_LIMITS)
    course_tools.generate_release(root)
    guarded = build_class(root)
    temporary = Path(tempfile.mkdtemp(prefix="rc-tmp-"))  # the run's TMPDIR, watched
    try:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "instructor.cli",
                "--root",
                str(root),
                "autograde",
                "-j",
                "2",
                "-q",
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "TMPDIR": str(temporary)},
            timeout=3000,
        )
        kept = course_tools.ARTIFACTS / "grading" / "summary.txt"  # for a person to read
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_text(out.stdout)
        assert out.returncode == 0, out.stderr[-3000:]
        left = sorted(p.name for p in temporary.iterdir())
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return root, PrintedSummary(out.stdout), guarded, left


def points(root, assignment=ASSIGNMENT):
    return course_tools.grade_cells(
        course_tools.read(course_tools.notebook_path(root / "solutions", assignment))
    )


def scores(root, student, assignment=ASSIGNMENT):
    return course_tools.cell_scores(root, assignment, student)


def summary_line(summary, student):
    found = [line for line in summary.lines() if f"/{student}:" in line]
    return found[0] if found else ""


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solved_submission_gets_full_marks(graded, assignment):
    root, summary, *_ = graded
    assert scores(root, "solved", assignment) == points(root, assignment)
    assert not summary_line(summary, "solved")
    graded_nb = course_tools.read(
        root / "autograded" / "solved" / assignment / f"{assignment}.ipynb"
    )
    set_up = next(c for c in graded_nb.cells if c.cell_type == "code")
    assert "autograding (experiments at smoke scale)" in str(set_up.outputs), set_up.outputs


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_release_gets_zero(graded, assignment):
    root, *_ = graded
    got = scores(root, "untouched", assignment)
    assert set(got) == set(points(root, assignment)) and sum(got.values()) == 0


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_mistake_loses_points_on_its_own_exercise_only(graded, assignment):
    root, *_ = graded
    full = points(root, assignment)
    mutants = [m for m in MUTANTS if m.assignment == assignment and m.roundtrip]
    assert len(mutants) >= 3, "the round trip needs at least three plausible mistakes"
    for i, mutant in enumerate(mutants):
        got = scores(root, f"mistake{i}", assignment)
        own = {g for g in full if exercise_of(g) == mutant.cell}
        lost = {g for g in full if got[g] < full[g]}
        assert lost and lost <= own, f"{mutant.mistake}: lost {lost}, expected within {own}"


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.student)
def test_tampering_earns_nothing(graded, attack):
    root, *_ = graded
    got = scores(root, attack.student, attack.assignment)
    attacked = {g: s for g, s in got.items() if exercise_of(g) in attack.attacked}
    assert attacked and not any(attacked.values()), f"{attack.trick} earned {attacked}"


def test_tampering_changed_no_file_and_no_grade_of_anyone_else(graded):
    root, _, guarded, _ = graded
    for path, data in guarded.items():
        assert path.read_bytes() == data, f"{path} was changed by a submission"
    with sqlite3.connect(root / "gradebook.db") as db:
        worst = db.execute(
            "select max(grade.auto_score - grade_cells.max_score) from grade "
            "join grade_cells on grade.cell_id = grade_cells.id"
        ).fetchone()[0]
    assert worst <= 0, "a score above its cell's maximum reached the gradebook"


def test_a_hidden_test_cannot_be_edited_or_deleted_away(graded):
    root, *_ = graded
    got = scores(root, "edits_tests")
    assert got["test_rnn_forward"] == 0 and got["hidden_rnn_forward"] == 0
    assert got["test_rnn_step_forward"] == 1 and got["hidden_relative_error"] == 1


@pytest.mark.parametrize(
    "student, lost, kept, reported",
    [
        (  # rnn_forward calls the step its cell failed to define: graded with the model's
            "raises",
            {"rnn_step_forward"},
            {"rnn_forward", "numerical_gradient", "relative_error"},
            "",
        ),
        (
            "hangs_top_level",
            {"relative_error"},
            {"rnn_step_forward", "rnn_backward"},
            "per-cell time limit",
        ),
        (
            "hangs_in_call",
            {"rnn_backward"},
            {"rnn_forward", "relative_error"},
            "ran past its time limit",
        ),
        ("kills_kernel", {"numerical_gradient"}, {"rnn_backward", "relative_error"}, "kernel died"),
        ("floods_output", set(), {"rnn_step_forward", "relative_error"}, ""),
        ("broken_json", {"rnn_step_forward", "relative_error"}, set(), "not a valid notebook"),
        (
            "renamed",
            {"rnn_step_forward", "relative_error"},
            set(),
            "no 01_bptt.ipynb in the submission (found 01_bptt (1).ipynb)",
        ),
    ],
)
def test_a_bad_submission_costs_only_its_own_points(graded, student, lost, kept, reported):
    root, summary, *_ = graded
    got, full = scores(root, student), points(root)
    for grade_id, score in got.items():
        if exercise_of(grade_id) in lost:
            assert score == 0, f"{student}: {grade_id} scored {score}"
        if exercise_of(grade_id) in kept:
            assert score == full[grade_id], f"{student}: {grade_id} lost points"
    if (
        confine.kernel_confinement() is None
        or reported in ("", "not a valid notebook")
        or reported.startswith("no 01_bptt")
    ):  # the rest is seen in the kernel's run
        assert reported in summary_line(summary, student), summary.lines()
    assert Submission(root, ASSIGNMENT, student).log.is_file()


@pytest.mark.parametrize("student", CELL_CHANGES)
def test_changed_cells_cost_nothing_and_are_reported(graded, student):
    root, summary, *_ = graded
    _, lost, reported = CELL_CHANGES[student]
    got, full = scores(root, student), points(root)
    for grade_id, score in got.items():
        if exercise_of(grade_id) in lost:
            assert score < full[grade_id], f"{student}: {grade_id} kept its {score} points"
        else:
            assert score == full[grade_id], f"{student}: {grade_id} scored {score}"
    assert any(score < full[g] for g, score in got.items()) == bool(lost)
    assert reported in summary_line(summary, student), summary.lines()


def shown_to(root, attack) -> str:
    """Everything the attacker's notebook produced: the outputs of its graded notebook (what
    its code printed in the kernel, and the checks' messages quoting what its functions
    returned) and its feedback page."""
    path = root / "autograded" / attack.student / attack.assignment / f"{attack.assignment}.ipynb"
    outputs = [
        str(out) for cell in course_tools.read(path).cells for out in cell.get("outputs", [])
    ]
    _rnn_course(root, "feedback", "-a", attack.assignment, "-s", attack.student)
    html = root / "feedback" / attack.student / attack.assignment / f"{attack.assignment}.html"
    return "\n".join(outputs) + html.read_text()


@pytest.mark.parametrize("attack", [a for a in ATTACKS if a.leaks], ids=lambda a: a.student)
def test_student_code_reads_nothing_of_the_course_or_other_students(graded, attack):
    """Neither its kernel run (what it printed) nor its functions (what they returned, shown in
    the failure messages) could read a secret."""
    root, *_ = graded
    shown = shown_to(root, attack)
    for secret in SECRETS:
        assert secret not in shown, f"{attack.student}'s outputs or feedback show {secret!r}"
    assert CANARY in (root / "canary.txt").read_text()


def test_no_temporary_file_survives_the_run(graded):
    *_, left = graded
    assert not left, f"left in the run's temporary folder: {left}"


def test_huge_output_is_truncated_in_the_graded_notebook(graded):
    root, *_ = graded
    nb = course_tools.read(root / "autograded/floods_output" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    assert len(nbformat.writes(nb)) < 2_000_000


@pytest.mark.parametrize(
    "student",
    ["patches_helpers", "reads_solutions", "prints_what_it_reads", "imports_torch_by_name"],
)
def test_plain_nbgrader_autograde_uses_the_same_protection(graded, student):
    """`nbgrader autograde` with the course's config (no coordinator) is just as safe."""
    root, *_ = graded
    attack = next(a for a in ATTACKS if a.student == student)
    result = course_tools.course_api(root).autograde(attack.assignment, attack.student, force=True)
    assert result["success"], result["log"]
    assert not any(
        s
        for g, s in scores(root, attack.student, attack.assignment).items()
        if exercise_of(g) in attack.attacked
    )
    shown = shown_to(root, attack)
    assert not [secret for secret in SECRETS if secret in shown]


def _rnn_course(root, *args):
    return subprocess.run(
        [sys.executable, "-m", "instructor.cli", "--root", str(root), *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_feedback_hides_hidden_tests_and_export_matches_the_gradebook(graded):
    root, *_ = graded
    _rnn_course(root, "feedback", "-s", "solved", "-s", "mistake0")
    for student in ("solved", "mistake0"):
        html = (root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
        assert "Hidden tests of" in html  # their results, under the exercise's name
        for hidden_line in (
            "BEGIN HIDDEN TESTS",
            "check_rnn_backward(rnn_backward, _case)",
            "_case.dhs[-1] = 1.0",
        ):
            assert hidden_line not in html, f"{student}'s feedback shows {hidden_line!r}"
    assert (
        "rnn_backward: "
        in (root / "feedback/mistake0" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    )
    _rnn_course(root, "export", "-o", "grades.csv")
    rows = {
        (r["assignment"], r["student_id"]): float(r["score"])
        for r in csv.DictReader((root / "grades.csv").open())
    }
    for assignment in ASSIGNMENTS:
        assert rows[(assignment, "solved")] == sum(points(root, assignment).values())
        assert rows[(assignment, "untouched")] == 0
    assert rows[(ASSIGNMENT, "broken_json")] == 0


def _submissions(root):
    with sqlite3.connect(root / "gradebook.db") as db:
        return db.execute(
            "select count(*), count(distinct student_id || assignment_id) from submitted_assignment"
        ).fetchone()


def test_rerun_resumes_and_regrades_only_what_changed(graded):
    """Runs last in this module: it changes the class."""
    root, *_ = graded
    before = _submissions(root)
    again = autograde(root, workers=2, progress=False)
    assert not again.graded and len(again.skipped) == len(find_submissions(root))
    # a resubmission, and a run interrupted after one student's grades were committed
    solution = course_tools.read(course_tools.notebook_path(root / "solutions", ASSIGNMENT))
    release = course_tools.read(course_tools.notebook_path(root / "notebooks", ASSIGNMENT))
    course_tools.submit(
        root, ASSIGNMENT, "mistake0", course_tools.make_submission(release, solution)
    )
    (root / ".grading/done" / ASSIGNMENT / "untouched.json").unlink()
    resumed = autograde(root, workers=2, progress=False)
    assert sorted(r.student for r in resumed.graded) == ["mistake0", "untouched"]
    assert scores(root, "mistake0") == points(root)
    assert sum(scores(root, "untouched").values()) == 0
    count, distinct = _submissions(root)
    assert count == distinct == before[0], "a submission was lost or duplicated"
