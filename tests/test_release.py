"""notebooks/ is exactly what nbgrader generates from solutions/, and leaks nothing."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import course_tools
from instructor.infrastructure import stamp
from instructor.records import cells

ROOT = course_tools.ROOT
ASSIGNMENTS = course_tools.assignments()


def test_there_is_at_least_one_assignment():
    assert ASSIGNMENTS and all(re.fullmatch(r"\d\d_[a-z0-9_]+", a) for a in ASSIGNMENTS)


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_release_matches_a_fresh_generation(assignment, generated_course):
    fresh_path = course_tools.notebook_path(generated_course / "notebooks", assignment)
    fresh = course_tools.read(fresh_path)
    committed = course_tools.read(course_tools.notebook_path(ROOT / "notebooks", assignment))
    assert course_tools.dumps_cells(committed) == course_tools.dumps_cells(fresh), (
        f"notebooks/{assignment} is stale: run `rnn-course release -a {assignment}` from the "
        "course root and commit the result"
    )
    released = {p.name for p in (ROOT / "notebooks" / assignment).iterdir()}
    assert released == {p.name for p in (generated_course / "notebooks" / assignment).iterdir()}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_leaks_no_solution_or_hidden_test(assignment):
    solution = course_tools.read(course_tools.notebook_path(ROOT / "solutions", assignment))
    release_dir = ROOT / "notebooks" / assignment
    release = course_tools.read(course_tools.notebook_path(ROOT / "notebooks", assignment))
    text = "\n".join(c.source for c in release.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    assert not list(release_dir.glob("*.py")), "a jupytext twin (with answers) was released"
    secret, public = [], []
    for cell in solution.cells:
        source = cell.source
        for begin, end in (
            ("### BEGIN SOLUTION", "### END SOLUTION"),
            ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"),
        ):
            pattern = re.escape(begin) + r"(.*?)" + re.escape(end)
            for block in re.findall(pattern, source, flags=re.S):
                secret += [ln.strip() for ln in block.splitlines() if len(ln.strip()) > 12]
            source = re.sub(pattern, "", source, flags=re.S)
        public.append(source)
    # A line the solution notebook also states in the open (the derivation, the checking tools)
    # is teaching material, not a leak.
    public_text = "\n".join(public)
    secret = [ln for ln in secret if ln not in public_text]
    assert secret, "found no solution or hidden-test lines to look for"
    leaked = [ln for ln in secret if ln in text]
    assert not leaked, f"solution or hidden-test lines in notebooks/{assignment}: {leaked[:5]}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_sources_have_no_outputs_and_their_text_twin_is_in_sync(assignment, tmp_path):
    path = course_tools.notebook_path(ROOT / "solutions", assignment)
    nb = course_tools.read(path)
    assert all(
        not c.get("outputs") and not c.get("execution_count")
        for c in nb.cells
        if c.cell_type == "code"
    ), f"{path} has outputs: strip them"
    twin = path.with_suffix(".py")
    if twin.exists():
        import jupytext

        from_text = jupytext.read(twin)
        assert course_tools.dumps_cells(from_text) == course_tools.dumps_cells(nb), (
            f"{twin.name} and {path.name} differ: run `jupytext --sync {twin}`"
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebook_has_the_required_parts(assignment):
    nb = course_tools.read(course_tools.notebook_path(ROOT / "solutions", assignment))
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for part in ("## What to remember", "## References", "**Time:**"):
        assert part in markdown, f"{assignment} lacks '{part}'"
    # The course's address is written by the release (instructor.infrastructure.stamp), never by
    # hand.
    setup = next(c.source for c in nb.cells if c.cell_type == "code")
    assert stamp.BADGE_MARKER in nb.cells[0].source and stamp.INSTALL_MARKER in setup, (
        f"{assignment}: the title cell needs a `{stamp.BADGE_MARKER} -->` line and the set-up "
        f"cell a `{stamp.INSTALL_MARKER}` line (see CONTRIBUTING.md)"
    )
    text = course_tools.notebook_path(ROOT / "solutions", assignment).read_text()
    for written in ("colab.research.google.com/github/", "git+"):
        assert written not in text, (
            f"{assignment}: `{written}` written by hand; the release writes the course's address"
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebook_points_at_the_configured_address(assignment):
    path = course_tools.notebook_path(ROOT / "notebooks", assignment)
    nb = course_tools.read(path)
    address = stamp.configured(ROOT)
    assert address.badge(path.relative_to(ROOT).as_posix()) in nb.cells[0].source.splitlines()
    setup = next(c.source for c in nb.cells if c.cell_type == "code")
    assert address.install() in setup, "rnn-course release writes the Colab install"
    # A student's file: never paired by jupytext (a text twin would hold their answers).
    assert "jupytext" not in nb.metadata


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebook_collapses_only_the_checking_tools(assignment):
    """A student sees an exercise, then its check: the read-only checking code between them is
    collapsed (JupyterLab and Colab), and nothing else is."""
    nb = course_tools.read(course_tools.notebook_path(ROOT / "notebooks", assignment))
    collapsed = [
        cells.grade_id(c) or f"cell {i}"
        for i, c in enumerate(nb.cells)
        if c.metadata.get("jupyter", {}).get("source_hidden")
    ]
    tools = [cells.grade_id(c) for c in nb.cells if cells.is_checking_tools_cell(c)]
    assert tools, f"{assignment}: no checking_tools cell found"
    assert collapsed == tools, f"{assignment}: collapsed {collapsed}, expected {tools}"
    assert all(
        c.metadata.get("cellView") == "form" for c in nb.cells if cells.is_checking_tools_cell(c)
    )


def test_the_address_lives_in_pyproject_only():
    address = stamp.configured(ROOT)
    written = [
        p.relative_to(ROOT).as_posix()
        for folder in ("solutions", "helpers", "instructor", "tests")
        for p in (ROOT / folder).rglob("*")
        if p.is_file()
        and p.suffix in (".py", ".ipynb")
        and address.repository in p.read_text(errors="ignore")
    ]
    assert not written, f"the course's address is written by hand in {written}"


def test_stamping_refuses_a_notebook_without_markers():
    nb = course_tools.read(course_tools.notebook_path(ROOT / "solutions", ASSIGNMENTS[0]))
    nb.cells[0].source = nb.cells[0].source.replace(stamp.BADGE_MARKER, "<!-- a badge")
    with pytest.raises(ValueError, match="found 0 Colab badge"):
        stamp.stamp(nb, stamp.configured(ROOT), "notebooks/x.ipynb")


def test_contract_check_passes_for_written_notebooks():
    script = ROOT.parent / "shared" / "contract.py"
    if not script.exists():
        pytest.skip("../shared/contract.py is not beside this checkout")
    out = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True)
    for assignment in ASSIGNMENTS:
        number = assignment[:2]
        assert not [ln for ln in out.stdout.splitlines() if ln.startswith(f"{number}:")], out.stdout


def test_students_get_the_student_edition_and_a_course_without_one_uses_its_repository(tmp_path):
    data = stamp.pyproject(ROOT)["project"]["urls"]
    assert data[stamp.STUDENT_URL_KEY] != data[stamp.COURSE_URL_KEY], (
        "the student edition must be its own repository: the course's holds the solutions"
    )
    assert stamp.configured(ROOT).url() == data[stamp.STUDENT_URL_KEY]
    text = (ROOT / "pyproject.toml").read_text()
    single = "\n".join(
        line for line in text.splitlines() if not line.startswith(f'"{stamp.STUDENT_URL_KEY}"')
    )
    (tmp_path / "pyproject.toml").write_text(single)
    assert stamp.configured(tmp_path).url() == data[stamp.COURSE_URL_KEY]


def test_the_address_is_read_from_pyproject_and_checked(tmp_path):
    text = (ROOT / "pyproject.toml").read_text()
    configured = stamp.configured(ROOT)
    data = stamp.pyproject(ROOT)
    assert configured.ref == data["tool"]["rnn-course"].get("ref", "v" + data["project"]["version"])
    fork = text.replace(
        f"https://github.com/{configured.repository}", "https://github.com/someone/fork.git"
    ).replace("[tool.rnn-course]\n", '[tool.rnn-course]\nref = "spring-2027"\n')
    (tmp_path / "pyproject.toml").write_text(fork)
    assert stamp.configured(tmp_path) == stamp.Address(
        "someone/fork", "spring-2027", configured.package
    )
    (tmp_path / "pyproject.toml").write_text(
        fork.replace("https://github.com/someone/fork.git", "https://gitlab.com/someone/fork")
    )
    with pytest.raises(ValueError, match="GitHub address"):
        stamp.configured(tmp_path)
    with pytest.raises(ValueError, match="tag or branch"):
        stamp.Address("someone/fork", "has space")
