"""Where the notebook runs and how: Colab or local, autograded or interactive, CPU or GPU.

Every notebook's set-up cell calls `setup()`, which seeds everything and applies the plot style.
Experiments ask `pick(full=..., smoke=...)` for their size: under nbgrader autograding
(the NBGRADER_EXECUTION variable is set) they shrink to a smoke scale, so grading stays fast while
the exercises' tests still run in full.

A claim the prose makes must describe the phenomenon, not one run, so the course re-runs every
notebook perturbed (tests/test_perturbed.py). Two environment variables, inherited by kernels,
do it without touching a notebook:

- RNN_COURSE_SEED_OFFSET=K adds K to every seed an experiment draws: `seed_everything`,
  `manual_seed`, `rng`, `torch_generator` here, and the seeds of `helpers.tasks`,
  `helpers.models` and `helpers.ensembles` (which go through `shifted`). The exercises' checks
  draw their own fixed inputs and are not shifted.
- RNN_COURSE_THREADS=N makes `setup` run torch on N threads instead of the notebook's choice.

(ATen's kernel choice is torch's own variable, ATEN_CPU_CAPABILITY=default|avx2|avx512.)
"""

from __future__ import annotations

import os
import random
import sys
from typing import TypeVar

import numpy as np
import torch

from helpers._validate import positive_int

T = TypeVar("T")

SEED_OFFSET_ENV = "RNN_COURSE_SEED_OFFSET"
THREADS_ENV = "RNN_COURSE_THREADS"


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


def is_autograding() -> bool:
    """True while nbgrader executes the notebook (autograde or validate)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def pick(full: T, smoke: T) -> T:
    """Return `smoke` while autograding and `full` otherwise (sizes of experiments)."""
    return smoke if is_autograding() else full


def _env_int(name: str, minimum: int) -> int | None:
    """The integer in environment variable `name` (at least `minimum`), None when unset."""
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ValueError(
            f"the environment variable {name} must be an integer >= {minimum}, got {text!r}: "
            f"set it to such a number or unset it"
        )
    return value


def seed_offset() -> int:
    """K of RNN_COURSE_SEED_OFFSET=K (0 when unset): what `shifted` adds to every seed."""
    return _env_int(SEED_OFFSET_ENV, 0) or 0


def shifted(seed: int) -> int:
    """`seed` + `seed_offset()`: the seed an experiment actually uses. seed: an int >= 0."""
    seed = positive_int("seed", seed, minimum=0)
    return seed + seed_offset()


def manual_seed(seed: int) -> None:
    """torch.manual_seed(shifted(seed)): seeds the weights of the model built next."""
    torch.manual_seed(shifted(seed))


def rng(seed: int) -> np.random.Generator:
    """np.random.default_rng(shifted(seed)): an experiment's NumPy random numbers."""
    return np.random.default_rng(shifted(seed))


def torch_generator(seed: int) -> torch.Generator:
    """A CPU torch.Generator seeded with shifted(seed): an experiment's torch random numbers."""
    return torch.Generator().manual_seed(shifted(seed))


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python, NumPy and torch with shifted(seed); return a Generator seeded the same way."""
    seed = shifted(seed)
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
    perturbed = [
        f"{name}={os.environ[name]}"
        for name in (SEED_OFFSET_ENV, THREADS_ENV, "ATEN_CPU_CAPABILITY")
        if os.environ.get(name, "").strip()
    ]
    return (
        f"{where}, {mode}; torch {torch.__version__} on {get_device()}, "
        f"numpy {np.__version__}, {torch.get_num_threads()} CPU thread(s)"
        + (f"; perturbed: {', '.join(perturbed)}" if perturbed else "")
    )


def limit_threads(threads: int = 1) -> None:
    """Run torch's operations on `threads` CPU threads (the course's notebooks: one).

    The course's networks are small (H <= 128): one operation takes microseconds, too little
    to share between cores, and with several threads every operation waits until all of them
    have run. On a machine busy with other work one of them is often off the CPU, so each of
    thousands of small operations waits for the scheduler: notebook 02 took 193 s with two
    threads and 45 s with one while other work loaded a 2-core machine (issue 13).
    """
    threads = positive_int("threads", threads)
    torch.set_num_threads(threads)


def setup(seed: int = 0, threads: int = 1) -> np.random.Generator:
    """Seed everything, apply the course plot style, limit torch to `threads` CPU threads
    (`limit_threads`; RNN_COURSE_THREADS overrides it), print where we run; return a Generator."""
    from helpers import plots

    plots.use_course_style()
    limit_threads(_env_int(THREADS_ENV, 1) or threads)
    rng = seed_everything(seed)
    print(describe())
    return rng
