"""Several seeds of one model, trained together as one batched computation.

A claim about training runs must hold over several seeds, and training them one after another
multiplies the cost. Here the S seeds of a model share every operation: each parameter gets a
leading seed dimension (S, ...), the recurrence runs once over T steps with batched matrix
products, and the S losses are summed before one backward pass. The seeds never mix: the
gradient of the sum with respect to seed s's parameters is the gradient of seed s's own loss,
and Adam and SGD update every entry on its own, so seed s follows exactly the run that training
its model alone would give (same initialisation, same batches, same updates; the tests check this
to float tolerance).

    ens = ensembles.Ensemble(lambda seed: models.SequenceModel(2, 32, 1), seeds=range(5))
    runs = ensembles.train(ens, lambda i: tasks.adding_problem(64, 50, seed=i), mse, steps=300)
    runs.final_losses()          # (5,): one number per seed
    net = ens.model(2)           # seed 2 as a plain SequenceModel, for helpers.diagnostics

Two ways to batch, chosen per model type (`Ensemble(..., batching=...)`):
- "explicit": helpers.models.SequenceModel (every cell), its SkipRNN and AttentionRNN, and
  FusedSequenceModel run through batched cells written here (torch.baddbmm, einsum); an
  AttentionRNN's attention function sees the seeds folded into the batch. PyTorch's fused
  cells have no batching rule for vmap, so this is the fast path for the course's models.
- "vmap": any other module whose forward(inputs (T, B, D)) returns (output, hiddens) and uses
  plain tensor operations runs under torch.func.vmap over torch.func.functional_call.

Speed (benchmarks/ensembles.py, one thread, 5 seeds, B = 64): at H = 32, T = 50 the batched
cells train 1.6-2.4x faster than the seeds one after another (tanh, sigmoid, GRU), about
1.1-1.3x at H = 64, T = 200, where the arithmetic itself dominates; vmap is 0.7-1.3x (PyTorch's
tanh cell falls back to a loop under vmap). An LSTM is the exception: PyTorch's fused nn.LSTM
(models.FusedSequenceModel with training.train), one seed after another, is about 2x faster
than the batched LSTM cell here.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from helpers import course, models
from helpers._validate import is_integer, number, one_of, positive_int
from helpers.training import OPTIMIZERS, History

BATCHINGS = ("auto", "explicit", "vmap")
DATA = ("shared", "per_seed")
ENSEMBLE_OPTIMIZERS = (*OPTIMIZERS, "adamw")
_VANILLA = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "leaky_relu": nn.functional.leaky_relu,
    "elu": nn.functional.elu,
}
# FusedSequenceModel's parameter names -> SequenceModel's (the same tensors, another module).
# The models the batched cells below know, by exact type (not their subclasses).
EXPLICIT_TYPES = (
    models.SequenceModel,
    models.SkipRNN,
    models.AttentionRNN,
    models.FusedSequenceModel,
)
_FUSED_NAMES = {
    "rnn.weight_ih_l0": "cell.weight_ih",
    "rnn.weight_hh_l0": "cell.weight_hh",
    "rnn.bias_ih_l0": "cell.bias_ih",
    "rnn.bias_hh_l0": "cell.bias_hh",
}


class Ensemble(nn.Module):
    """S copies of one architecture with different weights, run as one batched computation.

    make_model(seed) builds one model; it is called right after course.manual_seed(seed), so a
    model built the same way outside gets the same weights (set W_hh per seed inside it, e.g.
    `lambda seed: models.orthogonal_rnn(2.0, seed=seed)`). seeds: at least one distinct int.
    batching: "auto" (explicit for helpers.models, vmap otherwise), "explicit" or "vmap".

    forward(inputs) takes inputs (T, B, D) shared by all seeds, or (S, T, B, D) one batch per
    seed, and returns (outputs, hiddens): outputs (S, B, O) (or (S, T, B, O) for readout="all"),
    hiddens a list of T tensors (S, B, H). Parameters are stacked: `params[name]` is (S, ...)
    for each name of the single model's named_parameters().
    """

    def __init__(
        self, make_model: Callable[[int], nn.Module], seeds: Iterable[int], batching: str = "auto"
    ) -> None:
        super().__init__()
        seeds = list(seeds)
        if not seeds or any(not is_integer(s) or s < 0 for s in seeds):
            raise ValueError(f"seeds must be non-negative integers, at least one, got {seeds!r}")
        seeds = [int(s) for s in seeds]
        if len(set(seeds)) != len(seeds):
            raise ValueError(
                f"seeds must be distinct (the same seed twice trains the same model "
                f"twice), got {seeds!r}"
            )
        if not callable(make_model):
            raise ValueError("make_model must be a function seed -> nn.Module")
        built = []
        for seed in seeds:
            course.manual_seed(seed)
            net = make_model(seed)
            if not isinstance(net, nn.Module):
                raise ValueError(
                    f"make_model({seed}) returned {type(net).__name__}, not an nn.Module"
                )
            built.append(net)
        self._init_from(built, seeds, batching)

    @classmethod
    def from_models(cls, nets: Sequence[nn.Module], batching: str = "auto") -> Ensemble:
        """An ensemble holding copies of the weights of already built models (seeds 0..S-1)."""
        nets = list(nets)
        if not nets:
            raise ValueError("nets must hold at least one model")
        ens = cls.__new__(cls)
        nn.Module.__init__(ens)
        ens._init_from(nets, list(range(len(nets))), batching)
        return ens

    def _init_from(self, nets: list[nn.Module], seeds: list[int], batching: str) -> None:
        kind = one_of("batching", batching, BATCHINGS)
        first = nets[0]
        names = [n for n, _ in first.named_parameters()]
        for i, net in enumerate(nets[1:], start=1):
            if type(net) is not type(first) or [
                (n, p.shape) for n, p in net.named_parameters()
            ] != [(n, p.shape) for n, p in first.named_parameters()]:
                raise ValueError(
                    f"model {i} differs from model 0 in type or parameter shapes: "
                    "every seed must build the same architecture"
                )
        # exact types: a subclass may add parameters the batched cells would silently ignore
        explicit_ok = type(first) in EXPLICIT_TYPES
        if kind == "auto":
            kind = "explicit" if explicit_ok else "vmap"
        if kind == "explicit" and not explicit_ok:
            raise ValueError(
                "batching='explicit' exists for helpers.models' SequenceModel, "
                "SkipRNN, AttentionRNN and FusedSequenceModel only, not "
                f"{type(first).__name__}: use 'vmap'"
            )
        self.batching = kind
        self.seeds = list(seeds)
        # not registered as a submodule: its parameters are not the ensemble's
        object.__setattr__(self, "template", copy.deepcopy(first))
        self.names = names
        self.params = nn.ParameterDict()  # keys cannot contain dots
        for name in names:
            stacked = torch.stack([dict(net.named_parameters())[name].detach() for net in nets])
            self.params[name.replace(".", "__")] = nn.Parameter(stacked.clone())
        self.buffers_ = {
            name: torch.stack([dict(net.named_buffers())[name] for net in nets])
            for name, _ in first.named_buffers()
        }

    @property
    def size(self) -> int:
        """S, the number of seeds."""
        return len(self.seeds)

    def stacked(self) -> dict[str, torch.Tensor]:
        """name -> the stacked parameter (S, ...), under the single model's parameter names."""
        return {name: self.params[name.replace(".", "__")] for name in self.names}

    def model(self, index: int) -> nn.Module:
        """A standalone copy of the model of seeds[index] (its weights copied, not shared)."""
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.size:
            raise ValueError(
                f"index must be an integer from 0 to {self.size - 1}, got {index!r} "
                f"(seeds are {self.seeds})"
            )
        net = copy.deepcopy(self.template).to(next(iter(self.params.values())))
        with torch.no_grad():
            own = dict(net.named_parameters())
            for name, value in self.stacked().items():
                own[name].copy_(value[index])
            own_buffers = dict(net.named_buffers())
            for name, value in self.buffers_.items():
                own_buffers[name].copy_(value[index])
        return net

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """inputs (T, B, D) or (S, T, B, D) -> (outputs (S, B, O), hiddens [T x (S, B, H)])."""
        if inputs.dim() not in (3, 4) or (inputs.dim() == 4 and inputs.shape[0] != self.size):
            raise ValueError(
                f"inputs must be (T, B, D) shared by all seeds or (S, T, B, D) with "
                f"S = {self.size}, got shape {tuple(inputs.shape)}"
            )
        if self.batching == "explicit":
            return _explicit_forward(self.template, self.stacked(), inputs)
        return _vmap_forward(self.template, self.stacked(), self.buffers_, inputs)


def _vmap_forward(template: nn.Module, params: dict, buffers: dict, inputs: torch.Tensor):
    from torch.func import functional_call, vmap

    def one(p, b, x):
        output, hiddens = functional_call(template, (p, b), (x,))
        return output, list(hiddens)

    in_dims = (0, 0, 0 if inputs.dim() == 4 else None)
    return vmap(one, in_dims=in_dims)(params, buffers, inputs)


def _explicit_forward(template: nn.Module, params: dict, inputs: torch.Tensor):
    """The recurrence of SequenceModel / FusedSequenceModel for S weight sets at once."""
    p = {_FUSED_NAMES.get(name, name): value for name, value in params.items()}
    cell = template.cell_type
    readout = getattr(template, "readout", "last")
    W_ih, W_hh, b_ih, b_hh = (
        p[f"cell.{n}"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    )
    S, H = W_hh.shape[0], W_hh.shape[2]
    per_step = inputs[:, None] if inputs.dim() == 3 else inputs.transpose(0, 1)  # (T, 1|S, B, D)
    projected = torch.matmul(per_step, W_ih.transpose(1, 2)) + b_ih[:, None, :]  # (T, S, B, G)
    batch = projected.shape[2]
    h = projected.new_zeros(S, batch, H)
    c = h
    W_hh_t = W_hh.transpose(1, 2)  # (S, H, G)
    skip = template.skip if isinstance(template, models.SkipRNN) else 0
    W_skip_t = p["weight_skip"].transpose(1, 2) if skip else None  # (S, H, H)
    hiddens = []
    for t, x in enumerate(projected):  # x: (S, B, G)
        recurrent = torch.baddbmm(b_hh[:, None, :], h, W_hh_t)  # (S, B, G)
        if skip and t >= skip:  # SkipRNN: h_(t+1) also receives h_(t+1-k)
            recurrent = torch.baddbmm(recurrent, hiddens[t - skip], W_skip_t)
        if cell == "lstm":  # gates i, f, g, o in PyTorch's order
            gates = x + recurrent
            i, f, _, o = torch.sigmoid(gates).chunk(4, dim=-1)  # one call for three gates
            c = f * c + i * torch.tanh(gates[..., 2 * H : 3 * H])
            h = o * torch.tanh(c)
        elif cell == "gru":  # gates r, z, n in PyTorch's order
            r, z = torch.sigmoid(x[..., : 2 * H] + recurrent[..., : 2 * H]).chunk(2, dim=-1)
            h = torch.lerp(torch.tanh(x[..., 2 * H :] + r * recurrent[..., 2 * H :]), h, z)
        else:
            h = _VANILLA[cell](x + recurrent)
        hiddens.append(h)
    W_out, b_out = p["head.weight"], p["head.bias"]
    if isinstance(template, models.AttentionRNN):
        h = torch.cat([_batched_attention(template, p, h, hiddens), h], dim=-1)
    if readout == "last":
        return torch.baddbmm(b_out[:, None, :], h, W_out.transpose(1, 2)), hiddens
    states = torch.stack(hiddens, dim=1)  # (S, T, B, H)
    return torch.einsum("stbh,soh->stbo", states, W_out) + b_out[:, None, None, :], hiddens


def _batched_attention(
    template: models.AttentionRNN, p: dict, h: torch.Tensor, hiddens: list[torch.Tensor]
) -> torch.Tensor:
    """AttentionRNN's context for S seeds: (S, B, H). The seeds are folded into the batch, so
    the model's own attention function sees (S * B, H) queries and (T, S * B, H) states."""
    S, B, H = h.shape
    query = torch.baddbmm(p["query.bias"][:, None, :], h, p["query.weight"].transpose(1, 2))
    states = torch.stack(hiddens).reshape(len(hiddens), S * B, H)
    found = template.attention(query.reshape(S * B, H), states, states)
    context = found[0] if isinstance(found, tuple | list) else found
    return context.reshape(S, B, H)


@dataclass
class EnsembleHistory:
    """What ensembles.train recorded: one training.History per seed, plus the shared records.

    runs[s].losses / .grad_norms: seed s's loss and gradient norm (before clipping) at each step
    it trained; a seed stops (its parameters frozen) at its first non-finite loss or when it
    reaches stop_below (runs[s].stopped_early). records: what `record` returned, when called.
    """

    seeds: list[int]
    runs: list[History]
    records: list = field(default_factory=list)

    def final_losses(self, window: int = 10) -> np.ndarray:
        """(S,): each seed's mean loss over its last `window` steps (nan if it never trained)."""
        window = positive_int("window", window)
        return np.array([np.mean(r.losses[-window:]) if r.losses else np.nan for r in self.runs])

    def steps_taken(self) -> np.ndarray:
        """(S,): how many steps each seed trained before it stopped or the budget ran out."""
        return np.array([len(r.losses) for r in self.runs])

    def losses(self) -> np.ndarray:
        """(S, steps) of losses, nan after a seed stopped."""
        longest = int(self.steps_taken().max(initial=0))
        out = np.full((len(self.runs), longest), np.nan)
        for s, run in enumerate(self.runs):
            out[s, : len(run.losses)] = run.losses
        return out


def _per_seed_norms(grads: list[torch.Tensor]) -> torch.Tensor:
    """(S,): the global gradient norm of each seed, over every parameter's (S, ...) gradient."""
    squares = [g.detach().flatten(1).double().pow(2).sum(dim=1) for g in grads]
    return torch.stack(squares).sum(dim=0).sqrt()


def _clip_per_seed_(grads: list[torch.Tensor], norms: torch.Tensor, max_norm: float) -> None:
    """torch.nn.utils.clip_grad_norm_'s rule, applied to each seed's slice separately."""
    coef = torch.clamp(max_norm / (norms + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef.to(g.dtype).view(-1, *([1] * (g.dim() - 1))))


def train(
    ensemble: Ensemble,
    make_batch: Callable,
    loss_fn: Callable,
    steps: int,
    lr: float = 1e-2,
    optimizer: str = "adam",
    max_norm: float | None = None,
    weight_decay: float = 0.0,
    decay_only: Iterable[str] | None = None,
    data: str = "shared",
    stop_below: float | None = None,
    window: int = 10,
    record: Callable[[int, Ensemble], object] | None = None,
    record_every: int = 10,
    progress: bool = True,
    desc: str = "training seeds",
) -> EnsembleHistory:
    """Train every seed of `ensemble` for up to `steps` updates, as one batched computation.

    make_batch(i) -> (inputs (T, B, D), targets), the same batch for every seed (data="shared"),
    or make_batch(i, seed) -> one batch per seed (data="per_seed"). loss_fn(output, targets) ->
    scalar, applied to each seed's output. max_norm: clip each seed's gradient to this global
    norm (torch.nn.utils.clip_grad_norm_'s rule, per seed). optimizer: "adam", "sgd" or
    "adamw". weight_decay: with "adam" and "sgd" the coupled L2 term (weight_decay * w added to
    the gradient after clipping, so Adam rescales it like any gradient); with "adamw" the
    decoupled decay of Loshchilov and Hutter (w <- (1 - lr * weight_decay) w before Adam's
    step). decay_only: names of the single model's parameters (e.g. ["cell.weight_hh"]) that
    weight_decay applies to; None: all of them. A seed stops, its
    parameters frozen, after its first non-finite loss, or (with stop_below) once the mean of
    its last `window` losses is <= stop_below: the same rules as helpers.training.train for a
    single model.
    record(i, ensemble) is called every `record_every` steps and at the end.
    """
    from tqdm.auto import tqdm

    if not isinstance(ensemble, Ensemble):
        raise ValueError(
            f"ensemble must be a helpers.ensembles.Ensemble, got {type(ensemble).__name__}"
        )
    steps = positive_int("steps", steps)
    record_every = positive_int("record_every", record_every)
    window = positive_int("window", window)
    lr = number("lr", lr, positive=True)
    kind = one_of("optimizer", optimizer, ENSEMBLE_OPTIMIZERS)
    data = one_of("data", data, DATA)
    max_norm = None if max_norm is None else number("max_norm", max_norm, positive=True)
    stop_below = None if stop_below is None else number("stop_below", stop_below)
    weight_decay = number("weight_decay", weight_decay, minimum=0)
    params = list(ensemble.params.values())
    opt = _optimizer(ensemble, kind, lr, weight_decay, decay_only)
    runs = [History() for _ in range(ensemble.size)]
    history = EnsembleHistory(seeds=list(ensemble.seeds), runs=runs)
    active = torch.ones(ensemble.size, dtype=torch.bool)
    frozen = [p.detach().clone() for p in params]
    for i in tqdm(range(steps), desc=desc, disable=not progress, leave=False):
        if record is not None and i % record_every == 0:
            history.records.append(record(i, ensemble))
        opt.zero_grad()
        losses = _losses(ensemble, make_batch, loss_fn, i, data)
        losses[active].sum().backward()
        grads = [p.grad for p in params if p.grad is not None]
        norms = _per_seed_norms(grads)
        if max_norm is not None:
            _clip_per_seed_(grads, norms, max_norm)
        opt.step()
        with torch.no_grad():  # a stopped seed keeps the parameters it stopped with
            for p, keep in zip(params, frozen, strict=True):
                p.copy_(torch.where(active.view(-1, *([1] * (p.dim() - 1))), p, keep))
        _log_and_stop(runs, losses.detach().tolist(), norms, active, stop_below, window)
        with torch.no_grad():
            for p, keep in zip(params, frozen, strict=True):
                keep[~active] = p[~active]
        if not active.any():
            break
    if record is not None:
        history.records.append(record(int(history.steps_taken().max()), ensemble))
    return history


def _losses(
    ensemble: Ensemble, make_batch: Callable, loss_fn: Callable, step: int, data: str
) -> torch.Tensor:
    """Each seed's loss on the step's batch, shape (size,)."""
    inputs, targets = _batch(make_batch, step, ensemble.seeds, data)
    outputs, _ = ensemble(inputs)
    losses = torch.stack(
        [
            loss_fn(outputs[s], targets[s] if data == "per_seed" else targets)
            for s in range(ensemble.size)
        ]
    )
    if losses.dim() != 1:
        raise ValueError("loss_fn must return a scalar for each seed's output")
    return losses


def _log_and_stop(
    runs: list[History],
    values: list[float],
    norms: torch.Tensor,
    active: torch.Tensor,
    stop_below: float | None,
    window: int,
) -> None:
    """Log each active seed's loss and gradient norm; stop (in `active`) a seed whose loss is
    not finite, or whose last `window` losses average <= stop_below."""
    for s in np.flatnonzero(active.numpy()):
        run = runs[s]
        run.losses.append(float(values[s]))
        run.grad_norms.append(float(norms[s]))
        recent = run.losses[-window:]
        if not math.isfinite(values[s]):
            active[s] = False
        elif (
            stop_below is not None and len(recent) == window and sum(recent) / window <= stop_below
        ):
            run.stopped_early = True
            active[s] = False


def _optimizer(
    ensemble: Ensemble, kind: str, lr: float, weight_decay: float, decay_only: Iterable[str] | None
) -> torch.optim.Optimizer:
    """The optimizer over the stacked parameters, weight_decay on those named in decay_only."""
    names = list(ensemble.names)
    decayed = set(names) if decay_only is None else set(decay_only)
    if isinstance(decay_only, str) or not decayed <= set(names):
        raise ValueError(
            f"decay_only must be a list of the model's parameter names {names}, got {decay_only!r}"
        )
    stacked = ensemble.stacked()
    groups = [
        {"params": [stacked[n] for n in names if n in decayed], "weight_decay": weight_decay},
        {"params": [stacked[n] for n in names if n not in decayed], "weight_decay": 0.0},
    ]
    groups = [g for g in groups if g["params"]]
    make = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD, "adamw": torch.optim.AdamW}[kind]
    return make(groups, lr=lr)


def _batch(make_batch: Callable, step: int, seeds: list[int], data: str):
    if data == "shared":
        return make_batch(step)
    batches = [make_batch(step, seed) for seed in seeds]
    return (torch.stack([b[0] for b in batches]), torch.stack([b[1] for b in batches]))


def hidden_grad_norms(
    ensemble: Ensemble, inputs: torch.Tensor, targets: torch.Tensor, loss_fn: Callable
) -> np.ndarray:
    """||dL_s/dh_t|| for every seed s and step t from ONE backward pass: (S, T) float64.

    inputs (T, B, D) and targets shared by all seeds. Seed s's row equals
    helpers.diagnostics.hidden_grad_norms(ensemble.model(s), inputs, targets, loss_fn): the
    losses are summed, and seed s's hidden states reach only seed s's loss.
    """
    outputs, hiddens = ensemble(inputs)
    total = sum(loss_fn(outputs[s], targets) for s in range(ensemble.size))
    grads = torch.autograd.grad(total, hiddens, allow_unused=True)
    rows = [
        torch.zeros(ensemble.size, dtype=torch.float64)
        if g is None
        else g.detach().double().flatten(1).norm(dim=1)
        for g in grads
    ]
    return torch.stack(rows, dim=1).numpy()
