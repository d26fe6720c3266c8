"""helpers.ensembles: seed s of a batched ensemble is the model trained alone with seed s.

The oracle is helpers.training.train on an independently built model (torch.manual_seed(seed),
then make_model(seed)), fed the same batches; runs are in float64 so that the only difference
is the order of floating-point operations.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from helpers import diagnostics, ensembles, models, tasks, training

MSE = nn.functional.mse_loss
SEEDS = [3, 5, 8]


def adding_batch(i, seed=0, T=9, B=6):
    inputs, targets = tasks.adding_problem(B, T, seed=1000 * seed + i)
    return inputs.double(), targets.double()


def clipping_step(max_norm):
    """A training step clipping with torch.nn.utils.clip_grad_norm_ (the per-seed oracle)."""

    def step(model, inputs, targets, loss_fn, optimizer):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs)[0], targets)
        loss.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        return float(loss.detach()), float(norm)

    return step


def alone(make_model, seed, steps, data="shared", max_norm=None, **kwargs):
    """Seed `seed` trained on its own by helpers.training.train: (model, History)."""
    torch.manual_seed(seed)
    net = make_model(seed)
    make_batch = adding_batch if data == "shared" else (lambda i: adding_batch(i, seed))
    history = training.train(
        net,
        make_batch,
        MSE,
        steps,
        progress=False,
        step=None if max_norm is None else clipping_step(max_norm),
        **kwargs,
    )
    return net, history


def assert_same_run(ens, runs, index, net, history, tol=1e-10):
    got = runs.runs[index]
    assert len(got.losses) == len(history.losses)
    assert got.stopped_early == history.stopped_early
    assert got.first_nonfinite_step == history.first_nonfinite_step
    for a, b in zip(got.losses + got.grad_norms, history.losses + history.grad_norms, strict=True):
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=tol, abs=tol)
    for (name, p), q in zip(ens.model(index).named_parameters(), net.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=tol, atol=tol, equal_nan=True, msg=name)


@pytest.mark.parametrize("cell", models.CELLS)
@pytest.mark.parametrize("readout", models.READOUTS)
def test_forward_of_each_seed_is_its_own_model(cell, readout):
    ens = ensembles.Ensemble(
        lambda s: models.SequenceModel(2, 5, 3, cell=cell, readout=readout).double(), SEEDS
    )
    inputs = adding_batch(0)[0]
    outputs, hiddens = ens(inputs)
    assert outputs.shape[0] == len(SEEDS) and len(hiddens) == inputs.shape[0]
    for s in range(len(SEEDS)):
        out, hs = ens.model(s)(inputs)
        torch.testing.assert_close(outputs[s], out, rtol=1e-12, atol=1e-12)
        for a, b in zip(hiddens, hs, strict=True):
            torch.testing.assert_close(a[s], b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "cell,optimizer",
    [
        ("tanh", "adam"),
        ("relu", "sgd"),
        ("sigmoid", "adam"),
        ("lstm", "adam"),
        ("gru", "sgd"),
        ("elu", "sgd"),
    ],
)
def test_training_together_equals_training_alone(cell, optimizer):
    def make(seed):
        return models.SequenceModel(2, 6, 1, cell=cell).double()

    ens = ensembles.Ensemble(make, SEEDS)
    runs = ensembles.train(
        ens, adding_batch, MSE, steps=25, lr=0.03, optimizer=optimizer, progress=False
    )
    for s, seed in enumerate(SEEDS):
        assert_same_run(ens, runs, s, *alone(make, seed, 25, lr=0.03, optimizer=optimizer))


def test_custom_w_hh_per_seed_and_one_batch_per_seed():
    def make(seed):  # a different spectral scale per seed, set inside the factory
        return models.orthogonal_rnn(
            0.5 + 0.25 * seed, cell="tanh", hidden_size=6, seed=seed
        ).double()

    ens = ensembles.Ensemble(make, SEEDS)
    runs = ensembles.train(
        ens, adding_batch, MSE, steps=20, lr=0.02, data="per_seed", progress=False
    )
    for s, seed in enumerate(SEEDS):
        assert_same_run(ens, runs, s, *alone(make, seed, 20, data="per_seed", lr=0.02))
    sigmas = [torch.linalg.matrix_norm(make(seed).cell.weight_hh, 2).item() for seed in SEEDS]
    assert sigmas == pytest.approx([0.5 + 0.25 * seed for seed in SEEDS])


def test_per_seed_clipping_equals_clip_grad_norm_on_each_model():
    def make(seed):
        return models.orthogonal_rnn(1.5, cell="relu", hidden_size=6, seed=seed).double()

    ens = ensembles.Ensemble(make, SEEDS)
    runs = ensembles.train(ens, adding_batch, MSE, steps=20, lr=0.05, max_norm=0.05, progress=False)
    for s, seed in enumerate(SEEDS):
        assert_same_run(ens, runs, s, *alone(make, seed, 20, max_norm=0.05, lr=0.05))
    assert min(min(r.grad_norms) for r in runs.runs) > 0.05  # clipping was active throughout


def test_clipper_scales_each_seed_by_torch_rule():
    torch.manual_seed(0)
    grads = [torch.randn(3, 4, 5), torch.randn(3, 7)]
    norms = ensembles._per_seed_norms(grads)
    clipped = [g.clone() for g in grads]
    ensembles._clip_per_seed_(clipped, norms, max_norm=2.0)
    for s in range(3):
        params = [nn.Parameter(torch.zeros_like(g[s])) for g in grads]
        for p, g in zip(params, grads, strict=True):
            p.grad = g[s].clone()
        total = nn.utils.clip_grad_norm_(params, 2.0)
        assert float(norms[s]) == pytest.approx(float(total), rel=1e-6)
        for p, c in zip(params, clipped, strict=True):
            torch.testing.assert_close(c[s], p.grad)


def test_early_stop_and_blow_up_freeze_each_seed_as_training_alone_does():
    def make(seed):  # seed 8: a huge W_hh and relu, so this seed overflows
        scale = 1e40 if seed == 8 else 0.9
        return models.orthogonal_rnn(scale, cell="relu", hidden_size=6, seed=seed).double()

    kwargs = {"lr": 0.05, "stop_below": 0.16, "window": 3}
    ens = ensembles.Ensemble(make, SEEDS)
    runs = ensembles.train(ens, adding_batch, MSE, steps=60, progress=False, **kwargs)
    for s, seed in enumerate(SEEDS):
        assert_same_run(ens, runs, s, *alone(make, seed, 60, **kwargs))
    taken = runs.steps_taken()
    assert runs.runs[2].first_nonfinite_step is not None and taken[2] < 60
    assert any(r.stopped_early for r in runs.runs[:2])
    assert runs.losses().shape == (3, taken.max())
    assert math.isnan(runs.losses()[taken.argmin(), -1])


class SkipRNN(nn.Module):
    """A tanh RNN whose state also receives h_(t-2): a module the explicit path does not know."""

    def __init__(self, hidden: int = 5) -> None:
        super().__init__()
        self.inp, self.rec, self.skip = (
            nn.Linear(2, hidden),
            nn.Linear(hidden, hidden),
            nn.Linear(hidden, hidden, bias=False),
        )
        self.head = nn.Linear(hidden, 1)
        self.hidden = hidden

    def forward(self, inputs):
        h_prev = h = inputs.new_zeros(inputs.shape[1], self.hidden)
        hiddens = []
        for x in inputs:
            h, h_prev = torch.tanh(self.inp(x) + self.rec(h) + self.skip(h_prev)), h
            hiddens.append(h)
        return self.head(h), hiddens


def test_vmap_path_trains_any_module_like_alone():
    def make(seed):
        return SkipRNN().double()

    ens = ensembles.Ensemble(make, SEEDS)
    assert ens.batching == "vmap"
    runs = ensembles.train(ens, adding_batch, MSE, steps=15, lr=0.02, progress=False)
    for s, seed in enumerate(SEEDS):
        assert_same_run(ens, runs, s, *alone(make, seed, 15, lr=0.02))


def test_vmap_and_explicit_agree_on_a_sequence_model():
    def make(seed):
        return models.SequenceModel(2, 5, 1, cell="sigmoid").double()

    inputs = adding_batch(0)[0]
    explicit = ensembles.Ensemble(make, SEEDS, batching="explicit")(inputs)[0]
    vmapped = ensembles.Ensemble(make, SEEDS, batching="vmap")(inputs)[0]
    torch.testing.assert_close(explicit, vmapped, rtol=1e-12, atol=1e-12)


def test_subclasses_go_through_vmap_and_built_models_can_be_stacked():
    class WithSkip(models.SequenceModel):  # an extra parameter the batched cells do not know
        def __init__(self):
            super().__init__(2, 4, 1)
            self.gate = nn.Parameter(torch.tensor(0.5))

        def forward(self, inputs):
            output, hiddens = super().forward(inputs)
            return self.gate * output, hiddens

    assert ensembles.Ensemble(lambda s: WithSkip(), SEEDS).batching == "vmap"
    nets = [models.SequenceModel(2, 4, 1).double() for _ in range(3)]
    ens = ensembles.Ensemble.from_models(nets)
    inputs = adding_batch(0)[0]
    for s, net in enumerate(nets):
        torch.testing.assert_close(ens(inputs)[0][s], net(inputs)[0])


def test_fused_models_are_batched_and_unrolled():
    def make(seed):
        return models.FusedSequenceModel(2, 5, 1, cell="lstm").double()

    ens = ensembles.Ensemble(make, SEEDS)
    inputs = adding_batch(0)[0]
    outputs, _ = ens(inputs)
    for s in range(len(SEEDS)):
        torch.testing.assert_close(outputs[s], ens.model(s)(inputs)[0])
        assert isinstance(ens.model(s), models.FusedSequenceModel)


def test_hidden_grad_norms_per_seed_from_one_backward_pass():
    ens = ensembles.Ensemble(lambda s: models.SequenceModel(2, 5, 1).double(), SEEDS)
    inputs, targets = adding_batch(0)
    norms = ensembles.hidden_grad_norms(ens, inputs, targets, MSE)
    assert norms.shape == (len(SEEDS), inputs.shape[0])
    for s in range(len(SEEDS)):
        expected = diagnostics.hidden_grad_norms(ens.model(s), inputs, targets, MSE)
        assert norms[s] == pytest.approx(expected, rel=1e-10)


def test_records_and_model_copies_are_independent():
    ens = ensembles.Ensemble(lambda s: models.SequenceModel(2, 4, 1).double(), SEEDS)
    seen = []
    runs = ensembles.train(
        ens,
        adding_batch,
        MSE,
        steps=7,
        record_every=3,
        progress=False,
        record=lambda i, e: seen.append(i) or i,
    )
    assert seen == [0, 3, 6, 7] and runs.records == seen
    copy = ens.model(0)
    with torch.no_grad():
        copy.cell.weight_hh.add_(1.0)
    assert not torch.equal(copy.cell.weight_hh, ens.model(0).cell.weight_hh)
    assert runs.final_losses(window=3).shape == (3,)


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: ensembles.Ensemble(lambda s: models.SequenceModel(2, 4, 1), []), "at least one"),
        (lambda: ensembles.Ensemble(lambda s: models.SequenceModel(2, 4, 1), [1, 1]), "distinct"),
        (lambda: ensembles.Ensemble(lambda s: models.SequenceModel(2, 4, 1), [-1]), "non-negative"),
        (
            lambda: ensembles.Ensemble(lambda s: models.SequenceModel(2, 4, 1), [True]),
            "non-negative",
        ),
        (
            lambda: ensembles.Ensemble(lambda s: models.SequenceModel(2, 4, 1), [np.bool_(False)]),
            "non-negative",
        ),
        (
            lambda: ensembles.Ensemble(lambda s: models.SequenceModel(2, 4 + s, 1), [0, 1]),
            "same architecture",
        ),
        (lambda: ensembles.Ensemble(lambda s: SkipRNN(), [0], batching="explicit"), "vmap"),
        (lambda: ensembles.Ensemble(lambda s: "not a model", [0]), "nn.Module"),
        (
            lambda: ensembles.Ensemble(lambda s: models.SequenceModel(2, 4, 1), [0, 1])(
                torch.zeros(3, 2)
            ),
            "(T, B, D)",
        ),
        (
            lambda: ensembles.Ensemble(lambda s: models.SequenceModel(2, 4, 1), [0, 1]).model(2),
            "index",
        ),
    ],
)
def test_bad_arguments_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_numpy_integer_seeds_are_seeds():
    """seeds=np.arange(3) is three seeds, the same models as range(3)."""
    ens = ensembles.Ensemble(lambda s: models.SequenceModel(2, 4, 1), np.arange(3))
    again = ensembles.Ensemble(lambda s: models.SequenceModel(2, 4, 1), range(3))
    assert ens.seeds == [0, 1, 2] and all(type(s) is int for s in ens.seeds)
    for name, p in ens.params.items():
        assert torch.equal(p, again.params[name]), name


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"steps": 0}, "steps"),
        ({"lr": -1.0}, "lr"),
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"data": "mixed"}, "data"),
        ({"max_norm": 0.0}, "max_norm"),
        ({"stop_below": float("nan")}, "stop_below"),
        ({"window": 0}, "window"),
    ],
)
def test_bad_training_arguments_raise_clear_errors(kwargs, message):
    ens = ensembles.Ensemble(lambda s: models.SequenceModel(2, 4, 1), [0])
    arguments = {"steps": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        ensembles.train(
            ens, lambda i: tasks.adding_problem(2, 3, seed=i), MSE, progress=False, **arguments
        )
    with pytest.raises(ValueError, match="Ensemble"):
        ensembles.train(models.SequenceModel(2, 4, 1), lambda i: None, MSE, steps=1)
