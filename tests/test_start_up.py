"""What getting ready to grade costs: the processes that grade import only what they need, and a
worker starts the sandbox zygotes an assignment's tests use as soon as it gets the kit (their
imports then overlap the first job's kernel run instead of delaying its tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from instructor.coordinator import grade_job
from instructor.coordinator.job import Kit
from instructor.infrastructure.sandbox import zygote

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def _fresh_python(code: str) -> None:
    """Run `code` in a new interpreter with the course on its path; fail with its output."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_sandbox_zygote_and_its_children_never_import_nbformat():
    # nbformat brings jsonschema, a second of imports the zygote has no use for
    _fresh_python(
        "import sys\n"
        "import instructor.infrastructure.sandbox.child, instructor.infrastructure.sandbox.zygote\n"
        "found = sorted(m for m in ('nbformat', 'jsonschema') if m in sys.modules)\n"
        "assert not found, f'the zygote imports {found}'\n"
    )


def test_grading_processes_skip_jsonschemas_slow_optional_import_and_still_validate():
    _fresh_python(
        "import sys\n"
        "import instructor.cli, nbformat\n"
        "assert sys.modules.get('rfc3987_syntax') is None, 'rfc3987_syntax was imported'\n"
        "nbformat.validate(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('1')]))\n"
        "bad = nbformat.v4.new_notebook()\n"
        "bad.cells.append({'cell_type': 'code', 'source': 1})\n"
        "try:\n"
        "    nbformat.validate(bad)\n"
        "except (nbformat.ValidationError, nbformat.validator.NotebookValidationError):\n"
        "    pass\n"
        "else:\n"
        "    raise AssertionError('a broken notebook passed validation')\n"
    )


def _alive() -> set[bool]:
    return {kind for kind, found in zygote._zygotes.items() if found.alive()}


def test_getting_a_kit_starts_the_zygotes_its_tests_use():
    source = ROOT / "solutions" / "05_clipping" / "05_clipping.ipynb"  # numpy and torch ones
    zygote._stop_all()
    try:
        grade_job.warm_up(Kit("05_clipping", {source.name: source.read_bytes()}, "", b""))
        assert _alive() == {True, False}, _alive()
    finally:
        zygote._stop_all()
    source = ROOT / "solutions" / "01_bptt" / "01_bptt.ipynb"  # numpy only
    try:
        grade_job.warm_up(
            Kit("01_bptt", {source.name: source.read_bytes(), "x.ipynb": b"{no"}, "", b"")
        )
        assert _alive() == {False}, _alive()  # and a broken source is left to the job
    finally:
        zygote._stop_all()


def _alive_on_worker() -> list[bool]:
    from instructor.infrastructure.sandbox import zygote

    return sorted(kind for kind, found in zygote._zygotes.items() if found.alive())


def test_a_worker_starts_them_when_the_run_hands_it_the_kits():
    from distributed import Client, LocalCluster

    from instructor.coordinator import engine

    source = ROOT / "solutions" / "05_clipping" / "05_clipping.ipynb"
    kit = Kit("05_clipping", {source.name: source.read_bytes()}, "", b"")
    with (
        LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        client.register_plugin(engine._shelf("shelf", {kit.assignment: kit}))
        assert list(client.run(_alive_on_worker).values()) == [[False, True]]
