"""Notebook 08's comparison: nine remedies, two long-range tasks, three lengths, several seeds.

Every recipe is trained the same way (Adam, the same learning rate, batch and step budget, a
fresh batch at every step, the same batches for every seed, each seed stopped once the mean of
its last `window` losses reaches the task's threshold) and differs only in what its name says.
The seeds of a recipe train together as one batched computation (`helpers.ensembles`), except
the LSTM's, which train faster one after another on PyTorch's fused kernel
(`python benchmarks/ensembles.py --comparison` times both ways).

    results = comparison.run(attention=my_torch_attention)      # minutes: all configurations
    comparison.save(results, path); comparison.load(path)

The stored results the notebook plots (`STORED`) were written by
`python scripts/compare_mitigations.py`; tests/test_comparison.py re-runs one configuration and
gets the stored numbers back exactly. The attention function is the caller's: this module holds
no exercise's answer (steps to a threshold are computed from the stored curves by the
notebook, with the student's own function).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from helpers import diagnostics, ensembles, models, tasks, training
from helpers._validate import one_of, positive_int

STORED = Path(__file__).with_name("data") / "mitigations_comparison.npz"
VALID_SEED = 7  # the seed of the fixed validation batch every configuration is scored on
FIELDS = ("losses", "final", "flow_init", "flow_after", "seconds")


@dataclass(frozen=True)
class Task:
    """A long-range task: its data, loss, memoryless baseline and success threshold."""

    name: str
    input_size: int
    output_size: int
    baseline: float  # the loss of the best answer that ignores the long-range input
    baseline_label: str
    threshold: float  # a run succeeds when its running-mean loss gets to this
    loss_label: str

    def batch(self, batch_size: int, seq_len: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        if self.name == "adding":
            return tasks.adding_problem(batch_size, seq_len, seed=seed)
        return tasks.first_token_task(batch_size, seq_len, num_classes=self.output_size, seed=seed)

    def loss(self, output: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if self.name == "adding":
            return nn.functional.mse_loss(output, targets)
        return nn.functional.cross_entropy(output, targets)


CLASSES = 4
TASKS = {
    "adding": Task("adding", 2, 1, 1 / 6, "always answer 1: MSE 1/6", 0.01, "MSE"),
    "first token": Task(
        "first token",
        CLASSES,
        CLASSES,
        math.log(CLASSES),
        f"chance: cross-entropy ln {CLASSES}",
        0.05,
        "cross-entropy",
    ),
}


@dataclass(frozen=True)
class Recipe:
    """One row of the comparison: how the model is built and what its training adds."""

    name: str
    description: str
    build: Callable[[int, int, int, Callable | None], nn.Module]  # (D, H, O, attention)
    max_norm: float | None = None  # clip each seed's gradient to this global norm
    weight_decay: float = 0.0  # L2: Adam adds weight_decay * w to every gradient
    fused: bool = False  # LSTM: seeds one after another on the fused kernel


def _irnn(d: int, h: int, o: int, attention: Callable | None) -> nn.Module:
    net = models.SequenceModel(d, h, o, cell="relu")
    with torch.no_grad():  # Le, Jaitly and Hinton (2015): W_hh = I, biases 0, small W_ih
        net.cell.weight_hh.copy_(torch.eye(h))
        net.cell.bias_hh.zero_()
        net.cell.bias_ih.zero_()
        net.cell.weight_ih.normal_(0.0, 0.001)
    return net


def _orthogonal(d: int, h: int, o: int, attention: Callable | None) -> nn.Module:
    net = models.SequenceModel(d, h, o, cell="tanh")
    with torch.no_grad():
        nn.init.orthogonal_(net.cell.weight_hh)
    return net


def _lstm(d: int, h: int, o: int, attention: Callable | None) -> nn.Module:
    net = models.FusedSequenceModel(d, h, o, cell="lstm")
    with torch.no_grad():  # PyTorch adds bias_ih and bias_hh: forget bias 1 + 0 = 1
        net.rnn.bias_ih_l0[h : 2 * h] = 1.0
        net.rnn.bias_hh_l0[h : 2 * h] = 0.0
    return net


def _attention(d: int, h: int, o: int, attention: Callable | None) -> nn.Module:
    if attention is None:
        raise ValueError(
            "the 'tanh + attention' recipe needs an attention function: "
            "run(..., attention=f) with f(query (B, H), keys (T, B, H), values "
            "(T, B, H)) -> context (B, H) in torch"
        )
    return models.AttentionRNN(d, h, o, attention=attention)


SKIP = 10
L2 = 1e-3
RECIPES = {
    r.name: r
    for r in (
        Recipe(
            "tanh",
            "tanh RNN, PyTorch's initialisation",
            lambda d, h, o, a: models.SequenceModel(d, h, o, cell="tanh"),
        ),
        Recipe(
            "ReLU + clipping",
            "ReLU RNN, gradient clipped to norm 1",
            lambda d, h, o, a: models.SequenceModel(d, h, o, cell="relu"),
            max_norm=1.0,
        ),
        Recipe(
            "IRNN",
            "ReLU RNN, W_hh = I, biases 0 (Le et al. 2015), clipped to norm 1",
            _irnn,
            max_norm=1.0,
        ),
        Recipe("orthogonal", "tanh RNN, orthogonal W_hh", _orthogonal),
        Recipe("LSTM", "LSTM, forget-gate bias 1 (Jozefowicz et al. 2015)", _lstm, fused=True),
        Recipe(
            "GRU",
            "GRU, PyTorch's initialisation",
            lambda d, h, o, a: models.SequenceModel(d, h, o, cell="gru"),
        ),
        Recipe(
            "tanh + skip",
            f"tanh RNN whose state also receives h_(t-{SKIP})",
            lambda d, h, o, a: models.SkipRNN(d, h, o, skip=SKIP),
        ),
        Recipe(
            "tanh + attention",
            "tanh RNN read out through attention over all its states",
            _attention,
        ),
        Recipe(
            "tanh + L2",
            f"tanh RNN, L2 penalty (Adam weight_decay = {L2:g})",
            lambda d, h, o, a: models.SequenceModel(d, h, o, cell="tanh"),
            weight_decay=L2,
        ),
    )
}


@dataclass(frozen=True)
class Settings:
    """The training protocol shared by every recipe."""

    lengths: tuple[int, ...] = (20, 50, 100)
    seeds: tuple[int, ...] = (0, 1, 2)
    steps: int = 800
    batch_size: int = 32
    hidden_size: int = 32
    lr: float = 0.01
    window: int = 10
    valid_size: int = 256
    tasks: tuple[str, ...] = tuple(TASKS)
    recipes: tuple[str, ...] = tuple(RECIPES)


@dataclass
class Outcome:
    """One (task, recipe, length): per seed, the training losses (nan after the run stopped),
    the loss on a fixed validation batch after training, ||dL/dh_k|| for k = 1..T on that
    batch at initialisation and after training (float64), and the seconds it took."""

    losses: np.ndarray  # (S, steps) float32
    final: np.ndarray  # (S,)
    flow_init: np.ndarray  # (S, T)
    flow_after: np.ndarray  # (S, T)
    seconds: float


@dataclass
class Results:
    settings: Settings
    outcomes: dict[tuple[str, str, int], Outcome] = field(default_factory=dict)


def _seed_models(recipe: Recipe, task: Task, settings: Settings, attention):
    def make(seed: int) -> nn.Module:
        return recipe.build(task.input_size, settings.hidden_size, task.output_size, attention)

    return make


def _flows(nets: list[nn.Module], task: Task, inputs, targets) -> np.ndarray:
    """(S, T) of ||dL/dh_k|| in float64, each seed on its own unbatched, unrolled copy."""
    rows = []
    for net in nets:
        net = net.unrolled() if isinstance(net, models.FusedSequenceModel) else net
        rows.append(
            diagnostics.hidden_grad_norms(net.double(), inputs.double(), targets, task.loss)
        )
    return np.stack(rows)


def _final_losses(nets: list[nn.Module], task: Task, inputs, targets) -> np.ndarray:
    with torch.no_grad():
        return np.array([float(task.loss(net(inputs)[0], targets)) for net in nets])


def _double_targets(task: Task, targets: torch.Tensor) -> torch.Tensor:
    return targets.double() if task.name == "adding" else targets


def run_one(
    task_name: str,
    recipe_name: str,
    seq_len: int,
    settings: Settings = Settings(),
    attention: Callable | None = None,
    progress: bool = False,
) -> Outcome:
    """Train every seed of one recipe on one task at one length; deterministic on one machine
    (one torch thread while it runs, seeded models and batches)."""
    task = TASKS[one_of("task", task_name, TASKS)]
    recipe = RECIPES[one_of("recipe", recipe_name, RECIPES)]
    seq_len = positive_int("seq_len", seq_len, minimum=2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run_one(task, recipe, seq_len, settings, attention, progress)
    finally:
        torch.set_num_threads(threads)


def _run_one(
    task: Task, recipe: Recipe, seq_len: int, settings: Settings, attention, progress: bool
) -> Outcome:
    start = time.perf_counter()
    valid_inputs, valid_targets = task.batch(settings.valid_size, seq_len, seed=VALID_SEED)
    offset = 10_000_000 * (1 + list(TASKS).index(task.name)) + 100_000 * seq_len

    def make_batch(i: int):
        return task.batch(settings.batch_size, seq_len, seed=offset + i)

    make = _seed_models(recipe, task, settings, attention)
    desc = f"{task.name}, {recipe.name}, T = {seq_len}"
    if recipe.fused:
        nets = []
        for seed in settings.seeds:
            torch.manual_seed(seed)
            nets.append(make(seed))
        flow_init = _flows(
            [_copy(n) for n in nets], task, valid_inputs, _double_targets(task, valid_targets)
        )
        histories = [
            training.train(
                net,
                make_batch,
                task.loss,
                settings.steps,
                lr=settings.lr,
                stop_below=task.threshold,
                window=settings.window,
                progress=progress,
                desc=desc,
            )
            for net in nets
        ]
    else:
        ens = ensembles.Ensemble(make, settings.seeds, batching="explicit")
        flow_init = _flows(
            [ens.model(s) for s in range(ens.size)],
            task,
            valid_inputs,
            _double_targets(task, valid_targets),
        )
        history = ensembles.train(
            ens,
            make_batch,
            task.loss,
            settings.steps,
            lr=settings.lr,
            max_norm=recipe.max_norm,
            weight_decay=recipe.weight_decay,
            stop_below=task.threshold,
            window=settings.window,
            progress=progress,
            desc=desc,
        )
        histories = history.runs
        nets = [ens.model(s) for s in range(ens.size)]
    losses = np.full((len(settings.seeds), settings.steps), np.nan, dtype=np.float32)
    for s, h in enumerate(histories):
        losses[s, : len(h.losses)] = h.losses
    final = _final_losses(nets, task, valid_inputs, valid_targets)
    flow_after = _flows(nets, task, valid_inputs, _double_targets(task, valid_targets))
    return Outcome(losses, final, flow_init, flow_after, time.perf_counter() - start)


def _copy(net: nn.Module) -> nn.Module:
    import copy

    return copy.deepcopy(net)


def run(
    settings: Settings = Settings(),
    attention: Callable | None = None,
    only: Iterable[tuple[str, str, int]] | None = None,
    progress: bool = True,
) -> Results:
    """Every (task, recipe, length) of `settings` (or those in `only`), one after another."""
    from tqdm.auto import tqdm

    keys = [(t, r, T) for t in settings.tasks for r in settings.recipes for T in settings.lengths]
    if only is not None:
        keys = [k for k in keys if k in set(only)]
    results = Results(settings)
    for key in tqdm(keys, desc="comparison", disable=not progress):
        results.outcomes[key] = run_one(*key, settings=settings, attention=attention)
    return results


def _key(task: str, recipe: str, seq_len: int, name: str) -> str:
    return f"{task}|{recipe}|{seq_len}|{name}"


def save(results: Results, path: str | Path) -> None:
    """Write the results as one compressed .npz (the settings as JSON inside it)."""
    arrays = {"settings": np.array(json.dumps(asdict(results.settings)))}
    for (task, recipe, seq_len), outcome in results.outcomes.items():
        for name in FIELDS:
            arrays[_key(task, recipe, seq_len, name)] = np.asarray(getattr(outcome, name))
    np.savez_compressed(path, **arrays)


def load(path: str | Path = STORED) -> Results:
    """Read results written by `save` (default: the stored comparison)."""
    if not Path(path).is_file():
        raise FileNotFoundError(
            f"no comparison results at {path}: write them with `python "
            "scripts/compare_mitigations.py` (an installed copy of helpers needs the package data "
            "helpers/data/*.npz), or train them with comparison.run()"
        )
    with np.load(path) as data:
        raw = json.loads(str(data["settings"]))
        settings = Settings(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})
        results = Results(settings)
        keys = {tuple(k.split("|")[:3]) for k in data.files if k != "settings"}
        for task, recipe, seq_len in keys:
            values = {name: data[_key(task, recipe, seq_len, name)] for name in FIELDS}
            values["seconds"] = float(values["seconds"])
            results.outcomes[(task, recipe, int(seq_len))] = Outcome(**values)
    return results
