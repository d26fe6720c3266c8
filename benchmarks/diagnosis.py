"""What diagnosis costs per graded submission, and how often it is right.

    python benchmarks/diagnosis.py [--per-exercise 1] [-a 01_bptt ...]

For catalogue entries (the first `--per-exercise` of each exercise; 0: all), submitted in the
otherwise solved notebook, it times the trusted tests without recording calls, with recording,
and the diagnosis (`instructor.diagnosis.replay.diagnose_run`), and counts the entries named as
themselves, named as another entry, and not named. The cost is reported against the trusted
tests alone; against a whole graded submission (kernel run, nbgrader) it is several times
smaller (the class report shows the `diagnosis` phase of real grading). Timings on a shared
machine are inflated: quote the load average printed with them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import course_tools  # noqa: E402
from instructor.diagnosis import catalogue, replay  # noqa: E402
from instructor.grading.trusted_run import run_tests  # noqa: E402
from instructor.records.diagnosis import Verdict  # noqa: E402


def measure(assignment: str, per_exercise: int) -> dict[str, float]:
    """Seconds (plain tests, recorded tests, diagnosis) and counts over the sampled entries."""
    solutions = course_tools.ROOT / "solutions"
    solution = course_tools.read(course_tools.notebook_path(solutions, assignment))
    entries = catalogue.load(solutions, assignment)
    run_tests(solution, solution)  # warm up: the first run pays for imports and start-up
    taken: dict[str, int] = {}
    totals = dict.fromkeys(("plain", "recorded", "diagnosis", "entries", "self", "other"), 0.0)
    for entry in entries:
        taken[entry.exercise] = taken.get(entry.exercise, 0) + 1
        if per_exercise and taken[entry.exercise] > per_exercise:
            continue
        nb = course_tools.make_submission(solution, solution, {entry.exercise: entry.source})
        started = time.perf_counter()
        run = run_tests(solution, nb, record=True)
        recorded = time.perf_counter()
        run_tests(solution, nb)
        plain = time.perf_counter()
        found = replay.diagnose_run(solution, run, entries)
        done = time.perf_counter()
        own = next((d for d in found if d.exercise == entry.exercise), None)
        named = own.mistake if own and own.verdict is Verdict.KNOWN else None
        totals["plain"] += plain - recorded
        totals["recorded"] += recorded - started
        totals["diagnosis"] += done - plain
        totals["entries"] += 1
        totals["self"] += named == entry.id
        totals["other"] += named is not None and named != entry.id
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-exercise", type=int, default=1)
    parser.add_argument("-a", "--assignment", action="append")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    sums = dict.fromkeys(("plain", "recorded", "diagnosis", "entries", "self", "other"), 0.0)
    for assignment in args.assignment or course_tools.assignments():
        got = measure(assignment, args.per_exercise)
        sums = {k: sums[k] + got[k] for k in sums}
        print(
            f"{assignment}: {got['entries']:.0f} entries, named as themselves "
            f"{got['self']:.0f}, as another {got['other']:.0f}; tests {got['plain']:.1f} s, "
            f"recorded {got['recorded']:.1f} s, diagnosis {got['diagnosis']:.2f} s"
        )
    added = sums["recorded"] - sums["plain"] + sums["diagnosis"]
    print(
        f"all: {sums['entries']:.0f} entries, {sums['self']:.0f} named as themselves, "
        f"{sums['other']:.0f} as another; diagnosis adds {added:.1f} s to "
        f"{sums['plain']:.1f} s of trusted tests ({added / sums['plain']:.1%}: recording "
        f"{(sums['recorded'] - sums['plain']) / sums['plain']:.1%}, replay "
        f"{sums['diagnosis'] / sums['plain']:.1%})"
    )


if __name__ == "__main__":
    main()
