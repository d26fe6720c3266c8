"""Stand-ins for the grading engine, to test what surrounds it without grading anything.

`grade` replaces `instructor.coordinator.grade_job.grade` on a test cluster's workers (they import
it by name): it answers within a second, says which kit it was given and which worker process
graded, and kills its worker on the first try of a student called "dies_once" (the first try leaves
a file in $ENGINE_FAKE_DIR) and on every try of one called "kills_always"; for a student called
"faulty_once" it raises on the first try (a fault of the tooling, not of the submission); a job of a
student whose name starts with "together" waits (10 s at most) until a second such job has started.

`run` replaces `instructor.coordinator.engine.run` in a coordinator: it gives every job full marks
at once, calls on_idle() after the first `idle_after` results, and kills its own process (SIGKILL,
as an interrupted coordinator) after `die_after` results."""

import functools
import os
import signal
import time
from pathlib import Path

import nbformat

import course_tools
from instructor.coordinator.job import Grade, Job, Kit, Result


def _first_try(job: Job) -> bool:
    """True the first time it is asked about this job (it leaves a file in $ENGINE_FAKE_DIR)."""
    mark = Path(os.environ["ENGINE_FAKE_DIR"]) / f"{job.assignment}-{job.student}"
    if mark.exists():
        return False
    mark.touch()
    return True


def _wait_for_company(job: Job, seconds: float = 10.0) -> None:
    """Until a second job of a "together..." student has started too (at most `seconds`)."""
    folder = Path(os.environ["ENGINE_FAKE_DIR"])
    (folder / f"started-{job.assignment}-{job.student}").touch()
    deadline = time.monotonic() + seconds
    while len(list(folder.glob("started-*-together*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)


def grade(job: Job, kit: Kit, limit: float | None = None) -> Result:
    """A result whose log reads "<the kit's assignment> <its gradebook's size> <worker pid>
    <when the job started> <when it ended>" (the times by `time.time`)."""
    started = time.time()
    if job.student == "kills_always" or (job.student == "dies_once" and _first_try(job)):
        os.kill(os.getpid(), signal.SIGKILL)
    if job.student == "faulty_once" and _first_try(job):
        raise RuntimeError("the grader's own fault")
    if job.student.startswith("together"):
        _wait_for_company(job)
    time.sleep(0.5)  # still running when "dies_once" kills its worker
    return Result(
        job.assignment,
        job.student,
        log=f"{kit.assignment} {len(kit.gradebook)} {os.getpid()} {started} {time.time()}",
    )


@functools.lru_cache(maxsize=8)
def _grade_cells(source: bytes) -> dict[str, float]:
    """A source notebook's graded cells and their points (read once per process: parsing it
    would cost more than the rest of a fake job)."""
    return course_tools.grade_cells(nbformat.reads(source, as_version=4))


def full_marks(job: Job, kit: Kit) -> Result:
    """Every graded cell of the kit's notebooks at its full points."""
    grades = [
        Grade(Path(name).stem, cell, points, points)
        for name, data in kit.sources.items()
        for cell, points in _grade_cells(data).items()
    ]
    return Result(
        job.assignment, job.student, grades, autograded=dict(job.files), digest=job.digest
    )


def run(jobs, kits, count, on_result, *, on_idle=None, idle_after=None, die_after=None, **_):
    """`instructor.coordinator.engine.run` without a cluster (see the module docstring)."""
    for done, job in enumerate(jobs, start=1):
        on_result(full_marks(job, kits[job.assignment]), [])
        if done == idle_after and on_idle is not None:
            on_idle()
        if done == die_after:
            os.kill(os.getpid(), signal.SIGKILL)
