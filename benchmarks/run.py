"""Time each solved notebook: headless execution, and one nbgrader autograde of it.

    python benchmarks/run.py [--repeat N]

Prints a table (median of N runs) and the budget verdicts of COURSE_DESIGN.md: <= 45 s per
notebook on 2 CPU cores, <= 4 min for the series, autograding <= +50% over execution.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import course_tools  # noqa: E402

BUDGET_NOTEBOOK_S, BUDGET_SERIES_S, BUDGET_GRADING_OVERHEAD = 45.0, 240.0, 0.5


def time_execution(path: Path, workdir: Path) -> float:
    nb = course_tools.read(path)
    start = time.perf_counter()
    course_tools.execute(nb, workdir, timeout=300)
    return time.perf_counter() - start


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
    args = parser.parse_args()
    os.environ.pop("MPLBACKEND", None)
    with tempfile.TemporaryDirectory() as tmp:
        root = course_tools.copy_course(Path(tmp) / "course")
        course_tools.generate_release(root)
        rows = []
        for assignment in course_tools.assignments():
            path = course_tools.notebook_path(root / "solutions", assignment)
            run = [time_execution(path, Path(tmp)) for _ in range(args.repeat)]
            grade = [time_autograde(root, assignment, f"bench{i}") for i in range(args.repeat)]
            rows.append((assignment, statistics.median(run), statistics.median(grade)))
    cores = os.cpu_count()
    print(f"\nmedian of {args.repeat} runs, {cores} CPU cores, fresh kernel each run\n")
    print(f"{'notebook':<16} {'execute (s)':>12} {'autograde (s)':>14} {'overhead':>9}  budget")
    for assignment, run, grade in rows:
        verdict = "ok" if run <= BUDGET_NOTEBOOK_S else f"OVER {BUDGET_NOTEBOOK_S:.0f} s"
        print(f"{assignment:<16} {run:12.1f} {grade:14.1f} {grade / run - 1:+9.0%}  {verdict}")
    total = sum(r[1] for r in rows)
    overhead = sum(r[2] for r in rows) / total - 1
    print(f"{'series':<16} {total:12.1f} {sum(r[2] for r in rows):14.1f} {overhead:+9.0%}  "
          f"{'ok' if total <= BUDGET_SERIES_S else 'OVER'} (series <= {BUDGET_SERIES_S:.0f} s, "
          f"grading overhead <= {BUDGET_GRADING_OVERHEAD:.0%})")
    ok = all(r[1] <= BUDGET_NOTEBOOK_S for r in rows) and total <= BUDGET_SERIES_S
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
