"""A stand-in for the grading engine, to test what surrounds it without grading anything.

`grade` replaces `instructor.job.grade` on a test cluster's workers (they import it by name): it
answers within a second, says which kit it was given, and kills its worker on the first try of
a student called "dies_once" (the first try leaves a file in $ENGINE_FAKE_DIR)."""

import os
import signal
import time
from pathlib import Path

from instructor.job import Job, Kit, Result


def grade(job: Job, kit: Kit, limit: float | None = None) -> Result:
    """A result whose log names the kit's assignment and the size of its gradebook."""
    if job.student == "dies_once":
        first = Path(os.environ["ENGINE_FAKE_DIR"]) / f"{job.assignment}-{job.student}"
        if not first.exists():
            first.touch()
            os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.5)  # still running when "dies_once" kills its worker
    return Result(job.assignment, job.student, log=f"{kit.assignment} {len(kit.gradebook)}")
