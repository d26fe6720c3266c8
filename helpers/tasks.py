"""Synthetic long-range tasks, time-major and seeded: nothing is downloaded.

All inputs are float32 tensors of shape (T, B, D); pass `seed` for a reproducible batch
(a private torch.Generator is used, so the global random state is left alone).
"""

from __future__ import annotations

import math

import torch

from helpers import course
from helpers._validate import positive_int

BLANK, DELIMITER_OFFSET = 0, 1


def _generator(seed: int | None) -> torch.Generator | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be None or a non-negative integer, got {seed!r}")
    return course.torch_generator(seed)


def adding_problem(
    batch_size: int, seq_len: int, seed: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The adding problem (Hochreiter and Schmidhuber 1997; Le, Jaitly and Hinton 2015).

    Returns (inputs, targets): inputs (T, B, 2) with channel 0 uniform on [0, 1] and channel 1
    marking exactly two positions, one in each half of the sequence; targets (B, 1) are the sums
    of the two marked values. Always answering 1 scores MSE Var(U1 + U2) = 1/6.
    """
    batch_size = positive_int("batch_size", batch_size)
    seq_len = positive_int("seq_len", seq_len, minimum=2)
    g = _generator(seed)
    values = torch.rand(seq_len, batch_size, generator=g)
    half = seq_len // 2
    first = torch.randint(0, half, (batch_size,), generator=g)
    second = torch.randint(half, seq_len, (batch_size,), generator=g)
    marks = torch.zeros(seq_len, batch_size)
    cols = torch.arange(batch_size)
    marks[first, cols] = 1.0
    marks[second, cols] = 1.0
    inputs = torch.stack([values, marks], dim=-1)
    targets = (values[first, cols] + values[second, cols]).unsqueeze(1)
    return inputs, targets


def first_token_task(
    batch_size: int, seq_len: int, num_classes: int = 2, seed: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Long-range classification: the label is the class of the FIRST token; the rest is noise.

    Returns (inputs, labels): inputs (T, B, C) one-hot tokens, where step 0 is the label's token
    and steps 1..T-1 are tokens drawn uniformly at random, independent of the label;
    labels (B,) int64 in [0, C). Chance accuracy is 1/C; to beat it a model must carry
    information across all T - 1 steps.
    """
    batch_size = positive_int("batch_size", batch_size)
    seq_len = positive_int("seq_len", seq_len)
    num_classes = positive_int("num_classes", num_classes, minimum=2)
    g = _generator(seed)
    tokens = torch.randint(0, num_classes, (seq_len, batch_size), generator=g)
    labels = tokens[0].clone()
    inputs = torch.nn.functional.one_hot(tokens, num_classes).float()
    return inputs, labels


def copy_task(
    batch_size: int, delay: int, num_symbols: int = 8, length: int = 10, seed: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The copy memory task of Arjovsky, Shah and Bengio (2016).

    The alphabet has num_symbols + 2 tokens: 0 is blank, 1..num_symbols are data, and
    num_symbols + 1 is the delimiter. A sequence has T = delay + 2 * length steps: `length` data
    symbols, delay - 1 blanks, the delimiter, then `length` blanks; the target is blank for the
    first delay + length steps and then the data symbols in order.

    Returns (inputs, targets): inputs (T, B, num_symbols + 2) one-hot float32, targets (T, B)
    int64 token ids. The memoryless baseline (`copy_task_baseline`) is
    length * ln(num_symbols) / T in cross-entropy per step.
    """
    batch_size = positive_int("batch_size", batch_size)
    delay = positive_int("delay", delay)
    num_symbols = positive_int("num_symbols", num_symbols, minimum=2)
    length = positive_int("length", length)
    g = _generator(seed)
    total = delay + 2 * length
    data = torch.randint(1, num_symbols + 1, (length, batch_size), generator=g)
    tokens = torch.full((total, batch_size), BLANK, dtype=torch.long)
    tokens[:length] = data
    tokens[length + delay - 1] = num_symbols + DELIMITER_OFFSET
    targets = torch.full((total, batch_size), BLANK, dtype=torch.long)
    targets[delay + length :] = data
    inputs = torch.nn.functional.one_hot(tokens, num_symbols + 2).float()
    return inputs, targets


def copy_task_baseline(delay: int, num_symbols: int = 8, length: int = 10) -> float:
    """Mean cross-entropy per step of the memoryless strategy on the copy task.

    Predict blank with certainty until the data is due, then each data symbol with
    probability 1/num_symbols: length * ln(num_symbols) / (delay + 2 * length).
    """
    delay = positive_int("delay", delay)
    num_symbols = positive_int("num_symbols", num_symbols, minimum=2)
    length = positive_int("length", length)
    return length * math.log(num_symbols) / (delay + 2 * length)
