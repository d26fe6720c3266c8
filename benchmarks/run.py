"""Time each solved notebook: headless execution, and one nbgrader autograde of it.

    python benchmarks/run.py [--repeat N] [-a 01_bptt -a 02_vanishing ...]

Prints a table (median of N runs) and the verdicts against the course's time budgets: <= 45 s per
notebook on 2 CPU cores, <= 4 min for the series, autograding <= +50% over execution.
Next to each wall-clock time it prints the CPU time the notebook's kernel used and the load
average: on a machine shared with other work the wall clock is inflated, and the CPU time
(the notebooks run torch on one thread) is close to what an idle machine's wall clock would be.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import course_tools  # noqa: E402

BUDGET_NOTEBOOK_S, BUDGET_SERIES_S, BUDGET_GRADING_OVERHEAD = 45.0, 240.0, 0.5


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextlib.contextmanager
def kernels_silenced():
    """Point this process's stdout (file descriptor 1) at the null device while the block runs.

    A kernel started by nbclient or nbgrader inherits it, and ipykernel prints its console banner
    there ("NOTE: When using the `ipython kernel` entry point, Ctrl-C will not work. To exit, you
    will have to explicitly quit this process ..."), which would mix with the table. Nothing in
    the block prints to stdout itself; errors still reach stderr."""
    sys.stdout.flush()
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(null)
        os.close(saved)


def time_execution(path: Path, workdir: Path) -> tuple[float, float]:
    """(wall-clock s, CPU s of the kernel) of one headless run in a fresh kernel."""
    nb = course_tools.read(path)
    cpu, start = _children_cpu(), time.perf_counter()
    course_tools.execute(nb, workdir, timeout=600)
    return time.perf_counter() - start, _children_cpu() - cpu


def time_autograde(root: Path, assignment: str, student: str) -> float:
    solution = course_tools.read(course_tools.notebook_path(root / "solutions", assignment))
    release = course_tools.read(course_tools.notebook_path(root / "notebooks", assignment))
    course_tools.submit(root, assignment, student, course_tools.make_submission(release, solution))
    api = course_tools.course_api(root)
    start = time.perf_counter()
    result = api.autograde(assignment, student, force=True)
    elapsed = time.perf_counter() - start
    if not result["success"]:
        raise RuntimeError(result["log"])
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument(
        "-a",
        "--assignment",
        action="append",
        help="time only this notebook (repeatable; default: all)",
    )
    args = parser.parse_args()
    os.environ.pop("MPLBACKEND", None)
    with tempfile.TemporaryDirectory() as tmp, kernels_silenced():
        root = course_tools.copy_course(Path(tmp) / "course")
        course_tools.generate_release(root)
        rows = []
        loads = [os.getloadavg()[0]]
        for assignment in args.assignment or course_tools.assignments():
            path = course_tools.notebook_path(root / "solutions", assignment)
            runs = [time_execution(path, Path(tmp)) for _ in range(args.repeat)]
            grade = [time_autograde(root, assignment, f"bench{i}") for i in range(args.repeat)]
            rows.append(
                (
                    assignment,
                    statistics.median(r[0] for r in runs),
                    statistics.median(grade),
                    statistics.median(r[1] for r in runs),
                )
            )
            loads.append(os.getloadavg()[0])
    cores = os.cpu_count()
    print(
        f"\nmedian of {args.repeat} runs, {cores} CPU cores, fresh kernel each run; load "
        f"average {min(loads):.1f} to {max(loads):.1f}\n"
    )
    print(
        f"{'notebook':<16} {'execute (s)':>12} {'kernel CPU (s)':>15} {'autograde (s)':>14} "
        f"{'overhead':>9}  budget"
    )
    for assignment, run, grade, cpu in rows:
        verdict = "ok" if run <= BUDGET_NOTEBOOK_S else f"OVER {BUDGET_NOTEBOOK_S:.0f} s"
        print(
            f"{assignment:<16} {run:12.1f} {cpu:15.1f} {grade:14.1f} {grade / run - 1:+9.0%}  "
            f"{verdict}"
        )
    total = sum(r[1] for r in rows)
    overhead = sum(r[2] for r in rows) / total - 1
    series_ok = total <= BUDGET_SERIES_S
    overhead_ok = overhead <= BUDGET_GRADING_OVERHEAD
    print(
        f"{'series':<16} {total:12.1f} {sum(r[3] for r in rows):15.1f} "
        f"{sum(r[2] for r in rows):14.1f} {overhead:+9.0%}  "
        f"series {'ok' if series_ok else 'OVER'} (<= {BUDGET_SERIES_S:.0f} s), grading overhead "
        f"{'ok' if overhead_ok else 'OVER'} (<= {BUDGET_GRADING_OVERHEAD:.0%})"
    )
    ok = all(r[1] <= BUDGET_NOTEBOOK_S for r in rows) and series_ok and overhead_ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
