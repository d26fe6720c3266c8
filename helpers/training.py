"""Training loops for the notebooks' experiments.

The training step an exercise asks for (with gradient clipping, in notebook 05) is not here:
`train` takes an optional `step` function, so a notebook can pass its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
from torch import nn

from helpers._validate import number, one_of, positive_int

Batch = tuple[torch.Tensor, torch.Tensor]
OPTIMIZERS = ("adam", "sgd")


@dataclass
class History:
    """What a training run recorded, one entry per step.

    losses: the loss before the update; grad_norms: the global gradient norm before the update
    (inf or nan once the run has blown up); records: whatever `record` returned, when called;
    stopped_early: True when `train(stop_below=...)` ended the run because the loss got there.
    """

    losses: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    records: list = field(default_factory=list)
    stopped_early: bool = False

    @property
    def first_nonfinite_step(self) -> int | None:
        """The first step whose loss or gradient norm was inf or NaN, or None."""
        for step, (loss, norm) in enumerate(zip(self.losses, self.grad_norms, strict=True)):
            if not (math.isfinite(loss) and math.isfinite(norm)):
                return step
        return None


def _default_step(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    loss_fn: Callable,
    optimizer: torch.optim.Optimizer,
) -> tuple[float, float]:
    optimizer.zero_grad()
    output, _ = model(inputs)
    loss = loss_fn(output, targets)
    loss.backward()
    norm = float(
        torch.nn.utils.get_total_norm([p.grad for p in model.parameters() if p.grad is not None])
    )
    optimizer.step()
    return float(loss.detach()), norm


def train(
    model: nn.Module,
    make_batch: Callable[[int], Batch],
    loss_fn: Callable,
    steps: int,
    lr: float = 1e-2,
    optimizer: str = "adam",
    step: Callable | None = None,
    record: Callable[[int, nn.Module], object] | None = None,
    record_every: int = 10,
    progress: bool = True,
    desc: str = "training",
    stop_below: float | None = None,
    window: int = 10,
) -> History:
    """Train `model` for `steps` updates and return its History.

    make_batch(i) -> (inputs (T, B, D), targets) for step i; loss_fn(output, targets) -> scalar.
    step(model, inputs, targets, loss_fn, optimizer) -> (loss, grad norm) replaces the plain
    zero-grad/backward/update step. record(i, model) is called every `record_every` steps (and
    after the last one); its results go to History.records. A run whose loss turns non-finite
    stops there (later steps would only repeat NaN). With `stop_below`, the run also stops as
    soon as the mean loss over the last `window` steps is <= stop_below (History.stopped_early).
    """
    from tqdm.auto import tqdm

    steps = positive_int("steps", steps)
    record_every = positive_int("record_every", record_every)
    number("lr", lr, positive=True)
    kind = one_of("optimizer", optimizer, OPTIMIZERS)
    window = positive_int("window", window)
    if stop_below is not None:
        number("stop_below", stop_below)
    opt = (torch.optim.Adam if kind == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
    step = step or _default_step
    history = History()
    for i in tqdm(range(steps), desc=desc, disable=not progress, leave=False):
        if record is not None and i % record_every == 0:
            history.records.append(record(i, model))
        inputs, targets = make_batch(i)
        loss, norm = step(model, inputs, targets, loss_fn, opt)
        history.losses.append(float(loss))
        history.grad_norms.append(float(norm))
        if not math.isfinite(loss):
            break
        recent = history.losses[-window:]
        if stop_below is not None and len(recent) == window and sum(recent) / window <= stop_below:
            history.stopped_early = True
            break
    if record is not None and (len(history.losses) == steps or history.stopped_early):
        history.records.append(record(len(history.losses), model))
    return history


@torch.no_grad()
def accuracy(model: nn.Module, inputs: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of sequences whose predicted class (argmax of the output) equals the label."""
    output, _ = model(inputs)
    if output.dim() != 2 or output.shape[0] != labels.shape[0]:
        raise ValueError(
            f"expected output (B, C) for labels ({labels.shape[0]},), got {tuple(output.shape)}"
        )
    return float((output.argmax(dim=1) == labels).float().mean())


def _detached(state):
    if state is None:
        return None
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def train_tbptt(
    model: nn.Module,
    batches: Iterator[Batch],
    steps: int,
    lr: float = 1.0,
    optimizer: str = "sgd",
    max_norm: float | None = None,
    schedule: Callable[[torch.optim.Optimizer], object] | None = None,
    progress: bool = True,
    desc: str = "truncated BPTT",
) -> History:
    """Train a language model (e.g. helpers.models.CharLanguageModel) with truncated BPTT.

    batches: an iterator of (inputs (K, B), targets (K, B)) chunks that continue each other
    (helpers.text.tbptt_batches); the state after one chunk starts the next, detached, so the
    gradient flows back at most K steps. Each step: zero grads, forward, cross-entropy over all
    K * B predictions, backward, clip to max_norm (when given), update, then schedule(opt).step()
    (a torch.optim.lr_scheduler built from the optimizer, when given). History.losses holds the
    cross-entropy (nats per character) before each update, grad_norms the global gradient norm
    before clipping; a run stops at its first non-finite loss.
    """
    from tqdm.auto import tqdm

    steps = positive_int("steps", steps)
    number("lr", lr, positive=True)
    if max_norm is not None:
        number("max_norm", max_norm, positive=True)
    kind = one_of("optimizer", optimizer, OPTIMIZERS)
    opt = (torch.optim.Adam if kind == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
    scheduler = schedule(opt) if schedule is not None else None
    history, state = History(), None
    for _ in tqdm(range(steps), desc=desc, disable=not progress, leave=False):
        inputs, targets = next(batches)
        opt.zero_grad()
        logits, state = model(inputs, state)
        state = _detached(state)
        loss = nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)
        )
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(
            model.parameters(), float("inf") if max_norm is None else max_norm
        )
        opt.step()
        if scheduler is not None:
            scheduler.step()
        history.losses.append(float(loss.detach()))
        history.grad_norms.append(float(norm))
        if not math.isfinite(history.losses[-1]):
            break
    return history


@torch.no_grad()
def language_model_loss(
    model: nn.Module, ids: torch.Tensor, batch_size: int = 64, chunk: int = 100
) -> float:
    """Mean cross-entropy (nats per character) of a language model on the ids (1-D), read as
    batch_size parallel streams in chunks of `chunk`, the state carried from chunk to chunk."""
    batch_size = positive_int("batch_size", batch_size)
    chunk = positive_int("chunk", chunk)
    length = (len(ids) - 1) // batch_size
    if length < 1:
        raise ValueError(f"too few ids ({len(ids)}) for {batch_size} streams")
    inputs = ids[: length * batch_size].view(batch_size, length).T
    targets = ids[1 : 1 + length * batch_size].view(batch_size, length).T
    total, state = 0.0, None
    for start in range(0, length, chunk):
        logits, state = model(inputs[start : start + chunk], state)
        total += float(
            nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]),
                targets[start : start + chunk].reshape(-1),
                reduction="sum",
            )
        )
    return total / (length * batch_size)
