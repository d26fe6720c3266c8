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
from grading: tasks carrying a real job's bytes (with the assignment's kit, sent once per run)
and returning a real result's bytes, timed through the same cluster, and the coordinator's
gradebook write per result.
"""

from __future__ import annotations

import argparse
import dataclasses
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
from instructor.autograde import autograde, find_submissions, make_job, make_kit  # noqa: E402
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


def _echo(job, kit, limit=None) -> Result:
    """A task as heavy on the wire as grading one submission, and as light on the CPU as
    nothing: it returns a result holding as many bytes as an autograded notebook."""
    return Result(job.assignment, job.student, autograded={"nb.ipynb": b"x" * 250_000})


def engine_overhead(root: Path, workers: int, count: int = 64) -> tuple[float, float, float, float]:
    """Milliseconds between two results when tasks cost nothing but their scheduling and their
    transfers, on the same kind of cluster, with as many in flight as there are workers (on
    this machine the workers share its cores with the coordinator); the coordinator's own CPU
    milliseconds per result meanwhile (this process: the client and, on a LocalCluster, the
    scheduler), which bounds how many results one coordinator with a core of its own can take;
    the megabytes one task moves (its job, pickled, and the result's bytes); and the megabytes
    of the kits, sent to each worker once per run."""
    subs = find_submissions(root)
    config, snapshot = (root / "nbgrader_config.py").read_text(), gradebook.snapshot(root)
    kits = {
        a: make_kit(root, a, config, snapshot) for a in sorted({sub.assignment for sub in subs})
    }
    jobs = [make_job(subs[i % len(subs)]) for i in range(count)]
    seen, cpu = [], []

    def arrived(result, others) -> None:
        seen.append(time.perf_counter())
        cpu.append(time.process_time())

    with mock.patch.object(engine, "grade", _echo):
        engine.run(iter(jobs), kits, count, arrived, workers=workers)
    # the first result waits for the cluster to start: time the steady state after it
    per_task = statistics.mean(len(pickle.dumps(job)) for job in jobs) + len(
        _echo(jobs[0], None).autograded["nb.ipynb"]
    )
    per_run = sum(len(pickle.dumps(kit)) for kit in kits.values())
    return (
        (seen[-1] - seen[0]) / (count - 1) * 1000,
        (cpu[-1] - cpu[0]) / (count - 1) * 1000,
        per_task / 1e6,
        per_run / 1e6,
    )


def timed_autograde(root: Path, workers: int, gradebook_ms: list[float]) -> tuple[float, list]:
    """Autograde the class; append to gradebook_ms the coordinator's milliseconds in the
    gradebook per result (recording each one, and committing them in batches)."""
    spent, depth = [0.0], [0]

    def timed(method):
        def wrapper(recorder, *args):
            depth[0] += 1  # record may flush: count the outermost call only
            start = time.perf_counter()
            try:
                return method(recorder, *args)
            finally:
                depth[0] -= 1
                if not depth[0]:
                    spent[0] += time.perf_counter() - start

        return wrapper

    with (
        mock.patch.object(gradebook.Recorder, "record", timed(gradebook.Recorder.record)),
        mock.patch.object(gradebook.Recorder, "flush", timed(gradebook.Recorder.flush)),
    ):
        start = time.perf_counter()
        summary = autograde(root, workers=workers, force=True, progress=False)
    gradebook_ms.append(spent[0] * 1000 / max(1, len(summary.graded)))
    return time.perf_counter() - start, summary.graded


def gradebook_overhead(root: Path, graded: list[Result], count: int = 64) -> float:
    """Milliseconds of the coordinator's gradebook work per result when results come faster
    than it commits them (so that commits are batched, as with many workers): `count` copies of
    real results, for new students, recorded back to back."""
    copies = [
        dataclasses.replace(graded[i % len(graded)], student=f"copy{i:04d}") for i in range(count)
    ]
    start = time.perf_counter()
    with gradebook.Recorder(root) as recorder:
        for result in copies:
            recorder.record(result)
    return (time.perf_counter() - start) * 1000 / count


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
        gradebook_ms: list[float] = []
        serial, graded = timed_autograde(root, 1, gradebook_ms)
        parallel, _ = timed_autograde(root, args.workers, gradebook_ms)
        overhead_ms, coordinator_ms, megabytes, kit_megabytes = engine_overhead(root, args.workers)
        batched_ms = gradebook_overhead(root, graded)
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
    write_ms = statistics.mean(gradebook_ms)
    per_job = jobs / len(graded)
    busy = per_job * 1000 / (overhead_ms + batched_ms)
    busy_cpu = per_job * 1000 / (coordinator_ms + batched_ms)
    print(
        f"engine overhead per submission (scheduling and transfer of {megabytes:.2f} MB, results "
        f"taken one after another; the assignment's kit, {kit_megabytes:.2f} MB, goes to each "
        f"worker once per run): {overhead_ms:.1f} ms between results on these shared cores, of "
        f"which the coordinator's own CPU {coordinator_ms:.1f} ms; the coordinator's gradebook "
        f"work per result: {write_ms:.1f} ms in these runs (a commit each time no other result "
        f"waits), {batched_ms:.1f} ms when results come back to back (commits of "
        f"{gradebook.BATCH}). At {per_job:.1f} s of grading per submission, one coordinator "
        f"keeps about {busy:,.0f} workers busy by the time between results, about "
        f"{busy_cpu:,.0f} by its own CPU time (a coordinator with a core of its own)"
    )
    return 0 if speedup >= 1.8 and over <= 0.2 else 1


if __name__ == "__main__":
    sys.exit(main())
