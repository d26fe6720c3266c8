"""What a grading worker process does once, before its first job (see
`instructor.coordinator.engine`)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from instructor.infrastructure import confine


def worker_setup(threads: int, tmpdir: str | None, chatter: Path | None) -> None:
    """Prepare this process to grade: cap the threads its kernels may use (the cores divided
    among the workers), keep its temporary files in the run's folder, send nbgrader's chatter to
    the file `chatter`, import the heavy modules, and make itself undumpable (student code
    cannot read its memory). A worker's life is dask's to manage (its nanny), not tied to its
    parent here."""
    os.environ.update(confine.thread_environment(threads))  # this process's kernels too
    if tmpdir:
        import tempfile

        os.environ["TMPDIR"] = tempfile.tempdir = tmpdir
    if chatter is not None:
        chatter.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(chatter, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
    warnings.filterwarnings("ignore", module="sqlalchemy")
    import matplotlib.font_manager  # noqa: F401  (its font list, copied to every kernel)
    import nbgrader.apps  # noqa: F401
    import torch

    import helpers.checks  # noqa: F401
    import instructor.grading.preprocessors  # noqa: F401

    torch.set_num_threads(1)
    confine.make_undumpable()
    confine.mode()  # probe once here, not in every sandbox
    confine.kernel_confinement()
