"""Where the notebook runs and how: Colab or local, autograded or interactive, CPU or GPU.

Every notebook's set-up cell calls `setup()`, which seeds everything and applies the plot style.
Experiments ask `pick(full=..., smoke=...)` for their size: under nbgrader autograding
(the NBGRADER_EXECUTION variable is set) they shrink to a smoke scale, so grading stays fast while
the exercises' tests still run in full.
"""

from __future__ import annotations

import os
import random
import sys
from typing import TypeVar

import numpy as np
import torch

T = TypeVar("T")


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


def is_autograding() -> bool:
    """True while nbgrader executes the notebook (autograde or validate)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def pick(full: T, smoke: T) -> T:
    """Return `smoke` while autograding and `full` otherwise (sizes of experiments)."""
    return smoke if is_autograding() else full


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python, NumPy and torch; return a fresh `np.random.Generator` seeded with `seed`."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def get_device(prefer_gpu: bool = True) -> torch.device:
    """The device experiments run on: CUDA when available and preferred, else CPU."""
    if prefer_gpu and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def describe() -> str:
    """One line that says where the notebook runs (shown by the set-up cell)."""
    where = "Colab" if in_colab() else "local"
    mode = "autograding (experiments at smoke scale)" if is_autograding() else "interactive"
    return (
        f"{where}, {mode}; torch {torch.__version__} on {get_device()}, "
        f"numpy {np.__version__}, {torch.get_num_threads()} CPU thread(s)"
    )


def limit_threads(threads: int = 1) -> None:
    """Run torch's operations on `threads` CPU threads (the course's notebooks: one).

    The course's networks are small (H <= 128): one operation takes microseconds, too little
    to share between cores, and with several threads every operation waits until all of them
    have run. On a machine busy with other work one of them is often off the CPU, so each of
    thousands of small operations waits for the scheduler: notebook 02 took 193 s with two
    threads and 45 s with one while other work loaded a 2-core machine (issue 13).
    """
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    torch.set_num_threads(threads)


def setup(seed: int = 0, threads: int = 1) -> np.random.Generator:
    """Seed everything, apply the course plot style, limit torch to `threads` CPU threads
    (`limit_threads`), print where we run; return a Generator."""
    from helpers import plots

    plots.use_course_style()
    limit_threads(threads)
    rng = seed_everything(seed)
    print(describe())
    return rng
