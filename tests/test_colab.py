"""The self-learner's path on Colab, played on this machine.

A clean virtual environment holds what a Colab runtime brings (torch, numpy 2.1.3, matplotlib,
ipywidgets 7.7.1, IPython 7.34, ipykernel 6.17, pip 24.1; this machine's Python 3.11 and torch
2.13 stand in for Colab's 3.13 and 2.11), and nothing of the course. The course is served from
a local git repository standing in for GitHub, at the ref learners install. A stub `google.colab`
module, imported at kernel start-up, makes the set-up cell take its Colab branch. Then the
released set-up cell runs exactly as written, with only the repository's address replaced, and
every notebook, solved, runs top to bottom in that environment. A second case: the address is
wrong, and the learner reads a sentence that says so, and nothing after the set-up cell runs.

What is under test here is the environment (the install, Colab's IPython, ipywidgets and
numpy), not the experiments' numbers, which test_notebooks_execute checks at full scale: so the
notebooks run at their smoke scale (`helpers.course.pick`), as under autograding, unless
RNN_COURSE_COLAB_FULL=1. The venv is cached between runs (tests/venvs.py); CI builds it from
scratch.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement

import course_tools
import venvs
from instructor.diagnosis import catalogue
from instructor.infrastructure import stamp
from instructor.records.cells import nbgrader_meta

ROOT = course_tools.ROOT
# What a Colab runtime brings, in Colab's versions where they install on this machine's Python.
COLAB = [
    "torch==2.13.0",
    "numpy==2.1.3",
    "matplotlib",
    "ipywidgets==7.7.1",
    "ipython==7.34.0",
    "ipykernel==6.17.1",
    "nbclient",
]
COLAB_PIP = "24.1"
# Colab's own versions (a Colab runtime as of 2026-08: Python 3.13), which the course's
# requirements must accept.
COLAB_VERSIONS = {
    "torch": "2.11.0",
    "numpy": "2.1.3",
    "ipywidgets": "7.7.1",
    "ipython": "7.34.0",
    "ipykernel": "6.17.1",
}
# Upgrading any of these makes Colab demand a restart: the course's install must not touch them.
KEEP = ("numpy", "ipython", "ipykernel", "tornado", "pyzmq", "torch", "ipywidgets", "matplotlib")

STUB = "google/colab/__init__.py"
STARTUP = "import google.colab  # noqa: F401  (what Colab's kernel has imported)\n"
DRIVER = """
import json, sys, time
import nbclient, nbformat
from nbclient.exceptions import CellExecutionError

for job in json.loads(sys.argv[1]):
    nb = nbformat.read(job["path"], as_version=4)
    client = nbclient.NotebookClient(nb, timeout=job["timeout"], kernel_name="python3",
                                     allow_errors=job["allow_errors"],
                                     resources={"metadata": {"path": job["cwd"]}})
    start = time.monotonic()
    try:
        client.execute()
    except CellExecutionError:
        pass  # like Run all: stop at the first error; its output is in the notebook
    except Exception as error:  # a timeout, a dead kernel: note it and go on with the next
        nb.metadata["driver_error"] = f"{type(error).__name__}: {str(error)[:1000]}"
    nb.metadata["seconds"] = time.monotonic() - start
    nbformat.write(nb, job["path"])
"""

pytestmark = pytest.mark.slow


def test_the_course_requirements_leave_colabs_own_packages_alone():
    """Lower bounds only, each met by Colab's version: pip then upgrades nothing there."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"]:
        requirement = Requirement(line)
        assert all(spec.operator == ">=" for spec in requirement.specifier), (
            f"{line}: only lower bounds (>=), or Colab's pip may replace its own copy"
        )
        colab = COLAB_VERSIONS.get(requirement.name.lower())
        assert colab is None or requirement.specifier.contains(colab), (
            f"{line} rejects Colab's {requirement.name} {colab}"
        )


@pytest.fixture(scope="module")
def colab_venv():
    venv, seconds = venvs.cached("colab", COLAB, pip=COLAB_PIP)
    print(f"\ncolab venv {venv}: " + (f"built in {seconds:.0f} s" if seconds else "cached"))
    return venv


@pytest.fixture(scope="module")
def served_course(tmp_path_factory) -> tuple[str, str]:
    """(git URL, commit): this checkout's files as git tracks them (committed or not, untracked
    but not ignored included), committed and tagged with the configured ref in a bare
    repository: the course's GitHub repository as a learner's pip sees it."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
    )
    if listed.returncode:
        pytest.skip(f"{ROOT} is not a git checkout: nothing to serve as the course repository")
    scratch = tmp_path_factory.mktemp("served")
    source = scratch / "source"
    for name in filter(None, listed.stdout.decode().split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)

    def git(*args: str, cwd: Path = source) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=course", "-c", "user.email=c@example.org", *args],
            cwd=cwd,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-qm", "the course as it stands")
    git("tag", stamp.configured(ROOT).ref)
    git("clone", "-q", "--bare", str(source), str(scratch / "course.git"), cwd=scratch)
    return (scratch / "course.git").as_uri(), git("rev-parse", "HEAD")


def _setup_cell(nb, url: str) -> None:
    """The released set-up cell with only the repository's address replaced by `url`."""
    setup = next(c for c in nb.cells if c.cell_type == "code")
    address = stamp.configured(ROOT).url()
    assert setup.source.count(address) == 1, f"the set-up cell should name {address} once"
    setup.source = setup.source.replace(address, url)


def _run_in_colab(venv: Path, notebooks: list[tuple[Path, bool]], workdir: Path) -> None:
    """Execute each (path, allow_errors) notebook in place, in `venv`, as Colab would."""
    stub = workdir / "stub"
    (stub / STUB).parent.mkdir(parents=True, exist_ok=True)
    (stub / STUB).write_text('"""A stand-in for Colab\'s own package."""\n')
    ipython = workdir / "ipython"
    (ipython / "profile_default" / "startup").mkdir(parents=True, exist_ok=True)
    (ipython / "profile_default" / "startup" / "00-colab.py").write_text(STARTUP)
    cwd = workdir / "content"  # Colab's working folder: nothing of the course in it
    cwd.mkdir(exist_ok=True)
    jobs = [
        {"path": str(p), "allow_errors": allow, "timeout": 600, "cwd": str(cwd)}
        for p, allow in notebooks
    ]
    env = {"PYTHONPATH": str(stub), "IPYTHONDIR": str(ipython)}
    if os.environ.get("RNN_COURSE_COLAB_FULL") != "1":
        env["NBGRADER_EXECUTION"] = "autograde"  # the experiments' smoke scale
    out = venvs.run(venv, "-c", DRIVER, json.dumps(jobs), cwd=cwd, timeout=3600, env=env)
    assert out.returncode == 0, out.stderr[-3000:]


def _errors(nb) -> list[str]:
    return [
        f"{nbgrader_meta(c).get('grade_id', 'cell')}: {o.ename}: {o.evalue}"[:500]
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []))


@pytest.fixture()
def clean_venv(colab_venv):
    """The Colab venv; whatever a test installs into it is uninstalled afterwards."""
    before = venvs.installed(colab_venv)
    yield colab_venv, before
    added = sorted(set(venvs.installed(colab_venv)) - set(before))
    if added:
        venvs.run(colab_venv, "-m", "pip", "uninstall", "--quiet", "--yes", *added)


def test_a_wrong_address_stops_the_notebook_with_a_sentence(clean_venv, tmp_path):
    venv, before = clean_venv
    release = course_tools.read(course_tools.notebook_path(ROOT / "notebooks", "01_bptt"))
    setup = copy.deepcopy(next(c for c in release.cells if c.cell_type == "code"))
    wrong = (tmp_path / "no-such-course.git").as_uri()
    nb = nbformat.v4.new_notebook(cells=[setup, nbformat.v4.new_code_cell("print('ran on')")])
    _setup_cell(nb, wrong)
    path = tmp_path / "wrong.ipynb"
    nbformat.write(nb, path)
    _run_in_colab(venv, [(path, False)], tmp_path)
    nb = nbformat.read(path, as_version=4)
    (error,) = [o for o in nb.cells[0].outputs if o.output_type == "error"]
    assert error.ename == "RuntimeError"
    assert error.evalue.startswith(f"Could not install the course's helpers from git+{wrong}@")
    assert (
        "Run this cell again" in error.evalue
        and "no-such-course.git" in error.evalue.split("pip said:")[1]
    ), error.evalue
    assert "ModuleNotFoundError" not in json.dumps(nb.cells[0].outputs)
    assert not nb.cells[1].get("outputs"), "a cell after the failed set-up ran"
    assert venvs.installed(venv) == before, "a failed install changed the environment"


def test_a_learner_on_colab_installs_the_course_and_runs_every_notebook(
    clean_venv, served_course, tmp_path
):
    venv, before = clean_venv
    url, commit = served_course
    assert "rnn-gradients-course" not in before and "tqdm" not in before
    jobs, explorers = [], set()
    for assignment in course_tools.assignments():
        release_path = course_tools.notebook_path(ROOT / "notebooks", assignment)
        solution_path = course_tools.notebook_path(ROOT / "solutions", assignment)
        nb = course_tools.make_submission(
            course_tools.read(release_path), course_tools.read(solution_path)
        )
        _setup_cell(nb, url)
        if "widgets.Explorer(" in solution_path.read_text():
            course_tools.add_explorer_sweep(nb, points=2)
            explorers.add(assignment)
        path = tmp_path / f"{assignment}.ipynb"
        nbformat.write(nb, path)
        jobs.append((path, True))
    # A learner who has not solved anything yet runs the first visible check.
    release = course_tools.read(course_tools.notebook_path(ROOT / "notebooks", "01_bptt"))
    first_test = next(i for i, c in enumerate(release.cells) if nbgrader_meta(c).get("grade"))
    release.cells = release.cells[: first_test + 1]
    _setup_cell(release, url)
    nbformat.write(release, tmp_path / "unsolved.ipynb")
    # One who wrote a known mistake: the visible check names it, with its hint.
    mistake = next(
        e for e in catalogue.load(ROOT / "solutions", "01_bptt") if e.exercise == "rnn_step_forward"
    )
    for cell in release.cells:
        if nbgrader_meta(cell).get("grade_id") == mistake.exercise:
            cell.source = mistake.source
    nbformat.write(release, tmp_path / "mistaken.ipynb")
    jobs.append((tmp_path / "mistaken.ipynb", True))
    jobs.append((tmp_path / "unsolved.ipynb", True))

    _run_in_colab(venv, jobs, tmp_path)

    after = venvs.installed(venv)
    assert after.get("rnn-gradients-course") == stamp.pyproject(ROOT)["project"]["version"]
    changed = {
        name: (before[name], after.get(name))
        for name in KEEP
        if name in before and after.get(name) != before[name]
    }
    assert not changed, f"the course's install changed Colab's own packages: {changed}"
    found = venvs.run(
        venv,
        "-c",
        "import importlib.metadata as m, importlib.util as u, json; "
        "print(json.dumps([u.find_spec('helpers').origin, "
        "u.find_spec('instructor') is None, "
        "m.distribution('rnn-gradients-course').read_text('direct_url.json')]))",
        cwd=tmp_path,
    )
    helpers_file, no_instructor, direct_url = json.loads(found.stdout)
    assert "site-packages" in helpers_file and no_instructor, "a learner gets helpers alone"
    vcs = json.loads(direct_url)["vcs_info"]
    assert vcs["requested_revision"] == stamp.configured(ROOT).ref and vcs["commit_id"] == commit

    problems, seconds = [], {}
    for path, _ in jobs[:-2]:
        nb = nbformat.read(path, as_version=4)
        seconds[path.stem] = round(nb.metadata["seconds"])
        problems += [f"{path.stem}: {e}" for e in _errors(nb)]
        if "driver_error" in nb.metadata:
            problems.append(f"{path.stem}: {nb.metadata['driver_error']}")
        setup = next(c for c in nb.cells if c.cell_type == "code")
        if "Colab, " not in _text(setup):
            problems.append(f"{path.stem}: the set-up did not run as on Colab: {setup.outputs}")
        visible = [c for c in nb.cells if nbgrader_meta(c).get("grade_id", "").startswith("test_")]
        problems += [
            f"{path.stem}: {nbgrader_meta(c)['grade_id']} did not pass"
            for c in visible
            if "\u2714" not in _text(c)
        ]
        if not visible:
            problems.append(f"{path.stem}: no visible check ran")
        if path.stem in explorers:
            report = course_tools.explorer_report(nb)
            problems += [
                f"{path.stem}: explorer {name}: {found}"
                for name, found in report.items()
                if not found["timings"] or found["errors"]
            ]
            if not any(
                "application/vnd.jupyter.widget-view+json" in o.get("data", {})
                for c in nb.cells
                for o in c.get("outputs", [])
            ):
                problems.append(f"{path.stem}: no widget was displayed")
    assert not problems, "\n".join(problems)
    print(f"seconds per notebook on 'Colab': {seconds}")

    unsolved = nbformat.read(tmp_path / "unsolved.ipynb", as_version=4)
    (error,) = [o for o in unsolved.cells[-1].outputs if o.output_type == "error"]
    shown = "\n".join(error.traceback)
    assert error.ename == "CheckFailure" and "not implemented yet" in shown
    assert "Traceback" not in shown and "checks.py" not in shown, shown

    mistaken = nbformat.read(tmp_path / "mistaken.ipynb", as_version=4)
    (error,) = [o for o in mistaken.cells[-1].outputs if o.output_type == "error"]
    shown = "\n".join(error.traceback)
    assert f"behaves like a known mistake: {mistake.description}" in shown, shown
    assert f"where to look: {mistake.hint}" in shown, shown
