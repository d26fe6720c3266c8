"""The mistake catalogue: well formed, tied to real exercises, the source of the mutation tests,
and never released or published to students."""

from __future__ import annotations

import shutil
import subprocess

import pytest

import course_tools
from instructor.commands.publish import build
from instructor.diagnosis import catalogue
from instructor.records.cells import CATALOGUE_MARKER, grade_id, is_solution_cell
from mutants import MUTANTS

SOLUTIONS = course_tools.ROOT / "solutions"
ASSIGNMENTS = course_tools.assignments()
MIN_ENTRIES = 3  # known mistakes per notebook
MIN_ROUNDTRIP = 3  # of them graded through nbgrader in tests/test_grading.py


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_entry_replaces_an_exercise_of_its_notebook(assignment):
    entries = catalogue.load(SOLUTIONS, assignment)
    nb = course_tools.read(course_tools.notebook_path(SOLUTIONS, assignment))
    exercises = {grade_id(c) for c in nb.cells if is_solution_cell(c)}
    assert len(entries) >= MIN_ENTRIES, (
        f"{assignment} has {len(entries)} catalogue entries; a notebook needs at least "
        f"{MIN_ENTRIES} (CONTRIBUTING.md, 'Mistakes as tests')"
    )
    roundtrip = [e.id for e in entries if e.roundtrip]
    assert len(roundtrip) >= MIN_ROUNDTRIP, (
        f"{assignment} marks {len(roundtrip)} entries roundtrip=True; at least {MIN_ROUNDTRIP} "
        "are graded through nbgrader as part of a class (CONTRIBUTING.md, 'Mistakes as tests')"
    )
    strays = [e.id for e in entries if e.exercise not in exercises]
    assert not strays, f"entries of {assignment} for exercises it does not have: {strays}"
    for entry in entries:
        assert entry.description.strip() and "\n" not in entry.description, entry.id
        assert entry.hint.strip(), f"{entry.id} has no hint for the student"
        for source in entry.sources:
            assert f"def {entry.exercise}(" in source, (
                f"{entry.id} does not define {entry.exercise}"
            )
            compile(source, entry.id, "exec")  # a mistake, never a syntax error


def test_the_mutation_tests_are_the_catalogue():
    expected = [
        (a, e.exercise, e.id, s)
        for a in ASSIGNMENTS
        for e in catalogue.load(SOLUTIONS, a)
        for s in e.sources
    ]
    assert [(m.assignment, m.cell, m.mistake, m.source) for m in MUTANTS] == expected


def test_a_catalogue_must_be_marked_and_its_ids_unique():
    entry = "Mistake('f', 'same', 'wrong', source='def f():\\n    return 1\\n')"
    header = "from instructor.diagnosis.catalogue import Mistake\n"
    with pytest.raises(ValueError, match="marker"):
        catalogue.parse(header + f"MISTAKES = [{entry}]\n")
    marked = f"# {CATALOGUE_MARKER}\n{header}"
    with pytest.raises(ValueError, match="unique, repeated: \\['same'\\]"):
        catalogue.parse(marked + f"MISTAKES = [{entry}, {entry}]\n")
    with pytest.raises(ValueError, match="must define MISTAKES"):
        catalogue.parse(marked + "MISTAKES = ['f']\n")
    assert [m.id for m in catalogue.parse(marked + f"MISTAKES = [{entry}]\n")] == ["same"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_catalogue_is_never_released(assignment):
    assert catalogue.path_of(SOLUTIONS, assignment).is_file()
    released = course_tools.ROOT / "notebooks" / assignment
    assert not (released / catalogue.CATALOGUE_NAME).exists()
    for path in released.rglob("*"):
        assert CATALOGUE_MARKER not in path.read_text(errors="ignore"), path


def test_publish_refuses_a_catalogue(tmp_path):
    root = course_tools.copy_course(tmp_path / "course")
    for folder in ("notebooks", "helpers"):
        subprocess.run(["cp", "-r", str(course_tools.ROOT / folder), str(root)], check=True)
    shutil.copy(course_tools.ROOT / "pyproject.toml", root)
    shutil.copy(catalogue.path_of(SOLUTIONS, "01_bptt"), root / "notebooks/01_bptt/notes.py")
    with pytest.raises(
        RuntimeError, match="mistake-catalogue markers in:\n  notebooks/01_bptt/notes.py"
    ):
        build(root, tmp_path / "out")
    assert not (tmp_path / "out").exists()
