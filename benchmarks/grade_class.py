"""Grade a synthetic class: on dask's LocalCluster with one worker and with one per core, and
against plain execution of the same notebooks; where grading time
goes; and the engine's own cost per submission.

    python benchmarks/grade_class.py [--size 32] [--workers 2] [--repeat 3]

The class (notebook 01) mixes solved, untouched, mistaken and broken submissions (an exception,
a dead kernel, a flood of output, broken JSON, a renamed file, edited tests, a tampering
attempt); hanging ones are left out, since they would time the time limits. "Execute" runs every
valid submission headless, one after another, at the scale the grader uses
(NBGRADER_EXECUTION=autograde), with no grading: every cell, past any that raises, as nbgrader
executes a notebook (the grader's kernel skips the test cells, which it runs in sandboxes).
Targets: the workers >= 1.8x one worker on 2 cores; grading with one worker <= +20% over
execution. The engine's cost per submission is measured apart from grading: copies of a
submission autograded as in a real run while the workers only return full marks, with the
scheduler in a process of its own as on a cluster, and the coordinator's and the scheduler's CPU
per result timed (see `engine_overhead`).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import os
import pickle
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

# Each worker process of the local cluster runs this script again as "__mp_main__" (Python's
# "spawn"); it must not import what the benchmark alone uses, or every cluster start here would
# take a second longer than under `rnn-course autograde`, whose script imports next to nothing.
if __name__ != "__mp_main__":
    import distributed
    import engine_fake

    import course_tools
    from attacks import ATTACKS, BROKEN, broken_answers
    from instructor.coordinator import engine, gradebook
    from instructor.coordinator.autograde import autograde, find_submissions, make_job, make_kit
    from instructor.coordinator.job import Result
    from mutants import MUTANTS

ASSIGNMENT = "01_bptt"
ENGINE_COPIES = 96  # submissions graded with grading faked, to time the engine alone
ENGINE_THREADS = 8  # per worker then, so that many jobs are in flight (see engine_overhead)


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
    """Execute every valid submission notebook in turn, every cell, as nbgrader executes them
    (a cell that raises does not stop the run)."""
    os.environ["NBGRADER_EXECUTION"] = "autograde"
    count, start = 0, time.perf_counter()
    try:
        for path in sorted((root / "submitted").glob(f"*/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")):
            try:
                nb = course_tools.read(path)
            except Exception:  # broken JSON: nothing to execute
                continue
            try:
                course_tools.execute(nb, workdir, timeout=120, allow_errors=True)
            except Exception:  # a submission that raises or kills its kernel still took time
                pass
            count += 1
    finally:
        os.environ.pop("NBGRADER_EXECUTION")
    return time.perf_counter() - start, count


def _full_marks(job, kit, limit=None) -> Result:
    """A task as heavy on the wire as grading one submission, and as light on the CPU as
    nothing: full marks on every graded cell, the submitted files returned as autograded."""
    return engine_fake.full_marks(job, kit)


@dataclasses.dataclass
class Overhead:
    """What one result costs beyond grading it (see `engine_overhead`)."""

    between_ms: float  # time between two results, on this machine's shared cores
    coordinator_ms: float  # the coordinator process's CPU per result
    scheduler_ms: float  # the scheduler process's CPU per result
    job_mb: float  # one job, pickled
    result_mb: float  # one result, pickled
    kit_mb: float  # the kits of the run, sent to each worker once


def engine_overhead(root: Path, workers: int, count: int = ENGINE_COPIES) -> Overhead:
    """The engine's cost per submission apart from grading: `count` copies of a solved
    submission autograded as in a real run (the coordinator reading each job, recording each
    result in the gradebook, writing its files and log) while the workers only return full
    marks, on a cluster whose scheduler runs in a process of its own, as on a real cluster.
    Each worker has `ENGINE_THREADS` threads, so that `workers * ENGINE_THREADS` jobs are in
    flight and results come back to back, as from a large cluster: the coordinator never
    waits, and commits the gradebook in batches, as it does when it keeps many workers busy.
    The coordinator's and the scheduler's CPU per result bound how many results each can
    take, so how many workers they keep busy; both are timed from the first result to the
    last (the first waits for the cluster to start)."""
    import psutil
    from distributed.deploy.subprocess import SubprocessCluster

    solved = next(sub for sub in find_submissions(root) if sub.student == "student000")
    students = [f"engine{i:04d}" for i in range(count)]
    for student in students:
        shutil.copytree(solved.folder, root / "submitted" / student / ASSIGNMENT)
    marks, recorded, results = [], gradebook.Recorder.record, itertools.count(1)

    def record(recorder, result) -> None:
        recorded(recorder, result)
        if next(results) in (1, count):  # the first result and the last
            marks.append((time.perf_counter(), time.process_time(), scheduler.cpu_times()))

    here = Path(__file__).resolve().parent  # the scheduler unpickles tasks: it imports _full_marks
    path = [str(here), str(here.parent / "tests"), os.environ.get("PYTHONPATH", "")]
    with (
        mock.patch.dict(os.environ, {"PYTHONPATH": os.pathsep.join(filter(None, path))}),
        SubprocessCluster(
            n_workers=workers, threads_per_worker=ENGINE_THREADS, dashboard_address=None
        ) as cluster,
    ):
        with distributed.Client(cluster) as client:
            scheduler = psutil.Process(client.run_on_scheduler(os.getpid))
        with (
            mock.patch.object(engine, "grade", _full_marks),
            mock.patch.object(engine, "warm_up", lambda kit: None),  # no sandbox: no zygote
            mock.patch.object(gradebook.Recorder, "record", record),
        ):
            summary = autograde(
                root,
                only_students=students,
                force=True,
                scheduler=cluster.scheduler_address,
                progress=False,
            )
    bad = [(r.student, r.problems) for r in summary.graded if r.failed]
    assert len(summary.graded) == count and not bad, (len(summary.graded), bad[:2])
    (t0, c0, s0), (t1, c1, s1) = marks[0], marks[-1]
    per = 1000 / (count - 1)
    config, snapshot = (root / "nbgrader_config.py").read_text(), gradebook.snapshot(root)
    kit = make_kit(root, ASSIGNMENT, config, snapshot)
    job = make_job(solved)
    return Overhead(
        (t1 - t0) * per,
        (c1 - c0) * per,
        (s1.user + s1.system - s0.user - s0.system) * per,
        len(pickle.dumps(job)) / 1e6,
        len(pickle.dumps(_full_marks(job, kit))) / 1e6,
        len(pickle.dumps(kit)) / 1e6,
    )


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its children that have ended (the local cluster's
    workers, with the kernels and sandboxes they started, once the cluster is closed)."""
    me, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def timed_autograde(
    root: Path, workers: int, gradebook_ms: list[float]
) -> tuple[float, list, float]:
    """Autograde the class; return the seconds it took, the results and the CPU seconds used
    by every process of the run; append to gradebook_ms the coordinator's milliseconds in the
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
        start, cpu = time.perf_counter(), _cpu_seconds()
        summary = autograde(root, workers=workers, force=True, progress=False)
    gradebook_ms.append(spent[0] * 1000 / max(1, len(summary.graded)))
    return time.perf_counter() - start, summary.graded, _cpu_seconds() - cpu


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


def _median_run(runs: list[tuple]) -> tuple:
    """The run whose time (its first item) is the median (the lower one of an even count)."""
    return sorted(runs, key=lambda run: run[0])[(len(runs) - 1) // 2]


def parse_args() -> argparse.Namespace:
    """The command line: class size, workers of the parallel run, repeats."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32, help="submissions in the class")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--repeat", type=int, default=1, help="time each run this many times, report medians"
    )
    return parser.parse_args()


@dataclasses.dataclass
class Measured:
    """Everything the benchmark measured, for the report."""

    kinds: list[str]  # the kind of each submission, student000 first
    runs: dict[str, list]  # "execute", "one", "many" -> every run's figures
    gradebook_ms: list[float]  # the coordinator's gradebook ms per result, per autograde run
    batched_ms: float  # the same when results come back to back (`gradebook_overhead`)
    overhead: Overhead  # the engine's cost per submission (`engine_overhead`)

    def median(self, kind: str) -> tuple:
        """The median run of one kind (`_median_run`)."""
        return _median_run(self.runs[kind])


def measure(args: argparse.Namespace) -> Measured:
    """Build the class in a copy of the course and time it: execution, autograding with one
    worker and with `args.workers` (interleaved, `args.repeat` times), the gradebook and the
    engine."""
    with tempfile.TemporaryDirectory() as tmp:
        root = course_tools.copy_course(Path(tmp) / "course")
        course_tools.generate_release(root)
        kinds = build_class(root, args.size)
        gradebook_ms: list[float] = []
        runs: dict[str, list] = {"execute": [], "one": [], "many": []}
        for _ in range(args.repeat):  # interleaved, so that a slow spell hits all three
            runs["execute"].append(time_execution(root, Path(tmp)))
            runs["one"].append(timed_autograde(root, 1, gradebook_ms))
            runs["many"].append(timed_autograde(root, args.workers, gradebook_ms))
        graded = _median_run(runs["one"])[1]
        batched_ms = gradebook_overhead(root, graded)
        overhead = engine_overhead(root, args.workers)
    return Measured(kinds, runs, gradebook_ms, batched_ms, overhead)


def report_class(args: argparse.Namespace, load: tuple, measured: Measured) -> None:
    """Print the class: how many submissions of each kind, and the scores they got."""
    graded = measured.median("one")[1]
    scores = {r.student: r.score for r in graded}
    kinds = measured.kinds
    print(
        f"\nclass of {args.size} submissions of {ASSIGNMENT} on {os.cpu_count()} CPU cores "
        f"(load average at the start {load[0]:.1f}, at the end {os.getloadavg()[0]:.1f}: "
        "other work on the machine slows every figure below):"
    )
    for kind in sorted(set(kinds)):
        got = [scores[f"student{i:03d}"] for i, k in enumerate(kinds) if k == kind]
        print(f"  {kinds.count(kind):3d} x {kind:<28} scores {sorted(set(got))}")


def report_speed(args: argparse.Namespace, measured: Measured) -> tuple[float, float]:
    """Print execution and autograding times, the speed-up and the cores kept busy; return
    (the workers' speed-up over one worker, one worker's overhead over execution)."""
    (execute_s, executed), (serial, _, serial_cpu), (parallel, _, parallel_cpu) = (
        measured.median(kind) for kind in ("execute", "one", "many")
    )
    speedup, over = serial / parallel, serial / execute_s - 1
    if args.repeat > 1:
        print(
            f"\nmedians of {args.repeat} interleaved runs each; all of them (s): "
            + "; ".join(
                f"{kind} " + ", ".join(f"{run[0]:.1f}" for run in found)
                for kind, found in measured.runs.items()
            )
        )
    print(f"\nexecute {executed} notebooks, one after another     {execute_s:7.1f} s")
    print(
        f"autograde on dask, 1 worker                    {serial:7.1f} s   "
        f"({over:+.0%} over execution; target <= +20%)"
    )
    print(
        f"autograde on dask, {args.workers} workers                   {parallel:7.1f} s   "
        f"({speedup:.2f}x one worker; target >= 1.8x)"
    )
    cores = os.cpu_count() or 1
    print(
        f"cores kept busy (CPU seconds of every process / wall seconds): one worker "
        f"{serial_cpu / serial:.2f}, {args.workers} workers {parallel_cpu / parallel:.2f} of "
        f"{cores}; had the {args.workers} workers kept all {cores} busy with the same work, "
        f"{serial / (parallel_cpu / cores):.2f}x one worker"
    )
    return speedup, over


def report_phases(measured: Measured) -> None:
    """Print where one worker's autograding time went: the jobs' phases, nbgrader, the rest."""
    serial, graded, _ = measured.median("one")
    jobs = sum(r.seconds for r in graded)
    phases: dict[str, float] = {}
    for r in graded:
        for phase, seconds in r.phases.items():
            phases[phase] = phases.get(phase, 0.0) + seconds
    print(
        f"\nwhere one worker's {serial:.1f} s went: jobs {jobs:.1f} s in all, of which "
        + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(phases.items()))
        + f"; nbgrader and the rest {jobs - sum(phases.values()):.1f} s; the cluster's start "
        f"and the coordinator {serial - jobs:.1f} s"
    )


def report_engine(measured: Measured) -> None:
    """Print the engine's cost per submission apart from grading, and what it implies for how
    many workers a coordinator and a scheduler keep busy."""
    graded = measured.median("one")[1]
    overhead = measured.overhead
    write_ms = statistics.mean(measured.gradebook_ms)
    per_job = sum(r.seconds for r in graded) / len(graded)
    bound = max(overhead.coordinator_ms, overhead.scheduler_ms)
    print(
        f"\nthe engine's cost per submission apart from grading ({ENGINE_COPIES} submissions "
        "autograded with grading faked, the scheduler in a process of its own):\n"
        f"  time between results on these shared cores  {overhead.between_ms:6.1f} ms\n"
        f"  the coordinator's CPU per result            {overhead.coordinator_ms:6.1f} ms "
        f"(its gradebook work: {write_ms:.1f} ms per result in the runs above, "
        f"{measured.batched_ms:.1f} ms when results come back to back, in commits of "
        f"{gradebook.BATCH})\n"
        f"  the scheduler's CPU per result              {overhead.scheduler_ms:6.1f} ms\n"
        f"  a job moves {overhead.job_mb:.2f} MB to its worker and {overhead.result_mb:.2f} MB "
        f"back; the kit, {overhead.kit_mb:.2f} MB, goes to each worker once per run\n"
        f"at {per_job:.1f} s of grading per submission (this class's mean), a coordinator and a "
        f"scheduler with a core each keep about {per_job * 1000 / bound:,.0f} workers busy; "
        f"a class of 10,000 submissions costs the coordinator about "
        f"{10_000 * overhead.coordinator_ms / 1000:,.0f} s of CPU and the scheduler "
        f"{10_000 * overhead.scheduler_ms / 1000:,.0f} s"
    )


def main() -> int:
    """Measure, print the report; exit status 0 when both targets are met."""
    args = parse_args()
    os.environ.pop("MPLBACKEND", None)
    load = os.getloadavg()
    measured = measure(args)
    report_class(args, load, measured)
    speedup, over = report_speed(args, measured)
    report_phases(measured)
    report_engine(measured)
    return 0 if speedup >= 1.8 and over <= 0.2 else 1


if __name__ == "__main__":
    sys.exit(main())
