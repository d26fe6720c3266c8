"""Tools the tests and the benchmarks share: scratch copies of the course, submissions built
from the release and the model solution (or a mistake), scores read from the gradebook, and a
headless notebook runner. Course paths and nbgrader access come from
`instructor.infrastructure.course_folder`.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat

from instructor.infrastructure import course_folder
from instructor.infrastructure.course_folder import (  # noqa: F401  (re-exported for the tests)
    course_api,
    course_config,
    notebook_path,
    read,
)
from instructor.infrastructure.release import generate_release  # noqa: F401  (re-exported)
from instructor.records.cells import nbgrader_meta, strip_markers

ROOT = Path(__file__).resolve().parents[1]
# What tests keep for a person to look at after a run (screenshots, a class's summary); git
# ignores it.
ARTIFACTS = Path(os.environ.get("RNN_COURSE_ARTIFACTS") or ROOT / "test-artifacts")


def copy_course(dest: Path, root: Path = ROOT) -> Path:
    """A scratch copy of the course (sources, helpers, config) where nbgrader may write freely."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        root / "solutions",
        dest / "solutions",
        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
    )
    shutil.copy(root / "nbgrader_config.py", dest / "nbgrader_config.py")
    return dest


def released_course(dest: Path, assignment: str, config: str = ""):
    """A scratch copy of the course (`copy_course`) with `config` appended to its
    nbgrader_config.py and `assignment` released; returns (root, solution notebook, released
    notebook) of that assignment, from which submissions are made (`make_submission`)."""
    root = copy_course(dest)
    with open(root / "nbgrader_config.py", "a") as file:
        file.write(config)
    generate_release(root, [assignment])
    solution = read(notebook_path(root / "solutions", assignment))
    release = read(notebook_path(root / "notebooks", assignment))
    return root, solution, release


# The notebooks `pytest --notebook ID` chose (tests/conftest.py); empty: all of them.
SELECTED: list[str] = []


def assignments(root: Path = ROOT) -> list[str]:
    return course_folder.assignments(root)


def selected_assignments(root: Path = ROOT) -> list[str]:
    """The notebooks this test run is about: those `--notebook` chose, else all."""
    return [a for a in assignments(root) if not SELECTED or a in SELECTED]


def grade_cells(nb) -> dict[str, float]:
    """grade_id -> points, for every graded cell of a notebook."""
    return {
        nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c)["points"])
        for c in nb.cells
        if nbgrader_meta(c).get("grade")
    }


def solution_sources(solution_nb) -> dict[str, str]:
    """grade_id -> the model solution's source (markers removed), for every solution cell."""
    return {
        nbgrader_meta(c)["grade_id"]: strip_markers(c.source)
        for c in solution_nb.cells
        if nbgrader_meta(c).get("solution")
    }


def make_submission(
    release_nb, solution_nb, replace: dict[str, str] | None = None, solved: bool = True
):
    """A student's notebook: the release with its solution cells filled in.

    solved=True fills every solution cell with the model solution; `replace` maps grade_id ->
    source for the cells a (mistaken) student wrote differently.
    """
    nb = copy.deepcopy(release_nb)
    answers = solution_sources(solution_nb) if solved else {}
    answers.update(replace or {})
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and gid in answers:
            cell.source = answers[gid]
    return nb


def submit(root: Path, assignment: str, student: str, nb) -> Path:
    """Write nb as submitted/<student>/<assignment>/<name>.ipynb in the course at root."""
    name = notebook_path(root / "notebooks", assignment).name
    path = root / "submitted" / student / assignment / name
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def cell_scores(root: Path, assignment: str, student: str) -> dict[str, float]:
    """grade_id -> score of one autograded submission, read from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(course_config(root).CourseDirectory.db_url) as gb:
        submission = gb.find_submission(assignment, student)
        return {g.name: float(g.score) for nb in submission.notebooks for g in nb.grades}


def execute(nb, workdir: Path, timeout: int = 120, allow_errors: bool = False):
    """Run nb top to bottom in a fresh python3 kernel started in workdir; nb gets the outputs.
    A cell that raises stops the run (nbclient's CellExecutionError), unless allow_errors: then
    every cell runs, as nbgrader's autograde runs them."""
    import nbclient

    nbclient.NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(workdir)}},
    ).execute()
    return nb


def execute_solution(
    assignment: str, workdir: Path, monkeypatch, sweep_explorers: bool = True, timeout: int = 120
):
    """Run the solution notebook of `assignment` in a fresh kernel with claims strict; fail
    (AssertionError) on an error in any cell, a test cell that is not silent (nbgrader zeroes
    it), no figure at all, or, with sweep_explorers, an explorer setting that fails to draw.
    The kernel inherits the test process's environment (set perturbations with monkeypatch);
    timeout: seconds per cell."""
    from helpers import claims

    monkeypatch.setenv(claims.STRICT_ENV, "1")
    path = notebook_path(ROOT / "solutions", assignment)
    nb = read(path)
    explorers = sweep_explorers and "widgets.Explorer(" in path.read_text()
    if explorers:  # move every slider once: no setting may fail to draw
        add_explorer_sweep(nb, points=2)
    execute(nb, workdir, timeout=timeout)
    if explorers:
        report = explorer_report(nb)
        assert report, "the notebook builds an explorer but none was found after running it"
        for name, found in report.items():
            assert found["timings"] and not found["errors"], f"explorer {name}: {found}"
        nb.cells.pop()
    problems, figures = [], 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = nbgrader_meta(cell)
        for out in cell.outputs:
            figures += "image/png" in out.get("data", {})
            if out.output_type == "error":
                problems.append(f"{meta.get('grade_id', 'cell')}: {out.ename}: {out.evalue}")
            # nbgrader zeroes a test cell that writes to stderr or ends with a value
            if meta.get("grade") and (
                out.get("name") == "stderr" or out.output_type == "execute_result"
            ):
                problems.append(f"{meta['grade_id']} is not silent: {out}")
    assert not problems, "\n".join(problems)
    assert figures >= 1, (
        "the notebook shows no figure: every notebook plots at least one (CONTRIBUTING.md, "
        "'What the tests require'); if it does plot, MPLBACKEND=Agg may be set in your shell"
    )
    return nb


EXPLORER_SWEEP = """
import json as _json
from helpers.widgets import Explorer as _Explorer
_found = {}
for _name, _value in list(globals().items()):   # IPython's _, _12, ... name the same objects
    if isinstance(_value, _Explorer) and not _name.startswith("_"):
        _found[_name] = {"timings": _value.sweep(points=%d), "errors": _value.errors}
print("EXPLORERS " + _json.dumps(_found))
"""


def add_explorer_sweep(nb, points: int) -> None:
    """Append a cell that moves every control of every explorer the notebook made
    (`helpers.widgets.Explorer.sweep`); read the outcome with `explorer_report`."""
    nb.cells.append(nbformat.v4.new_code_cell(EXPLORER_SWEEP % points))


def explorer_report(nb) -> dict:
    """{explorer name: {"timings": [...], "errors": [...]}} from an executed sweep cell."""
    for output in nb.cells[-1].get("outputs", []):
        if output.get("name") == "stdout" and "EXPLORERS " in output.text:
            return json.loads(output.text.split("EXPLORERS ", 1)[1])
    raise AssertionError(f"the explorer sweep printed nothing: {nb.cells[-1].get('outputs')}")


def dumps_cells(nb) -> str:
    """Cell sources and nbgrader metadata only: what the sync test compares."""
    return json.dumps(
        [{"type": c.cell_type, "source": c.source, "nbgrader": nbgrader_meta(c)} for c in nb.cells],
        indent=1,
        sort_keys=True,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback only)
        return response.status, response.read()


@contextlib.contextmanager
def jupyter_lab(
    python: str, folder: Path, log: Path, token: str, env: dict | None = None
) -> Iterator[str]:
    """JupyterLab as the README's first command starts it (`jupyter lab FOLDER`), run by
    `python`: on loopback, with a token, on a free port, `--allow-root` as root. Yields its base
    URL once it answers; stopped at the end."""
    port = free_port()
    cmd = [
        python,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        "--ServerApp.open_browser=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    with open(log, "w") as errors:
        server = subprocess.Popen(
            cmd + [str(folder)], stdout=subprocess.DEVNULL, stderr=errors, env=env
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if http_get(f"{base}/api/status?token={token}")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"JupyterLab did not start within 120 s: {log}"
            time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def live_processes_named(marker: str) -> list[int]:
    """Pids of the processes on this machine whose command name is `marker`, zombies left out
    (the isolation tests name their escaped processes so)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as comm, open(f"/proc/{entry}/stat") as stat:
                    dead = stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
                    if comm.read().strip() == marker and not dead:
                        found.append(int(entry))
            except (OSError, IndexError):
                continue
    return found
