"""Notebook 08's comparison: nine remedies, two long-range tasks, three lengths, several seeds.

The protocol (`Settings`), the same for every recipe except its learning rate:
- Adam, batches of `batch_size`, every seed's gradient clipped to global norm `max_norm`;
- each seed draws its own batches (a fresh one at every step) and its own initialisation;
- a run stops as soon as the mean of its last `window` losses reaches the task's threshold
  (it "solved the task within the budget"), or after `steps` updates;
- the learning rate is chosen per recipe and task by a sweep over `rates` at the shortest
  length, on separate runs (`sweep_seeds`: their own initialisations and batches), by
  `choose_rate`; the reported runs (`seeds`) then use that rate at every length.

The seeds of a recipe train together as one batched computation (`helpers.ensembles`).

    results = comparison.run(attention=my_torch_attention)      # an hour or more: everything
    comparison.save(results, path); comparison.load(path)
    results.chosen_rate("adding", "GRU")                       # the sweep's choice

The stored results the notebook plots (`STORED`) were written by
`python scripts/compare_mitigations.py`; tests/test_comparison.py re-runs configurations and
gets the stored numbers back: to rounding over the first updates, and in which seeds reach the
threshold, their median steps and the rate chosen (on another CPU, training amplifies float32
rounding until single seeds part). The attention function is the caller's: this module holds
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

from helpers import diagnostics, ensembles, models, tasks
from helpers._validate import one_of, positive_int

STORED = Path(__file__).with_name("data") / "mitigations_comparison.npz"
OUTCOME_FIELDS = ("lr", "losses", "final", "accuracy", "flow_init", "flow_after", "seconds")
TRIAL_FIELDS = ("steps", "solved", "final", "seconds")


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
    # decoupled weight decay on W_hh alone (AdamW): W_hh <- (1 - lr * decay) W_hh every step
    decay: float = 0.0


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


FORGET_BIAS = 1.0


def lstm_recipe(forget_bias: float = FORGET_BIAS) -> Recipe:
    """The comparison's LSTM with forget-gate bias `forget_bias` (bias_ih's forget slice; bias_hh's
    is 0, and PyTorch adds the two): "LSTM" at the comparison's own FORGET_BIAS, a recipe of its
    own (run it with run_trial or run_one) at any other."""
    if isinstance(forget_bias, bool) or not isinstance(forget_bias, int | float):
        raise ValueError(f"forget_bias must be a number, got {forget_bias!r}")

    def build(d: int, h: int, o: int, attention: Callable | None) -> nn.Module:
        net = models.SequenceModel(d, h, o, cell="lstm")
        with torch.no_grad():  # Jozefowicz et al. (2015): b_f = 1; PyTorch adds the two biases
            net.cell.bias_ih[h : 2 * h] = forget_bias
            net.cell.bias_hh[h : 2 * h] = 0.0
        return net

    if forget_bias == FORGET_BIAS:
        description = (
            "LSTM, forget-gate bias 1: bias_ih's forget slice 1, bias_hh's 0 (Jozefowicz et al.)"
        )
        return Recipe("LSTM", description, build)
    return Recipe(f"LSTM, b_f = {forget_bias:g}", f"LSTM, forget-gate bias {forget_bias:g}", build)


def _attention(d: int, h: int, o: int, attention: Callable | None) -> nn.Module:
    if attention is None:
        raise ValueError(
            "the 'tanh + attention' recipe needs an attention function: "
            "run(..., attention=f) with f(query (B, H), keys (T, B, H), values "
            "(T, B, H)) -> context (B, H) in torch"
        )
    return models.AttentionRNN(d, h, o, attention=attention)


SKIP = 10
# Section 1's penalty: lam * sum(W_hh**2) multiplies W_hh by 1 - 2 * lr * lam per step; AdamW's
# decoupled decay multiplies it by 1 - lr * decay, so decay = 2 * lam matches it.
LAM = 0.03
RECIPES = {
    r.name: r
    for r in (
        Recipe(
            "tanh",
            "tanh RNN, PyTorch's initialisation",
            lambda d, h, o, a: models.SequenceModel(d, h, o, cell="tanh"),
        ),
        Recipe(
            "ReLU",
            "ReLU RNN, PyTorch's initialisation",
            lambda d, h, o, a: models.SequenceModel(d, h, o, cell="relu"),
        ),
        Recipe(
            "IRNN", "ReLU RNN, W_hh = I, biases 0, W_ih ~ N(0, 0.001^2) (Le et al. 2015)", _irnn
        ),
        Recipe("orthogonal", "tanh RNN, orthogonal W_hh (Saxe et al. 2014)", _orthogonal),
        lstm_recipe(),
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
            "tanh + decay",
            f"tanh RNN, W_hh decayed as by Section 1's L2 penalty, lambda = "
            f"{LAM:g} (AdamW, decoupled)",
            lambda d, h, o, a: models.SequenceModel(d, h, o, cell="tanh"),
            decay=2 * LAM,
        ),
    )
}


def parameter_count(recipe_name: str, task_name: str, hidden_size: int = 32) -> int:
    """How many trainable numbers the recipe's model has on the task."""
    recipe = RECIPES[one_of("recipe", recipe_name, RECIPES)]
    task = TASKS[one_of("task", task_name, TASKS)]
    net = recipe.build(task.input_size, hidden_size, task.output_size, lambda q, k, v: q)
    return sum(p.numel() for p in net.parameters())


@dataclass(frozen=True)
class Settings:
    """The training protocol shared by every recipe (its learning rate comes from the sweep)."""

    lengths: tuple[int, ...] = (20, 50, 100)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    sweep_seeds: tuple[int, ...] = (100, 101, 102)
    rates: tuple[float, ...] = (0.001, 0.003, 0.01, 0.03)
    steps: int = 3000
    batch_size: int = 32
    hidden_size: int = 32
    max_norm: float = 1.0
    window: int = 10
    valid_size: int = 256
    tasks: tuple[str, ...] = tuple(TASKS)
    recipes: tuple[str, ...] = tuple(RECIPES)

    @property
    def sweep_length(self) -> int:
        """The rate is chosen at the shortest length."""
        return min(self.lengths)


@dataclass
class Outcome:
    """One (task, recipe, length) at the chosen rate `lr`: per seed, the training losses (nan
    after the run stopped), the loss and the accuracy (first-token task; nan for the adding
    problem) on a fixed validation batch after training, ||dL/dh_k|| for k = 1..T on that batch
    at initialisation and after training (float64), and the seconds it took."""

    lr: float
    losses: np.ndarray  # (S, steps) float32
    final: np.ndarray  # (S,)
    accuracy: np.ndarray  # (S,)
    flow_init: np.ndarray  # (S, T)
    flow_after: np.ndarray  # (S, T)
    seconds: float


@dataclass
class Trial:
    """One rate of the sweep (task, recipe, rate) at the sweep length, per sweep seed: the steps
    it trained, whether it stopped because it reached the threshold, its validation loss."""

    steps: np.ndarray  # (S,) int
    solved: np.ndarray  # (S,) bool
    final: np.ndarray  # (S,)
    seconds: float

    @property
    def median_steps(self) -> float:
        """The median of the steps to the threshold, a run that never got there counting as
        infinitely many (inf when most never did): the statistic `choose_rate` ranks by."""
        return float(np.median(np.where(self.solved, self.steps, np.inf)))


def choose_rate(trials: dict[float, Trial]) -> float:
    """The sweep's rule: the rate with the fewest median steps to the threshold (a run that
    never got there counts as infinitely many), ties (all infinite, say) broken by the lowest
    median validation loss, then by the smaller rate."""
    if not trials:
        raise ValueError("choose_rate needs at least one rate's trial")

    def key(lr: float) -> tuple[float, float, float]:
        t = trials[lr]
        final = np.where(np.isfinite(t.final), t.final, np.inf)
        return t.median_steps, float(np.median(final)), lr

    return min(trials, key=key)


@dataclass
class Results:
    settings: Settings
    outcomes: dict[tuple[str, str, int], Outcome] = field(default_factory=dict)
    trials: dict[tuple[str, str, float], Trial] = field(default_factory=dict)

    def sweep(self, task_name: str, recipe_name: str) -> dict[float, Trial]:
        """rate -> Trial for one task and recipe."""
        return {
            lr: t
            for (task, recipe, lr), t in self.trials.items()
            if task == task_name and recipe == recipe_name
        }

    def chosen_rate(self, task_name: str, recipe_name: str) -> float:
        """The rate `choose_rate` picks from the stored sweep."""
        return choose_rate(self.sweep(task_name, recipe_name))


def _data_seed(task: Task, seq_len: int, seed: int, step: int) -> int:
    """A distinct batch seed for every task, length, model seed and step (step < 10**6); the
    validation batch is seed -1's step 0."""
    base = (1 + list(TASKS).index(task.name)) * 10**15 + seq_len * 10**11
    return base + (seed + 1) * 10**6 + step


def validation_batch(
    task_name: str, seq_len: int, settings: Settings = Settings()
) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed batch every run of (task, seq_len) is scored on after training: inputs
    (T, valid_size, D), targets (valid_size, 1) or (valid_size,). No run trains on it."""
    task = TASKS[one_of("task", task_name, TASKS)]
    seq_len = positive_int("seq_len", seq_len, minimum=2)
    return task.batch(settings.valid_size, seq_len, seed=_data_seed(task, seq_len, -1, 0))


def _flows(ens: ensembles.Ensemble, task: Task, inputs, targets) -> np.ndarray:
    """(S, T) of ||dL/dh_k|| in float64, each seed on its own copy of the model."""
    targets = targets.double() if task.name == "adding" else targets
    return np.stack(
        [
            diagnostics.hidden_grad_norms(
                ens.model(s).double(), inputs.double(), targets, task.loss
            )
            for s in range(ens.size)
        ]
    )


def _evaluate(ens: ensembles.Ensemble, task: Task, inputs, targets):
    """(S,) validation losses and accuracies (nan for the adding problem)."""
    with torch.no_grad():
        outputs, _ = ens(inputs)
    final = np.array([float(task.loss(out, targets)) for out in outputs])
    if task.name == "adding":
        return final, np.full(ens.size, np.nan)
    return final, np.array([float((out.argmax(1) == targets).float().mean()) for out in outputs])


def _train(
    task: Task,
    recipe: Recipe,
    seq_len: int,
    lr: float,
    seeds: Iterable[int],
    settings: Settings,
    attention,
    diagnose: bool,
    progress: bool,
):
    """Train one recipe's seeds; returns (ensemble, history, the validation batch, the flow
    ||dL/dh_k|| at initialisation on it, or None unless `diagnose`)."""

    def make(seed: int) -> nn.Module:
        return recipe.build(task.input_size, settings.hidden_size, task.output_size, attention)

    def make_batch(i: int, seed: int):
        return task.batch(settings.batch_size, seq_len, seed=_data_seed(task, seq_len, seed, i))

    ens = ensembles.Ensemble(make, seeds, batching="explicit")
    valid = validation_batch(task.name, seq_len, settings)
    flow_init = _flows(ens, task, *valid) if diagnose else None
    decay = (
        {"optimizer": "adamw", "weight_decay": recipe.decay, "decay_only": ["cell.weight_hh"]}
        if recipe.decay
        else {"optimizer": "adam"}
    )
    history = ensembles.train(
        ens,
        make_batch,
        task.loss,
        settings.steps,
        lr=lr,
        max_norm=settings.max_norm,
        **decay,
        data="per_seed",
        stop_below=task.threshold,
        window=settings.window,
        progress=progress,
        desc=f"{task.name}, {recipe.name}, T = {seq_len}, lr {lr:g}",
    )
    return ens, history, valid, flow_init


def _one_thread(fn: Callable, *args):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return fn(*args)
    finally:
        torch.set_num_threads(threads)


def _recipe(recipe: str | Recipe) -> Recipe:
    """A Recipe given itself or its name in RECIPES."""
    return recipe if isinstance(recipe, Recipe) else RECIPES[one_of("recipe", recipe, RECIPES)]


def run_one(
    task_name: str,
    recipe_name: str | Recipe,
    seq_len: int,
    lr: float,
    settings: Settings = Settings(),
    attention: Callable | None = None,
    progress: bool = False,
) -> Outcome:
    """Train the reported seeds of one recipe on one task at one length and rate; deterministic
    on one machine (one torch thread while it runs, seeded models and batches)."""
    task = TASKS[one_of("task", task_name, TASKS)]
    recipe = _recipe(recipe_name)
    seq_len = positive_int("seq_len", seq_len, minimum=2)

    def go() -> Outcome:
        start = time.perf_counter()
        ens, history, valid, flow_init = _train(
            task, recipe, seq_len, lr, settings.seeds, settings, attention, True, progress
        )
        losses = np.full((ens.size, settings.steps), np.nan, dtype=np.float32)
        for s, run in enumerate(history.runs):
            losses[s, : len(run.losses)] = run.losses
        final, accuracy = _evaluate(ens, task, *valid)
        return Outcome(
            float(lr),
            losses,
            final,
            accuracy,
            flow_init,
            _flows(ens, task, *valid),
            time.perf_counter() - start,
        )

    return _one_thread(go)


def run_trial(
    task_name: str,
    recipe_name: str | Recipe,
    lr: float,
    settings: Settings = Settings(),
    attention: Callable | None = None,
    progress: bool = False,
) -> Trial:
    """One rate of the sweep: the sweep seeds at the shortest length (deterministic, as run_one).
    recipe_name: a name of RECIPES, or a Recipe of your own (`lstm_recipe(5.0)`)."""
    task = TASKS[one_of("task", task_name, TASKS)]
    recipe = _recipe(recipe_name)

    def go() -> Trial:
        start = time.perf_counter()
        ens, history, valid, _ = _train(
            task,
            recipe,
            settings.sweep_length,
            lr,
            settings.sweep_seeds,
            settings,
            attention,
            False,
            progress,
        )
        final, _ = _evaluate(ens, task, *valid)
        return Trial(
            history.steps_taken(),
            np.array([r.stopped_early for r in history.runs]),
            final,
            time.perf_counter() - start,
        )

    return _one_thread(go)


def run(
    settings: Settings = Settings(),
    attention: Callable | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> Results:
    """For every task and recipe of `settings`: the sweep over `settings.rates` at the shortest
    length, then the reported seeds at every length with the chosen rate. log(line) is called
    after each configuration with what it found."""
    from tqdm.auto import tqdm

    results = Results(settings)
    pairs = [(t, r) for t in settings.tasks for r in settings.recipes]
    for task_name, recipe_name in tqdm(pairs, desc="comparison", disable=not progress):
        for lr in settings.rates:
            trial = run_trial(task_name, recipe_name, lr, settings, attention)
            results.trials[task_name, recipe_name, lr] = trial
            if log:
                log(
                    f"sweep {task_name} | {recipe_name} | lr {lr:g}: steps "
                    f"{trial.steps.tolist()} solved {trial.solved.tolist()} final "
                    f"{np.round(trial.final, 4).tolist()} ({trial.seconds:.0f} s)"
                )
        lr = results.chosen_rate(task_name, recipe_name)
        for seq_len in settings.lengths:
            outcome = run_one(task_name, recipe_name, seq_len, lr, settings, attention)
            results.outcomes[task_name, recipe_name, seq_len] = outcome
            if log:
                steps = np.isfinite(outcome.losses).sum(axis=1)
                log(
                    f"run {task_name} | {recipe_name} | T = {seq_len} | lr {lr:g}: steps "
                    f"{steps.tolist()} final {np.round(outcome.final, 4).tolist()} "
                    f"({outcome.seconds:.0f} s)"
                )
    return results


def _key(kind: str, task: str, recipe: str, value: float, name: str) -> str:
    return f"{kind}|{task}|{recipe}|{value!r}|{name}"


def save(results: Results, path: str | Path) -> None:
    """Write the results as one compressed .npz (the settings as JSON inside it)."""
    arrays = {"settings": np.array(json.dumps(asdict(results.settings)))}
    for (task, recipe, seq_len), outcome in results.outcomes.items():
        for name in OUTCOME_FIELDS:
            arrays[_key("run", task, recipe, seq_len, name)] = np.asarray(getattr(outcome, name))
    for (task, recipe, lr), trial in results.trials.items():
        for name in TRIAL_FIELDS:
            arrays[_key("sweep", task, recipe, lr, name)] = np.asarray(getattr(trial, name))
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
        # in one fixed order, the tasks' and recipes' own, then by length or rate (a set's order
        # would change with each process's hash seed, and with it every list the notebook prints)
        keys = sorted(
            {tuple(k.split("|")[:4]) for k in data.files if k != "settings"},
            key=lambda k: (k[0], list(TASKS).index(k[1]), list(RECIPES).index(k[2]), float(k[3])),
        )
        for kind, task, recipe, value in keys:
            if kind == "run":
                values = {n: data[_key(kind, task, recipe, int(value), n)] for n in OUTCOME_FIELDS}
                values.update(lr=float(values["lr"]), seconds=float(values["seconds"]))
                results.outcomes[task, recipe, int(value)] = Outcome(**values)
            else:
                values = {n: data[_key(kind, task, recipe, float(value), n)] for n in TRIAL_FIELDS}
                values["seconds"] = float(values["seconds"])
                results.trials[task, recipe, float(value)] = Trial(**values)
    return results
