"""A visible check names the known mistake a student's function behaves like, in the student's
own notebook, from the table `rnn-course release` ships with `helpers`
(`helpers.known_mistakes`, `instructor.diagnosis.known_mistakes_table`), and the table gives away
nothing a student who has not made the mistake could read."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import course_tools
from helpers import known_mistakes
from instructor.diagnosis import catalogue
from instructor.diagnosis.known_mistakes_table import TABLE, entry_traces
from instructor.records import cells

ROOT = course_tools.ROOT
SHIPPED = json.loads((ROOT / TABLE).read_text())


def test_a_sealed_note_opens_only_for_its_own_trace():
    note = known_mistakes.Named("sum_not_mean", "sums instead of averaging", "divide by n")
    trace = known_mistakes.Trace()
    trace.returned(np.array([1.0, 2.5]))
    trace.failed("mse is wrong.")
    entries = known_mistakes.seal("mse", trace.entries, note)
    assert known_mistakes.unseal("mse", trace.entries, entries) == note
    other = known_mistakes.Trace()
    other.returned(np.array([1.0, 2.51]))
    other.failed("mse is wrong.")
    assert known_mistakes.unseal("mse", other.entries, entries) is None
    assert known_mistakes.unseal("other_exercise", trace.entries, entries) is None
    text = json.dumps(entries)
    assert "sums" not in text and "divide" not in text and "sum_not_mean" not in text


def test_float_noise_keeps_the_match():
    """A value that another CPU computes a few ulps away still opens the note: at 6 digits if
    the 4-digit rounding moved, at 4 if the 6-digit one did."""
    note = known_mistakes.Named("m", "d", "h")
    for value, noisy in ((0.123449999999, 0.123450000001), (0.12345649999, 0.12345650001)):
        here, there = known_mistakes.Trace(), known_mistakes.Trace()
        here.returned(np.array([value, 2.0]))
        there.returned(np.array([noisy, 2.0]))
        entries = known_mistakes.seal("f", here.entries, note)
        assert known_mistakes.unseal("f", there.entries, entries) == note
    tiny = known_mistakes.Trace()
    tiny.returned(np.array([3e-17]))
    zero = known_mistakes.Trace()
    zero.returned(np.array([-2e-16]))
    assert known_mistakes.unseal("f", zero.entries, known_mistakes.seal("f", tiny.entries, note))


def test_the_shipped_table_holds_no_catalogue_text():
    text = (ROOT / TABLE).read_text()
    for assignment in course_tools.assignments():
        for entry in catalogue.load(ROOT / "solutions", assignment):
            for secret in (entry.description, entry.hint, entry.source):
                assert secret not in text, f"{assignment}:{entry.id} is readable in the table"
    for marker in cells.INSTRUCTOR_MARKERS:
        assert marker not in text


@pytest.mark.slow
@pytest.mark.parametrize("assignment", course_tools.assignments())
def test_each_entry_is_named_as_itself_and_nothing_else(assignment):
    """Every catalogue entry the visible check fails is named as itself by the shipped table,
    unless it is ambiguous; without its own entries it is named as nothing (never another)."""
    exercises, found = entry_traces(ROOT, assignment)
    assert assignment in SHIPPED["notebooks"], (
        f"{TABLE} has no entry for {assignment}: run `rnn-course release` (it rewrites the "
        f"table) and commit {TABLE} with solutions/{assignment}/ and notebooks/{assignment}/"
    )
    assert SHIPPED["notebooks"][assignment] == exercises, (
        f"{TABLE} lists {SHIPPED['notebooks'][assignment]} as the exercises of {assignment}, "
        f"the notebook has {exercises}: run `rnn-course release` and commit {TABLE}"
    )
    escaped = [entry.id for entry, trace in found if trace is None]
    assert not escaped, (
        f"{assignment}: these catalogue entries pass their visible check (only the hidden tests "
        f"catch them): {escaped}; give the visible check an input that catches each"
    )
    named, unnamed = 0, []
    for entry, trace in found:
        table = SHIPPED["exercises"].get(entry.exercise, [])
        got = known_mistakes.unseal(entry.exercise, trace.entries, table)
        if got is None:
            unnamed.append(entry.id)
            continue
        assert got.id == entry.id, f"{entry.id} is named as {got.id}"
        named += 1
        own = {s["tag"] for s in known_mistakes.seal(entry.exercise, trace.entries, got)}
        rest = [e for e in table if e["tag"] not in own]
        assert known_mistakes.unseal(entry.exercise, trace.entries, rest) is None
    print(f"{assignment}: {named} named, not named: {unnamed}")
    undiagnosable = {entry.id for entry, _ in found if not entry.diagnosable}
    assert set(unnamed) <= undiagnosable, (
        f"{assignment}: the visible check fails these but cannot tell them from another entry: "
        f"{sorted(set(unnamed) - undiagnosable)}; give it an input on which they differ"
    )


def _kernel_checks(assignment: str, tmp_path, monkeypatch) -> dict[str, str]:
    """Run the released notebook with the model's answers, at smoke scale, in a kernel; then,
    in the same kernel, each catalogue entry as the student's answer and its visible check.
    Returns entry id (or "model:<exercise>") -> the check's error text ("" when it passed)."""
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")  # experiments at smoke scale
    solution = course_tools.read(course_tools.notebook_path(ROOT / "solutions", assignment))
    release = course_tools.read(course_tools.notebook_path(ROOT / "notebooks", assignment))
    nb = course_tools.make_submission(release, solution)
    nbformat = course_tools.nbformat
    visible = {
        cells.tested_exercise(cells.grade_id(c)): c.source
        for c in nb.cells
        if cells.is_test_cell(c) and not cells.is_hidden_test(cells.grade_id(c))
    }
    models = course_tools.solution_sources(solution)
    probes = [(f"model:{ex}", ex, models[ex]) for ex in visible]
    probes += [
        (e.id, e.exercise, e.source)
        for e in catalogue.load(ROOT / "solutions", assignment)
        if e.exercise in visible
    ]
    marks = []
    for label, exercise, source in probes:
        marks.append(label)
        nb.cells.append(nbformat.v4.new_code_cell(source))
        nb.cells.append(nbformat.v4.new_code_cell(visible[exercise]))
        nb.cells.append(nbformat.v4.new_code_cell(models[exercise]))  # the next probe's context
    first = len(nb.cells) - 3 * len(probes)
    course_tools.execute(nb, tmp_path, timeout=300, allow_errors=True)
    found = {}
    for i, label in enumerate(marks):
        outputs = nb.cells[first + 3 * i + 1].outputs
        found[label] = "\n".join(
            "\n".join(o.get("traceback", [])) for o in outputs if o.output_type == "error"
        )
    return found


@pytest.mark.slow
@pytest.mark.parametrize("assignment", course_tools.assignments())
def test_the_released_notebook_names_the_mistake(assignment, tmp_path, monkeypatch):
    """In a real kernel, after the notebook ran: a correct answer passes and is never named; an
    entry the table holds is named, with its description."""
    found = _kernel_checks(assignment, tmp_path, monkeypatch)
    plain = {label: re.sub(r"\x1b\[[0-9;]*m", "", text) for label, text in found.items()}
    for label, text in plain.items():
        if label.startswith("model:"):
            assert not text, f"the model answer fails its visible check:\n{text}"
    entries = {e.id: e for e in catalogue.load(ROOT / "solutions", assignment)}
    named = [
        label
        for label, text in plain.items()
        if label in entries and f"known mistake: {entries[label].description}" in text
    ]
    wrong = [
        label
        for label, text in plain.items()
        if label in entries
        and "behaves like a known mistake" in text
        and f"known mistake: {entries[label].description}" not in text
    ]
    assert not wrong, f"{assignment}: named as another mistake: {wrong}"
    sealed = {
        label.split(":", 1)[1]
        for label in _sealed_labels(assignment)
        if label.startswith(f"{assignment}:")
    }
    missing = sorted(sealed - set(named))
    print(f"{assignment}: {len(named)} of {len(entries)} entries named in the kernel")
    assert not missing, (
        f"{assignment}: the table holds these, the kernel did not name them: {missing}"
    )


def _sealed_labels(assignment: str) -> list[str]:
    exercises, found = entry_traces(ROOT, assignment)
    labels = []
    for entry, trace in found:
        if trace is None:
            continue
        table = SHIPPED["exercises"].get(entry.exercise, [])
        got = known_mistakes.unseal(entry.exercise, trace.entries, table)
        if got is not None and got.id == entry.id:
            labels.append(f"{assignment}:{entry.id}")
    return labels
