"""Diagnosis is right when it speaks.

Every catalogue entry (each way it is written), submitted as a student's answer in the otherwise
solved notebook, is graded by the course's grader with calls recorded, then diagnosed
(`instructor.diagnosis.replay`). Checked: each diagnosable entry is named as itself; no correct
exercise is ever named (the model solution, and every other exercise of each mistaken submission);
with its own entry taken out of the catalogue ("an unseen mistake"), a mistake is more often "not a
known mistake" than a wrong name. The figures are printed (pytest -s) and summed up by `python
benchmarks/diagnosis.py`. A last test checks that showing a diagnosis changes no score.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import pytest
from nbgrader.utils import determine_grade

import course_tools
from instructor.diagnosis import catalogue, replay
from instructor.diagnosis.catalogue import Mistake
from instructor.grading.preprocessors.diagnose_mistakes import show
from instructor.grading.trusted_run import run_tests
from instructor.records.diagnosis import Diagnosis, Verdict, output

SOLUTIONS = course_tools.ROOT / "solutions"
ASSIGNMENTS = course_tools.assignments()


@dataclass
class Trial:
    """One implementation of one entry, graded and diagnosed."""

    entry: Mistake
    source: str
    diagnoses: list[Diagnosis]  # with the whole catalogue
    unseen: Diagnosis | None  # its exercise, with its own entry left out of the catalogue
    tests_seconds: float
    diagnosis_seconds: float
    run: object = None

    def own(self) -> Diagnosis | None:
        return next((d for d in self.diagnoses if d.exercise == self.entry.exercise), None)


@functools.cache
def trials(assignment: str) -> tuple[list[Trial], object]:
    """Every entry's trials, and the model solution's run."""
    solution = course_tools.read(course_tools.notebook_path(SOLUTIONS, assignment))
    entries = catalogue.load(SOLUTIONS, assignment)
    found = []
    for entry in entries:
        for source in entry.sources:
            nb = course_tools.make_submission(solution, solution, {entry.exercise: source})
            started = time.perf_counter()
            run = run_tests(solution, nb, record=True)
            tested = time.perf_counter()
            diagnoses = replay.diagnose_run(solution, run, entries)
            diagnosed = time.perf_counter()
            others = [e for e in entries if e is not entry]
            unseen = next(
                (
                    d
                    for d in replay.diagnose_run(solution, run, others)
                    if d.exercise == entry.exercise
                ),
                None,
            )
            found.append(
                Trial(entry, source, diagnoses, unseen, tested - started, diagnosed - tested, run)
            )
    return found, run_tests(solution, solution, record=True)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_mistake_is_diagnosed_as_itself(assignment):
    found, _ = trials(assignment)
    named = [t for t in found if t.entry.diagnosable]
    wrong = [
        (t.entry.id, t.own() and t.own().sentence())
        for t in named
        if t.own() is None or t.own().verdict is not Verdict.KNOWN or t.own().mistake != t.entry.id
    ]
    print(
        f"\n{assignment}: {len(named) - len(wrong)}/{len(named)} implementations of diagnosable "
        f"entries named as themselves; {len(found) - len(named)} of entries marked not "
        f"diagnosable"
    )
    assert not wrong, f"misdiagnosed: {wrong}"
    for t in found:  # a mistake that cannot be matched is never given a name
        if not t.entry.diagnosable:
            assert t.own() is not None and t.own().verdict is not Verdict.KNOWN, t.entry.id


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_correct_code_is_never_named(assignment):
    found, model_run = trials(assignment)
    solution = course_tools.read(course_tools.notebook_path(SOLUTIONS, assignment))
    entries = catalogue.load(SOLUTIONS, assignment)
    assert all(o.passed for o in model_run.outcomes.values())
    assert replay.diagnose_run(solution, model_run, entries) == []
    # Forced: diagnose every exercise of the model solution on its own calls anyway.
    space = replay.Namespaces(solution)
    for exercise in sorted(set(model_run.owner.values())):
        names = [f for f, gid in model_run.owner.items() if gid == exercise]
        calls = [c for f in names for c in model_run.calls.get(f, [])]
        verdict = replay.diagnose(exercise, calls, entries, space)
        assert verdict.verdict is not Verdict.KNOWN, verdict.sentence()
    # In each mistaken submission, every other exercise is the model solution.
    named = [
        (t.entry.id, d.sentence())
        for t in found
        for d in t.diagnoses
        if d.exercise != t.entry.exercise and d.verdict is Verdict.KNOWN
    ]
    assert not named, f"correct exercises named as mistakes: {named}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_an_unseen_mistake_is_rarely_given_a_wrong_name(assignment):
    found, _ = trials(assignment)
    named = [t for t in found if t.entry.diagnosable]
    wrong = [
        (t.entry.id, t.unseen.mistake)
        for t in named
        if t.unseen is not None and t.unseen.verdict is Verdict.KNOWN
    ]
    print(
        f"\n{assignment}: with its own entry left out, {len(wrong)}/{len(named)} named as "
        f"another entry: {wrong}"
    )
    assert len(wrong) < len(named) - len(wrong), wrong


@pytest.mark.parametrize("assignment", ASSIGNMENTS[:1])
def test_showing_a_diagnosis_changes_no_score(assignment):
    found, _ = trials(assignment)
    solution = course_tools.read(course_tools.notebook_path(SOLUTIONS, assignment))
    shown = 0
    for t in found:
        nb = course_tools.make_submission(solution, solution, {t.entry.exercise: t.source})
        for cell in nb.cells:
            outcome = t.run.outcomes.get(course_tools.nbgrader_meta(cell).get("grade_id"))
            cell.outputs = outcome.outputs() if outcome else []
        before = [
            determine_grade(c)
            for c in nb.cells
            if c.cell_type == "code" and course_tools.nbgrader_meta(c).get("grade")
        ]
        known = [d for d in t.diagnoses if d.verdict is Verdict.KNOWN]
        show(nb, known, t.run.outcomes)
        after = [
            determine_grade(c)
            for c in nb.cells
            if c.cell_type == "code" and course_tools.nbgrader_meta(c).get("grade")
        ]
        assert before == after, t.entry.id
        shown += sum(
            1
            for c in nb.cells
            for o in c.get("outputs", [])
            if o.get("output_type") == "display_data"
            and "known mistake" in o.get("data", {}).get("text/plain", "")
        )
    assert shown >= len([t for t in found if t.entry.diagnosable])


def test_a_diagnosis_travels_as_data_and_reads_as_a_sentence():
    known = Diagnosis(
        "rnn_backward",
        Verdict.KNOWN,
        "dw_hh_uses_h_t",
        "dW_hh uses h_t where it needs h_(t-1)",
        "Which state multiplied W_hh?",
    )
    for d in (known, Diagnosis("rnn_forward", Verdict.UPSTREAM, detail="rnn_step_forward")):
        assert Diagnosis.from_json(d.to_json()) == d
    with pytest.raises(ValueError, match="not a diagnosis record"):
        Diagnosis.from_json({"verdict": "GUESSED"})
    shown = output(known).data
    assert shown["text/plain"] == (
        "Your `rnn_backward` behaves like a known mistake: dW_hh uses "
        "h_t where it needs h_(t-1)\nHint: Which state multiplied W_hh?"
    )
    assert "<b>Your <code>rnn_backward</code> behaves like a known mistake" in shown["text/html"]
    assert "Hint: Which state multiplied W_hh?</div>" in shown["text/html"]
    assert Diagnosis("f", Verdict.UPSTREAM, detail="g").sentence() == (
        "f: not diagnosed: it calls g, which failed its own tests"
    )
