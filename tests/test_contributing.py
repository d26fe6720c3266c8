"""CONTRIBUTING.md's example notebook does what the guide says: a newcomer who copies it gets a
notebook that meets every rule, releases, runs with its claim strict, and grades its model
solution full and each of its catalogue's mistakes down."""

from __future__ import annotations

import re
import subprocess
import sys

import jupytext
import nbformat
import pytest
from test_catalogue import MIN_ENTRIES, MIN_ROUNDTRIP
from test_time_estimates import TOLERANCE, estimate

import course_tools
from instructor.diagnosis import catalogue
from instructor.grading.trusted_run import grade_submission

pytestmark = pytest.mark.slow
EXAMPLE = "09_example"


SUBMISSIONS_SCRIPT = '"""downloads/make_submissions.py'


def section_0() -> str:
    text = (course_tools.ROOT / "CONTRIBUTING.md").read_text()
    return text[text.index("\n## 0.") : text.index("\n## 1. Where it goes")]


def example_sources() -> tuple[str, str]:
    """The notebook's text twin and its mistakes.py, as CONTRIBUTING.md's section 0 shows them."""
    blocks = re.findall(r"```python\n(.*?)```", section_0(), re.S)
    assert len(blocks) >= 2, "CONTRIBUTING.md section 0 should show the notebook and mistakes.py"
    return blocks[0], blocks[1]


def submissions_script() -> str:
    """The script section 0 has a newcomer save as downloads/make_submissions.py."""
    blocks = re.findall(r"```python\n(.*?)```", section_0(), re.S)
    found = [b for b in blocks if b.startswith(SUBMISSIONS_SCRIPT)]
    assert len(found) == 1, "CONTRIBUTING.md section 0 should show downloads/make_submissions.py"
    return found[0]


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    root = course_tools.copy_course(tmp_path_factory.mktemp("contributing"))
    twin, mistakes = example_sources()
    folder = root / "solutions" / EXAMPLE
    folder.mkdir()
    (folder / "mistakes.py").write_text(mistakes)
    nb = jupytext.reads(twin, fmt="py:percent")
    nbformat.write(nb, folder / f"{EXAMPLE}.ipynb")
    course_tools.generate_release(root, [EXAMPLE])
    solution = course_tools.read(folder / f"{EXAMPLE}.ipynb")
    release = course_tools.read(root / "notebooks" / EXAMPLE / f"{EXAMPLE}.ipynb")
    return root, solution, release


def test_the_example_meets_the_rules(example):
    root, solution, release = example
    found = estimate(solution)
    assert abs(found.stated - found.measured) <= TOLERANCE * found.measured, found.describe()
    entries = catalogue.load(root / "solutions", EXAMPLE)
    assert len(entries) >= MIN_ENTRIES
    assert sum(e.roundtrip for e in entries) >= MIN_ROUNDTRIP
    released = nbformat.writes(release)
    assert "### BEGIN SOLUTION" not in released and "NotImplementedError" in released


def test_the_example_grades_its_solution_full_and_its_mistakes_down(example):
    root, solution, _ = example
    results = grade_submission(solution, course_tools.make_submission(solution, solution))
    assert results and all(r.passed for r in results.values()), results
    for entry in catalogue.load(root / "solutions", EXAMPLE):
        wrong = course_tools.make_submission(solution, solution, {entry.exercise: entry.source})
        graded = grade_submission(solution, wrong)
        assert not all(r.passed for r in graded.values()), f"{entry.id} passed every test"


def test_the_example_runs_with_its_claim_strict(example, tmp_path, monkeypatch):
    from helpers import claims

    _, solution, _ = example
    monkeypatch.setenv(claims.STRICT_ENV, "1")
    nb = course_tools.execute(solution, tmp_path)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "no figure"
    assert any("✔" in o.get("text", "") for o in outputs), "the claim printed nothing"


def test_the_guide_installs_as_the_readme_does():
    """Every pip install in section 0 is one of the README's commands, word for word."""
    readme = (course_tools.ROOT / "README.md").read_text()
    installs = [
        line.split("#")[0].strip().rstrip(".").strip("`")
        for line in section_0().splitlines()
        if "pip install" in line
    ]
    assert len(installs) >= 2, installs  # the instructor's set-up and the CPU build
    for command in installs:
        assert command in readme, f"CONTRIBUTING.md installs differently from README.md: {command}"


def test_the_guide_s_script_makes_a_right_and_a_wrong_submission(example):
    """downloads/make_submissions.py, run as section 0 says, writes a submission that grades
    full and one that loses points on the catalogue's first entry's exercise; `rnn-course
    collect` takes the folder; downloads/ is ignored by git."""
    root, solution, _ = example
    script = root / "downloads" / "make_submissions.py"
    script.parent.mkdir()
    script.write_text(submissions_script())
    run = [sys.executable, "downloads/make_submissions.py", EXAMPLE]
    done = subprocess.run(run, cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    folder = root / "downloads" / EXAMPLE
    assert sorted(p.name for p in folder.iterdir()) == [
        f"alice_{EXAMPLE}.ipynb",
        f"bob_{EXAMPLE}.ipynb",
    ]
    first = catalogue.load(root / "solutions", EXAMPLE)[0]
    alice = grade_submission(solution, course_tools.read(folder / f"alice_{EXAMPLE}.ipynb"))
    assert alice and all(r.passed for r in alice.values()), alice
    bob = grade_submission(solution, course_tools.read(folder / f"bob_{EXAMPLE}.ipynb"))
    failed = {cell for cell, r in bob.items() if not r.passed}
    assert failed and all(first.exercise in cell for cell in failed), failed
    collect = [
        sys.executable,
        "-m",
        "instructor.cli",
        "collect",
        f"downloads/{EXAMPLE}",
        "-a",
        EXAMPLE,
    ]
    done = subprocess.run(collect, cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    for student in ("alice", "bob"):
        assert (root / "submitted" / student / EXAMPLE / f"{EXAMPLE}.ipynb").is_file(), student
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "downloads/make_submissions.py"], cwd=course_tools.ROOT
    )
    assert ignored.returncode == 0, "downloads/ must be in .gitignore: it holds student work"
