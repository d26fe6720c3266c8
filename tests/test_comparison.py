"""helpers.comparison: the recipes build what their names say, the sweep's rule picks the rate
it describes, results survive a save and a load, and the stored results of notebook 08 come
back exactly when configurations are re-run (the notebook plots them instead of training)."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest
import torch

from course_tools import ROOT
from helpers import comparison

_spec = importlib.util.spec_from_file_location(
    "compare_mitigations", ROOT / "scripts" / "compare_mitigations.py"
)
script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(script)


def build(name, d=2, h=6, o=1):
    torch.manual_seed(0)
    return comparison.RECIPES[name].build(d, h, o, script.torch_attention)


def test_recipes_build_what_their_names_say():
    irnn = build("IRNN")
    assert irnn.cell_type == "relu" and torch.equal(irnn.cell.weight_hh.detach(), torch.eye(6))
    assert float((irnn.cell.bias_ih.abs().sum() + irnn.cell.bias_hh.abs().sum()).detach()) == 0
    assert float(irnn.cell.weight_ih.detach().std()) < 0.01
    orth = build("orthogonal").cell.weight_hh.detach()
    torch.testing.assert_close(orth @ orth.T, torch.eye(6), atol=1e-5, rtol=0)
    lstm = build("LSTM").cell
    # Jozefowicz et al.'s b_f = 1, as notebook 07 sets it: bias_ih's forget slice 1, bias_hh's 0
    torch.testing.assert_close(lstm.bias_ih[6:12].detach(), torch.full((6,), 1.0))
    torch.testing.assert_close(lstm.bias_hh[6:12].detach(), torch.zeros(6))
    torch.testing.assert_close(lstm.bias_ih[6:12].detach(), torch.ones(6))
    assert build("tanh + skip").skip == comparison.SKIP
    assert comparison.RECIPES["tanh + decay"].decay == pytest.approx(2 * comparison.LAM)
    assert all(r.decay == 0 for n, r in comparison.RECIPES.items() if n != "tanh + decay")
    assert build("ReLU").cell_type == "relu" and build("GRU").cell_type == "gru"
    assert len(comparison.RECIPES) == 9
    with pytest.raises(ValueError, match="attention"):
        comparison.RECIPES["tanh + attention"].build(2, 6, 1, None)


def test_parameter_counts():
    h, d = 32, 2
    vanilla = h * d + h * h + 2 * h + h + 1
    assert comparison.parameter_count("tanh", "adding") == vanilla
    assert comparison.parameter_count("LSTM", "adding") == 4 * (h * d + h * h + 2 * h) + h + 1
    assert comparison.parameter_count("GRU", "adding") == 3 * (h * d + h * h + 2 * h) + h + 1
    assert comparison.parameter_count("tanh + skip", "adding") == vanilla + h * h
    assert comparison.parameter_count("tanh", "first token") == h * 4 + h * h + 2 * h + 4 * h + 4
    with pytest.raises(ValueError, match="recipe"):
        comparison.parameter_count("vanilla", "adding")


def test_task_baselines():
    assert comparison.TASKS["adding"].baseline == pytest.approx(1 / 6)
    assert comparison.TASKS["first token"].baseline == pytest.approx(math.log(4))


def trial(steps, solved, final):
    return comparison.Trial(np.array(steps), np.array(solved), np.array(final, dtype=float), 0.0)


def test_the_sweep_rule():
    slow = trial([900, 1000, 3000], [True, True, False], [0.01, 0.01, 0.1])
    fast_once = trial([100, 3000, 3000], [True, False, False], [0.01, 0.1, 0.1])
    fast = trial([300, 400, 3000], [True, True, False], [0.01, 0.01, 0.2])
    assert comparison.choose_rate({0.001: slow, 0.01: fast}) == 0.01
    # one fast seed is not a majority: the median counts the two failures
    assert comparison.choose_rate({0.001: slow, 0.03: fast_once}) == 0.001
    never_low = trial([3000] * 3, [False] * 3, [0.5, 0.6, 0.7])
    never_high = trial([3000] * 3, [False] * 3, [0.9, 1.0, float("nan")])
    assert comparison.choose_rate({0.003: never_high, 0.03: never_low}) == 0.03
    assert comparison.choose_rate({0.01: never_low, 0.003: never_low}) == 0.003
    with pytest.raises(ValueError):
        comparison.choose_rate({})


def test_every_seed_gets_its_own_batches():
    task = comparison.TASKS["adding"]
    seeds = {
        comparison._data_seed(task, T, s, i)
        for T in (20, 100)
        for s in (-1, 0, 1, 100)
        for i in (0, 1, 2999)
    }
    assert len(seeds) == 2 * 4 * 3
    other = comparison._data_seed(comparison.TASKS["first token"], 20, 0, 0)
    assert other not in seeds


def test_every_recipe_runs_and_results_survive_save_and_load(tmp_path):
    settings = comparison.Settings(
        lengths=(12, 16),
        steps=3,
        valid_size=8,
        batch_size=4,
        hidden_size=4,
        seeds=(0, 1, 2),
        sweep_seeds=(7, 8, 9),
        rates=(0.001, 0.01),
        recipes=("tanh", "LSTM", "tanh + attention", "tanh + decay"),
    )
    results = comparison.run(settings, attention=script.torch_attention, progress=False)
    assert len(results.outcomes) == 2 * 4 * 2 and len(results.trials) == 2 * 4 * 2
    for (task, recipe, T), outcome in results.outcomes.items():
        assert outcome.losses.shape == (3, 3) and outcome.losses.dtype == np.float32
        assert outcome.final.shape == (3,) and outcome.flow_after.shape == (3, T)
        assert np.all(outcome.flow_init > 0)
        assert outcome.lr == results.chosen_rate(task, recipe)
        assert np.all(np.isnan(outcome.accuracy)) == (task == "adding")
    for t in results.trials.values():
        assert t.steps.tolist() == [3, 3, 3] and not t.solved.any()
    comparison.save(results, tmp_path / "r.npz")
    again = comparison.load(tmp_path / "r.npz")
    assert again.settings == settings and again.outcomes.keys() == results.outcomes.keys()
    assert again.trials.keys() == results.trials.keys()
    for key, outcome in results.outcomes.items():
        for name in comparison.OUTCOME_FIELDS:
            np.testing.assert_array_equal(
                getattr(again.outcomes[key], name), getattr(outcome, name)
            )
    for key, t in results.trials.items():
        for name in comparison.TRIAL_FIELDS:
            np.testing.assert_array_equal(getattr(again.trials[key], name), getattr(t, name))
    with pytest.raises(ValueError, match="recipe"):
        comparison.run_one("adding", "vanilla", 10, 0.01, settings)


def test_decay_row_shrinks_only_W_hh():
    settings = comparison.Settings(
        lengths=(10,), steps=30, valid_size=8, batch_size=4, hidden_size=4, seeds=(0, 1, 2)
    )
    plain = comparison.run_one("adding", "tanh", 10, 0.01, settings)
    decayed = comparison.run_one("adding", "tanh + decay", 10, 0.01, settings)
    # same models and batches: the first loss (before any update) is the same
    np.testing.assert_array_equal(plain.losses[:, 0], decayed.losses[:, 0])
    assert not np.array_equal(plain.losses[:, -1], decayed.losses[:, -1])


@pytest.fixture(scope="module")
def stored():
    return comparison.load()


def test_stored_results_are_complete_and_use_the_chosen_rate(stored):
    s = stored.settings
    assert s == comparison.Settings()
    assert len(stored.outcomes) == len(s.tasks) * len(s.recipes) * len(s.lengths)
    assert len(stored.trials) == len(s.tasks) * len(s.recipes) * len(s.rates)
    for (task, recipe, _), outcome in stored.outcomes.items():
        assert outcome.lr == stored.chosen_rate(task, recipe)


@pytest.mark.slow
@pytest.mark.parametrize("key", [("adding", "tanh + attention", 20), ("first token", "GRU", 20)])
def test_stored_results_come_back_exactly(stored, key):
    lr = stored.chosen_rate(*key[:2])
    again = comparison.run_one(
        *key, lr=lr, settings=stored.settings, attention=script.torch_attention
    )
    for name in ("losses", "final", "accuracy", "flow_init", "flow_after"):
        np.testing.assert_array_equal(
            getattr(again, name),
            getattr(stored.outcomes[key], name),
            err_msg=f"{key} {name}: run scripts/compare_mitigations.py"
            " again if helpers.comparison changed",
        )


@pytest.mark.slow
@pytest.mark.parametrize("key", [("adding", "GRU", 0.03)])
def test_stored_sweep_comes_back_exactly(stored, key):
    again = comparison.run_trial(*key, settings=stored.settings, attention=script.torch_attention)
    for name in ("steps", "solved", "final"):
        np.testing.assert_array_equal(
            getattr(again, name),
            getattr(stored.trials[key], name),
            err_msg=f"sweep {key} {name}: run scripts/compare_mitigations.py again",
        )


def test_validation_batch_is_fixed_and_checked():
    inputs, targets = comparison.validation_batch("adding", 20)
    assert inputs.shape == (20, comparison.Settings().valid_size, 2)
    again, _ = comparison.validation_batch("adding", 20)
    assert torch.equal(inputs, again)
    first, labels = comparison.validation_batch("first token", 20)
    assert labels.shape == (comparison.Settings().valid_size,)
    with pytest.raises(ValueError, match="task"):
        comparison.validation_batch("copy", 20)
