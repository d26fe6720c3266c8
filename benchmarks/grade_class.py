"""Grade a synthetic class: on dask's LocalCluster with one worker and with one per core, and
against plain execution of the same notebooks; where grading time
goes; and the engine's own cost per submission.

    python benchmarks/grade_class.py [--size 32] [--workers 2]

The class (notebook 01) mixes solved, untouched, mistaken and broken submissions (an exception,
a dead kernel, a flood of output, broken JSON, a renamed file, edited tests, a tampering
attempt); hanging ones are left out, since they would time the time limits. "Execute" runs
every valid submission headless, one after another, at the scale the grader uses
(NBGRADER_EXECUTION=autograde), with no grading. Targets: the workers >= 1.8x one worker on 2
cores; grading with one worker <= +20% over execution. The engine's overhead is measured apart
from grading: tasks carrying a real job's bytes and returning a real result's bytes, timed
through the same cluster, and the coordinator's gradebook write per result.
"""

from __future__ import annotations

import argparse
import itertools
import os
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import course_tools  # noqa: E402
from attacks import ATTACKS, BROKEN, broken_answers  # noqa: E402
from instructor import engine, gradebook  # noqa: E402
from instructor.autograde import autograde, find_submissions, make_job  # noqa: E402
from instructor.job import Result  # noqa: E402
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
                    release, solution, broken_answers(solution, BROKEN[which])
                )
            elif which == "tampering":
                attack = ATTACKS[1]
                nb = course_tools.make_submission(release, solution, {attack.cell: attack.source})
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


def _echo(job, limit=None) -> Result:
    """A task as heavy on the wire as grading one submission, and as light on the CPU as
    nothing: it returns a result holding as many bytes as an autograded notebook."""
    return Result(job.assignment, job.student, autograded={"nb.ipynb": b"x" * 250_000})


def engine_overhead(root: Path, workers: int, count: int = 64) -> tuple[float, float]:
    """Milliseconds between two results when tasks cost nothing but their scheduling and their
    transfers, on the same kind of cluster, with as many in flight as there are workers (the
    most submissions per second the coordinator can take, whatever the cluster's size), and the
    megabytes one task moves (its job, pickled, and the result's bytes)."""
    subs = find_submissions(root)
    config, snapshot = (root / "nbgrader_config.py").read_text(), gradebook.snapshot(root)
    jobs = [make_job(subs[i % len(subs)], config, snapshot) for i in range(count)]
    seen = []
    with mock.patch.object(engine, "grade", _echo):
        engine.run(
            iter(jobs), count, lambda r, o: seen.append(time.perf_counter()), workers=workers
        )
    # the first result waits for the cluster to start: time the steady state after it
    moved = statistics.mean(len(pickle.dumps(job)) for job in jobs) + len(
        _echo(jobs[0]).autograded["nb.ipynb"]
    )
    return (seen[-1] - seen[0]) / (count - 1) * 1000, moved / 1e6


def timed_autograde(root: Path, workers: int, record_times: list[float]) -> tuple[float, list]:
    original = gradebook.Recorder.record

    def timed_record(recorder, result):
        start = time.perf_counter()
        original(recorder, result)
        record_times.append(time.perf_counter() - start)

    with mock.patch.object(gradebook.Recorder, "record", timed_record):
        start = time.perf_counter()
        summary = autograde(root, workers=workers, force=True, progress=False)
    return time.perf_counter() - start, summary.graded


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32, help="submissions in the class")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    os.environ.pop("MPLBACKEND", None)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        root = course_tools.copy_course(Path(tmp) / "course")
        course_tools.generate_release(root)
        kinds = build_class(root, args.size)
        execute_s, executed = time_execution(root, Path(tmp))
        records: list[float] = []
        serial, graded = timed_autograde(root, 1, records)
        parallel, _ = timed_autograde(root, args.workers, records)
        overhead_ms, megabytes = engine_overhead(root, args.workers)
    scores = {r.student: r.score for r in graded}
    print(
        f"\nclass of {args.size} submissions of {ASSIGNMENT} on {os.cpu_count()} CPU cores "
        f"(load average at the start {load[0]:.1f}, at the end {os.getloadavg()[0]:.1f}: "
        "other work on the machine slows every figure below):"
    )
    for kind in sorted(set(kinds)):
        got = [scores[f"student{i:03d}"] for i, k in enumerate(kinds) if k == kind]
        print(f"  {kinds.count(kind):3d} x {kind:<28} scores {sorted(set(got))}")
    jobs = sum(r.seconds for r in graded)
    phases = {}
    for r in graded:
        for phase, seconds in r.phases.items():
            phases[phase] = phases.get(phase, 0.0) + seconds
    speedup, over = serial / parallel, serial / execute_s - 1
    print(f"\nexecute {executed} notebooks, one after another     {execute_s:7.1f} s")
    print(
        f"autograde on dask, 1 worker                    {serial:7.1f} s   "
        f"({over:+.0%} over execution; target <= +20%)"
    )
    print(
        f"autograde on dask, {args.workers} workers                   {parallel:7.1f} s   "
        f"({speedup:.2f}x one worker; target >= 1.8x)"
    )
    print(
        f"\nwhere one worker's {serial:.1f} s went: jobs {jobs:.1f} s in all, of which "
        + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(phases.items()))
        + f"; nbgrader and the rest {jobs - sum(phases.values()):.1f} s; the cluster's start "
        f"and the coordinator {serial - jobs:.1f} s"
    )
    write_ms = statistics.median(records) * 1000
    per_job = jobs / len(graded)
    busy = per_job * 1000 / (overhead_ms + write_ms)
    print(
        f"engine overhead per submission (scheduling and transfer of {megabytes:.2f} MB, results "
        f"taken one after another): {overhead_ms:.1f} ms; the coordinator's gradebook write "
        f"per result: median {write_ms:.0f} ms. At {per_job:.1f} s of grading per "
        f"submission, one coordinator keeps about {busy:,.0f} workers busy"
    )
    return 0 if speedup >= 1.8 and over <= 0.2 else 1


if __name__ == "__main__":
    sys.exit(main())
