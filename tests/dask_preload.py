"""Loaded into the test cluster's dask workers (`dask worker --preload`): fault injection.

A job for a student whose name starts with "kills_its_worker" kills the worker process running
it, every time it is tried: the submission no confined student code could write, but the fault a
cluster must survive (a worker lost to the machine's OOM killer, say)."""

import os
import signal

import instructor.coordinator.grade_job

_grade = instructor.coordinator.grade_job.grade


def _grade_or_die(job, kit, limit=None):
    if job.student.startswith("kills_its_worker"):
        os.kill(os.getpid(), signal.SIGKILL)
    return _grade(job, kit, limit)


instructor.coordinator.grade_job.grade = _grade_or_die
