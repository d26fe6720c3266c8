"""helpers.comparison: the recipes build what their names say, results survive a save and a
load, and the stored results of notebook 08 come back exactly when one configuration is re-run
(the notebook plots them instead of training 162 runs)."""

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
    lstm = build("LSTM").rnn
    forget = (lstm.bias_ih_l0 + lstm.bias_hh_l0)[6:12].detach()
    torch.testing.assert_close(forget, torch.ones(6))
    assert build("tanh + skip").skip == comparison.SKIP
    assert comparison.RECIPES["tanh + L2"].weight_decay > 0
    assert {
        r.max_norm for r in comparison.RECIPES.values() if "ReLU" in r.name or r.name == "IRNN"
    } == {1.0}
    assert comparison.RECIPES["tanh"].max_norm is None and len(comparison.RECIPES) == 9
    with pytest.raises(ValueError, match="attention"):
        comparison.RECIPES["tanh + attention"].build(2, 6, 1, None)


def test_task_baselines():
    assert comparison.TASKS["adding"].baseline == pytest.approx(1 / 6)
    assert comparison.TASKS["first token"].baseline == pytest.approx(math.log(4))


def test_every_recipe_runs_and_results_survive_save_and_load(tmp_path):
    settings = comparison.Settings(
        lengths=(12,), steps=3, valid_size=8, batch_size=4, hidden_size=4
    )
    results = comparison.run(
        settings,
        attention=script.torch_attention,
        progress=False,
        only=[(t, r, 12) for t in comparison.TASKS for r in ("tanh", "LSTM", "tanh + attention")],
    )
    assert len(results.outcomes) == 6
    for outcome in results.outcomes.values():
        assert outcome.losses.shape == (3, 3) and outcome.losses.dtype == np.float32
        assert outcome.final.shape == (3,) and outcome.flow_after.shape == (3, 12)
        assert np.all(outcome.flow_init > 0)
    comparison.save(results, tmp_path / "r.npz")
    again = comparison.load(tmp_path / "r.npz")
    assert again.settings == settings and again.outcomes.keys() == results.outcomes.keys()
    for key, outcome in results.outcomes.items():
        for name in comparison.FIELDS:
            np.testing.assert_array_equal(
                getattr(again.outcomes[key], name), getattr(outcome, name)
            )
    with pytest.raises(ValueError, match="recipe"):
        comparison.run_one("adding", "vanilla", 10, settings)


@pytest.mark.slow
@pytest.mark.parametrize(
    "key", [("adding", "tanh + attention", 20), ("first token", "LSTM", 20), ("adding", "GRU", 20)]
)
def test_stored_results_come_back_exactly(key):
    stored = comparison.load()
    assert len(stored.outcomes) == (
        len(stored.settings.tasks) * len(stored.settings.recipes) * len(stored.settings.lengths)
    )
    again = comparison.run_one(*key, settings=stored.settings, attention=script.torch_attention)
    for name in ("losses", "final", "flow_init", "flow_after"):
        np.testing.assert_array_equal(
            getattr(again, name),
            getattr(stored.outcomes[key], name),
            err_msg=f"{key} {name}: run scripts/compare_mitigations.py"
            " again if helpers.comparison changed",
        )
