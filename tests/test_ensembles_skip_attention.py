"""helpers.ensembles on the skip and attention models of notebook 08, and its weight decay:
seed s of the batched run must be the model trained alone (helpers.training.train on a model
built with torch.manual_seed(s)), in float64 so that only the order of operations differs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from helpers import diagnostics, ensembles, models, tasks, training

MSE = nn.functional.mse_loss
SEEDS = [2, 4, 7]


def sdpa(query, keys, values):
    """Context only, from PyTorch's fused attention: query (B, H), keys, values (T, B, H)."""
    return nn.functional.scaled_dot_product_attention(
        query.unsqueeze(1), keys.transpose(0, 1), values.transpose(0, 1)
    ).squeeze(1)


def softmax_pair(query, keys, values):
    """(context, weights), written out: the other form AttentionRNN accepts."""
    weights = torch.softmax(torch.einsum("tbh,bh->tb", keys, query) / keys.shape[-1] ** 0.5, 0)
    return torch.einsum("tb,tbh->bh", weights, values), weights


BUILDERS = {
    "skip": lambda seed: models.SkipRNN(2, 5, 1, skip=3).double(),
    "skip relu": lambda seed: models.SkipRNN(2, 5, 1, skip=4, cell="relu").double(),
    "attention": lambda seed: models.AttentionRNN(2, 5, 1, attention=sdpa).double(),
    "attention pair": lambda seed: models.AttentionRNN(2, 5, 1, attention=softmax_pair).double(),
}


def batch(i):
    inputs, targets = tasks.adding_problem(4, 11, seed=300 + i)
    return inputs.double(), targets.double()


@pytest.mark.parametrize("name", BUILDERS)
def test_batched_forward_and_gradient_flow_match_each_seed(name):
    ens = ensembles.Ensemble(BUILDERS[name], SEEDS, batching="explicit")
    inputs, targets = batch(0)
    outputs, hiddens = ens(inputs)
    flows = ensembles.hidden_grad_norms(ens, inputs, targets, MSE)
    for index, seed in enumerate(SEEDS):
        torch.manual_seed(seed)
        net = BUILDERS[name](seed)
        output, states = net(inputs)
        torch.testing.assert_close(outputs[index], output, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(torch.stack(hiddens)[:, index], torch.stack(states))
        np.testing.assert_allclose(
            flows[index], diagnostics.hidden_grad_norms(net, inputs, targets, MSE), rtol=1e-10
        )


@pytest.mark.parametrize("name", ["skip", "attention"])
def test_batched_training_is_each_seed_trained_alone(name):
    ens = ensembles.Ensemble(BUILDERS[name], SEEDS)
    runs = ensembles.train(ens, batch, MSE, steps=6, lr=0.05, weight_decay=0.01, progress=False)
    for index, seed in enumerate(SEEDS):
        torch.manual_seed(seed)
        net = BUILDERS[name](seed)
        optimizer = torch.optim.Adam(net.parameters(), lr=0.05, weight_decay=0.01)
        for i in range(6):
            optimizer.zero_grad()
            loss = MSE(net(batch(i)[0])[0], batch(i)[1])
            loss.backward()
            optimizer.step()
            assert runs.runs[index].losses[i] == pytest.approx(float(loss.detach()), rel=1e-10)
        for p, q in zip(ens.model(index).parameters(), net.parameters(), strict=True):
            torch.testing.assert_close(p, q, rtol=1e-9, atol=1e-12)


def test_weight_decay_shrinks_weights_and_is_checked():
    def make(seed):
        return models.SequenceModel(2, 4, 1).double()

    plain, decayed = (ensembles.Ensemble(make, SEEDS) for _ in range(2))
    ensembles.train(plain, batch, MSE, steps=20, lr=0.01, optimizer="sgd", progress=False)
    ensembles.train(
        decayed, batch, MSE, steps=20, lr=0.01, optimizer="sgd", weight_decay=5.0, progress=False
    )
    norm = {
        k: float(e.params["cell__weight_hh"].detach().norm())
        for k, e in (("plain", plain), ("decayed", decayed))
    }
    assert norm["decayed"] < 0.5 * norm["plain"]
    with pytest.raises(ValueError, match="weight_decay"):
        ensembles.train(plain, batch, MSE, steps=1, weight_decay=-1.0, progress=False)
    with pytest.raises(ValueError, match="weight_decay"):
        ensembles.train(plain, batch, MSE, steps=1, weight_decay=float("nan"), progress=False)


def test_skip_ensemble_alone_matches_the_training_loop_without_decay():
    ens = ensembles.Ensemble(BUILDERS["skip"], SEEDS)
    runs = ensembles.train(ens, batch, MSE, steps=5, lr=0.02, progress=False)
    torch.manual_seed(SEEDS[1])
    net = BUILDERS["skip"](SEEDS[1])
    history = training.train(net, batch, MSE, steps=5, lr=0.02, progress=False)
    np.testing.assert_allclose(runs.runs[1].losses, history.losses, rtol=1e-10)
    np.testing.assert_allclose(runs.runs[1].grad_norms, history.grad_norms, rtol=1e-8)


def test_decoupled_decay_on_chosen_parameters_is_adamw_alone():
    """optimizer="adamw" with decay_only: each seed follows torch.optim.AdamW with the decay
    on those parameters only, trained alone (clipping and per-seed data included)."""

    def make(seed):
        return models.SequenceModel(2, 4, 1).double()

    def own_batch(i, seed):
        return batch(1000 * seed + i)

    ens = ensembles.Ensemble(make, SEEDS)
    runs = ensembles.train(
        ens,
        own_batch,
        MSE,
        steps=6,
        lr=0.05,
        optimizer="adamw",
        weight_decay=0.5,
        decay_only=["cell.weight_hh"],
        max_norm=0.1,
        data="per_seed",
        progress=False,
    )
    for index, seed in enumerate(SEEDS):
        torch.manual_seed(seed)
        net = make(seed)
        decayed = [net.cell.weight_hh]
        rest = [p for n, p in net.named_parameters() if n != "cell.weight_hh"]
        optimizer = torch.optim.AdamW(
            [{"params": decayed, "weight_decay": 0.5}, {"params": rest, "weight_decay": 0.0}],
            lr=0.05,
        )
        for i in range(6):
            optimizer.zero_grad()
            loss = MSE(net(own_batch(i, seed)[0])[0], own_batch(i, seed)[1])
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 0.1)
            optimizer.step()
            assert runs.runs[index].losses[i] == pytest.approx(float(loss.detach()), rel=1e-10)
        for p, q in zip(ens.model(index).parameters(), net.parameters(), strict=True):
            torch.testing.assert_close(p, q, rtol=1e-9, atol=1e-12)
    untouched = ensembles.Ensemble(make, SEEDS)
    ensembles.train(
        untouched,
        own_batch,
        MSE,
        steps=6,
        lr=0.05,
        optimizer="adamw",
        weight_decay=0.0,
        max_norm=0.1,
        data="per_seed",
        progress=False,
    )
    assert not torch.equal(ens.params["cell__weight_hh"], untouched.params["cell__weight_hh"])
    with pytest.raises(ValueError, match="decay_only"):
        ensembles.train(
            ens,
            own_batch,
            MSE,
            steps=1,
            optimizer="adamw",
            weight_decay=0.1,
            decay_only=["W_hh"],
            data="per_seed",
            progress=False,
        )
