"""Grade a synthetic class: parallel against serial autograding, and grading against plain
execution of the same notebooks.

    python benchmarks/grade_class.py [--size 32] [--workers 2]

The class (notebook 01) mixes solved, untouched, mistaken and broken submissions (an exception,
a dead kernel, a flood of output, broken JSON, a renamed file, edited tests, a tampering
attempt); hanging ones are left out, since they would time the time limits. "Execute" runs
every valid submission headless, one after another, at the scale the grader uses
(NBGRADER_EXECUTION=autograde), with no grading. Targets (issue 6): parallel >= 1.8x serial on
2 cores; grading adds <= 50% over execution.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import course_tools  # noqa: E402
from attacks import ATTACKS, BROKEN, broken_answers  # noqa: E402
from instructor.autograde import autograde  # noqa: E402
from mutants import MUTANTS  # noqa: E402

ASSIGNMENT = "01_bptt"


def build_class(root: Path, size: int) -> list[str]:
    """Write `size` submissions; return the kind of each."""
    solution = course_tools.read(course_tools.notebook_path(root / "solutions", ASSIGNMENT))
    release = course_tools.read(course_tools.notebook_path(root / "notebooks", ASSIGNMENT))
    mutants = itertools.cycle(m for m in MUTANTS if m.assignment == ASSIGNMENT)
    broken = [k for k in BROKEN if not k.startswith("hangs")]
    kinds = []
    for i in range(size):
        student = f"student{i:03d}"
        kind = ["solved", "solved", "solved", "untouched", "wrong", "wrong", "broken"][i % 7]
        if kind == "solved":
            nb = course_tools.make_submission(release, solution)
        elif kind == "untouched":
            nb = course_tools.make_submission(release, solution, solved=False)
        elif kind == "wrong":
            mutant = next(mutants)
            nb = course_tools.make_submission(release, solution, {mutant.cell: mutant.source})
        else:
            which = (broken + ["broken_json", "renamed", "tampering"])[(i // 7) % (len(broken) + 3)]
            kind = f"broken ({which})"
            if which in BROKEN:
                nb = course_tools.make_submission(
                    release, solution, broken_answers(solution, BROKEN[which]))
            elif which == "tampering":
                attack = ATTACKS[1]
                nb = course_tools.make_submission(release, solution,
                                                  {attack.cell: attack.source})
            else:
                nb = course_tools.make_submission(release, solution)
        path = course_tools.submit(root, ASSIGNMENT, student, nb)
        if "broken_json" in kind:
            path.write_text(path.read_text()[:4000])
        if "renamed" in kind:
            path.rename(path.with_name(f"{ASSIGNMENT} (1).ipynb"))
        kinds.append(kind)
    return kinds


def time_execution(root: Path, workdir: Path) -> tuple[float, int]:
    """Execute every valid submission notebook in turn, as the grader's kernel would."""
    os.environ["NBGRADER_EXECUTION"] = "autograde"
    count, start = 0, time.perf_counter()
    try:
        for path in sorted((root / "submitted").glob(f"*/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")):
            try:
                nb = course_tools.read(path)
            except Exception:  # broken JSON: nothing to execute
                continue
            try:
                course_tools.execute(nb, workdir, timeout=120)
            except Exception:  # a submission that raises or kills its kernel still took time
                pass
            count += 1
    finally:
        os.environ.pop("NBGRADER_EXECUTION")
    return time.perf_counter() - start, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32, help="submissions in the class")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    os.environ.pop("MPLBACKEND", None)
    with tempfile.TemporaryDirectory() as tmp:
        root = course_tools.copy_course(Path(tmp) / "course")
        course_tools.generate_release(root)
        kinds = build_class(root, args.size)
        execute_s, executed = time_execution(root, Path(tmp))
        timings = {}
        for workers in (1, args.workers):
            start = time.perf_counter()
            summary = autograde(root, workers=workers, force=True, progress=False)
            timings[workers] = time.perf_counter() - start
            assert len(summary.graded) == args.size, summary.lines()
        scores = {r.student: r.score for r in summary.graded}
    print(f"\nclass of {args.size} submissions of {ASSIGNMENT} on {os.cpu_count()} CPU cores:")
    for kind in sorted(set(kinds)):
        got = [scores[f"student{i:03d}"] for i, k in enumerate(kinds) if k == kind]
        print(f"  {kinds.count(kind):3d} x {kind:<28} scores {sorted(set(got))}")
    serial, parallel = timings[1], timings[args.workers]
    speedup, overhead = serial / parallel, serial / execute_s - 1
    print(f"\nexecute {executed} notebooks, one after another   {execute_s:7.1f} s")
    print(f"autograde, 1 worker                          {serial:7.1f} s   "
          f"({overhead:+.0%} over execution; target <= +50%)")
    print(f"autograde, {args.workers} workers                         {parallel:7.1f} s   "
          f"({speedup:.2f}x serial; target >= 1.8x)")
    return 0 if speedup >= 1.8 and overhead <= 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
