"""helpers.training: the experiments' training loop."""

from __future__ import annotations

import functools
import math

import pytest
import torch

from helpers import models, tasks, training


def test_train_learns_a_short_first_token_task_and_records():
    torch.manual_seed(0)
    net = models.SequenceModel(2, 16, 2, cell="tanh")
    seen = []
    history = training.train(
        net,
        lambda i: tasks.first_token_task(32, 3, seed=i),
        torch.nn.functional.cross_entropy,
        steps=60,
        lr=0.02,
        record=lambda i, m: seen.append(i) or i,
        record_every=25,
        progress=False,
    )
    assert len(history.losses) == len(history.grad_norms) == 60
    assert seen == [0, 25, 50, 60] and history.records == seen
    assert history.losses[-1] < history.losses[0]
    assert training.accuracy(net, *tasks.first_token_task(500, 3, seed=99)) > 0.95
    assert history.first_nonfinite_step is None


def test_a_run_that_blows_up_stops_at_the_first_non_finite_step():
    calls = []

    def step(model, inputs, targets, loss_fn, optimizer):
        calls.append(1)
        return (float("nan"), 1.0) if len(calls) == 4 else (1.0, 2.0)

    net = models.SequenceModel(2, 4, 2)
    history = training.train(
        net,
        lambda i: tasks.first_token_task(4, 2, seed=i),
        torch.nn.functional.cross_entropy,
        steps=10,
        step=step,
        progress=False,
    )
    assert len(calls) == 4 and history.first_nonfinite_step == 3
    assert math.isnan(history.losses[-1])


def test_stop_below_ends_the_run_once_the_recent_mean_gets_there():
    losses = iter([0.9, 0.5, 0.3, 0.2, 0.1, 0.05, 0.01, 0.01])

    def step(model, inputs, targets, loss_fn, optimizer):
        return next(losses), 1.0

    net = models.SequenceModel(2, 4, 2)
    run = functools.partial(
        training.train,
        net,
        lambda i: tasks.first_token_task(4, 2, seed=i),
        torch.nn.functional.cross_entropy,
        steps=8,
        step=step,
        progress=False,
        record=lambda i, m: i,
        record_every=100,
    )
    history = run(stop_below=0.1, window=3)  # means 0.567, 0.333, 0.2, 0.117, 0.0533: stop
    assert history.losses == [0.9, 0.5, 0.3, 0.2, 0.1, 0.05, 0.01] and history.stopped_early
    assert history.records == [0, 7]
    losses = iter([0.9] * 8)
    history = run(stop_below=0.1, window=3)
    assert len(history.losses) == 8 and not history.stopped_early


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"steps": 0}, "steps"),
        ({"lr": -1.0}, "lr"),
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"record_every": 0}, "record_every"),
        ({"window": 0}, "window"),
        ({"stop_below": "0.1"}, "stop_below"),
    ],
)
def test_bad_arguments_say_what_is_wrong(kwargs, message):
    net = models.SequenceModel(2, 4, 2)
    args = {"steps": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        training.train(
            net,
            lambda i: tasks.first_token_task(4, 2, seed=i),
            torch.nn.functional.cross_entropy,
            progress=False,
            **args,
        )


def test_accuracy_refuses_outputs_of_the_wrong_shape():
    net = models.SequenceModel(2, 4, 2, readout="all")
    with pytest.raises(ValueError, match="expected output"):
        training.accuracy(net, *tasks.first_token_task(4, 3, seed=0))
