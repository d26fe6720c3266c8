"""A synthetic class, graded as an instructor grades it: each student is the solved notebook with
one catalogue mistake (some with two, in different exercises), plus a solved notebook and an
unreadable one. Diagnosis must name every mistake for the right student and exercise, in the
done-markers and in the feedback HTML, without leaking a hidden test; `rnn-course report`
must show the same in its page and CSV."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time

import pytest

import course_tools
from instructor.commands import report
from instructor.coordinator.gradebook import write_marker
from instructor.coordinator.job import Grade, Result
from instructor.diagnosis import catalogue
from instructor.records import class_report
from instructor.records.cells import HIDDEN_BEGIN
from instructor.records.diagnosis import Diagnosis, Verdict
from instructor.records.problems import Kind, Problem
from instructor.records.submission import Submission

pytestmark = pytest.mark.slow
ASSIGNMENT = "01_bptt"
PARTNERS = ("rnn_step_forward", "numerical_gradient", "relative_error")
LIMITS = """
c.Execute.timeout = 30
c.TrustedGrading.setup_timeout = 6
c.TrustedGrading.call_timeout = 6
"""


def _entries():
    return catalogue.load(course_tools.ROOT / "solutions", ASSIGNMENT)


def class_mistakes() -> dict[str, list[catalogue.Mistake]]:
    """student -> the catalogue entries their notebook holds (those diagnosis can name)."""
    entries = [e for e in _entries() if e.diagnosable]
    students = {f"one_{i:02d}_{e.id}"[:40]: [e] for i, e in enumerate(entries)}
    # two mistakes: each roundtrip entry (it stays in its exercise) with a mistake elsewhere
    roundtrip = [e for e in entries if e.roundtrip]
    for i, (exercise, first) in enumerate(zip(PARTNERS, roundtrip, strict=False)):
        partner = next(e for e in entries if e.exercise == exercise)
        students[f"two_{i}"] = [first, partner]
    return students


def _cli(root, *args, timeout=3000):
    out = subprocess.run(
        [sys.executable, "-m", "instructor.cli", "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    root, solution, release = course_tools.released_course(
        tmp_path_factory.mktemp("class"), ASSIGNMENT, LIMITS
    )
    students = class_mistakes()
    for student, mistakes in students.items():
        course_tools.submit(
            root,
            ASSIGNMENT,
            student,
            course_tools.make_submission(
                release, solution, {m.exercise: m.source for m in mistakes}
            ),
        )
    course_tools.submit(root, ASSIGNMENT, "solved", course_tools.make_submission(release, solution))
    path = course_tools.submit(root, ASSIGNMENT, "unreadable", release)
    path.write_text(path.read_text()[:3000])
    _cli(root, "autograde", "-a", ASSIGNMENT, "-j", "2", "-q")
    _cli(root, "feedback", "-a", ASSIGNMENT)
    return root, students


def diagnoses(root, student) -> list[Diagnosis]:
    marker = Submission(root, ASSIGNMENT, student).marker
    return [Diagnosis.from_json(d) for d in json.loads(marker.read_text())["diagnoses"]]


def test_every_mistake_is_named_for_its_student_and_exercise(graded_class):
    root, students = graded_class
    for student, mistakes in students.items():
        known = {
            d.exercise: d.mistake for d in diagnoses(root, student) if d.verdict is Verdict.KNOWN
        }
        assert known == {m.exercise: m.id for m in mistakes}, student
    assert diagnoses(root, "solved") == []


def test_the_feedback_names_the_mistake_and_hides_the_tests(graded_class):
    root, students = graded_class
    solution = course_tools.read(course_tools.notebook_path(root / "solutions", ASSIGNMENT))
    hidden = [
        ln.strip()
        for c in solution.cells
        if HIDDEN_BEGIN in c.source
        for ln in c.source.split(HIDDEN_BEGIN, 1)[1].splitlines()
        if len(ln.strip()) > 20 and "END HIDDEN" not in ln
    ]
    assert hidden
    for student, mistakes in students.items():
        page = (root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
        for mistake in mistakes:
            assert f"<code>{mistake.exercise}</code> behaves like a known mistake" in page
            assert (
                mistake.description.replace("'", "&#x27;").replace("<", "&lt;") in page
                or mistake.description in page
            ), (student, mistake.id)
        assert HIDDEN_BEGIN not in page
        leaked = [ln for ln in hidden if ln in page]
        assert not leaked, f"{student}'s feedback shows hidden test lines: {leaked[:3]}"


def test_the_report_attributes_every_mistake(graded_class, tmp_path):
    root, students = graded_class
    out = _cli(root, "report", "-a", ASSIGNMENT, "-o", str(tmp_path))
    assert f"{ASSIGNMENT}.html" in out and f"{ASSIGNMENT}.csv" in out
    with open(tmp_path / f"{ASSIGNMENT}.csv", newline="") as rows:
        table = {row["student"]: row for row in csv.DictReader(rows)}
    assert set(table) == {*students, "solved", "unreadable"}
    exercises = {m.exercise for m in _entries()}
    for student, mistakes in students.items():
        named = {
            ex: table[student][f"{ex} mistake"]
            for ex in exercises
            if table[student][f"{ex} mistake"]
        }
        assert named == {m.exercise: m.id for m in mistakes}, student
    assert table["solved"]["score"] == table["solved"]["max_score"]
    assert table["unreadable"]["trouble"] == "unreadable"
    page = (tmp_path / f"{ASSIGNMENT}.html").read_text()
    for entry in (e for e in _entries() if e.diagnosable):
        makers = sorted(s for s, ms in students.items() if entry.id in {m.id for m in ms})
        row = next(r for r in page.split("<tr>") if f"({entry.id})" in r)
        assert all(s in row for s in makers) and f'<td class="n">{len(makers)}</td>' in row
    assert page.count("data:image/png;base64,") == 3
    assert "http://" not in page and "https://" not in page  # opens from disk, offline
    assert "unreadable" in page.split("Submissions not graded normally")[1]
    assert HIDDEN_BEGIN not in page


def test_a_report_on_a_thousand_students(tmp_path):
    """From recorded markers alone (no gradebook, no notebooks): counts and shares add up."""
    entries = _entries()
    exercises = list(dict.fromkeys(e.exercise for e in entries))
    for i in range(1000):
        entry = entries[i % len(entries)] if i % 4 else None
        grades = [
            Grade(
                ASSIGNMENT,
                f"{kind}_{ex}",
                0.0 if entry and entry.exercise == ex and (kind == "hidden" or i % 8 == 1) else 1.0,
                1.0,
            )
            for ex in exercises
            for kind in ("test", "hidden")
        ]
        found = (
            [Diagnosis(entry.exercise, Verdict.KNOWN, entry.id, entry.description)] if entry else []
        )
        problems = [Problem(Kind.STUDENT_TIMEOUT, detail="600")] if i == 7 else []
        write_marker(
            Submission(tmp_path, ASSIGNMENT, f"s{i:04d}"),
            Result(
                ASSIGNMENT,
                f"s{i:04d}",
                grades,
                problems,
                found,
                seconds=1.0 + i % 5,
                phases={"diagnosis": 0.01},
            ),
        )
    started = time.perf_counter()
    written = report.write(tmp_path, tmp_path / "out")
    print(f"\nreport on 1000 students: {time.perf_counter() - started:.2f} s (shared machine)")
    built = report.build(tmp_path, ASSIGNMENT)
    assert len(built.results) == 1000 and [p.suffix for p in written] == [".html", ".csv"]
    assert sum(len(m.students) for m in built.mistakes) == 750
    assert built.troubles == {"s0007": [class_report.Trouble.TIMED_OUT]}
    first = built.exercises[0]
    wrong = [i for i in range(1000) if i % 4 and entries[i % len(entries)].exercise == first.name]
    assert first.graded == 1000 and first.hidden == 1000 - len(wrong)
    assert first.visible == 1000 - len([i for i in wrong if i % 8 == 1])
