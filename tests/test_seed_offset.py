"""helpers.course's perturbations: RNN_COURSE_SEED_OFFSET shifts every seed an experiment draws
(tasks, models, ensembles, the course's own generators) and nothing when unset;
RNN_COURSE_THREADS overrides the notebook's thread count; a bad value is a clear ValueError."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import course, ensembles, models, tasks


def _draws():
    """What an experiment gets from seed 3 through every route the course offers."""
    inputs, _ = tasks.adding_problem(4, 5, seed=3)
    course.manual_seed(3)
    weight = models.SequenceModel(2, 4, 1).cell.weight_hh.detach().clone()
    ens = ensembles.Ensemble(lambda seed: models.SequenceModel(2, 4, 1), [3])
    return {
        "task": inputs,
        "model": weight,
        "ensemble": ens.model(0).cell.weight_hh.detach().clone(),
        "rng": torch.from_numpy(course.rng(3).normal(size=4)),
        "generator": torch.randn(4, generator=course.torch_generator(3)),
        "orthogonal_rnn": models.orthogonal_rnn(1.5, seed=3).cell.weight_hh.detach().clone(),
    }


def test_an_offset_shifts_every_route_by_the_same_amount(monkeypatch):
    monkeypatch.delenv(course.SEED_OFFSET_ENV, raising=False)
    plain, again = _draws(), _draws()
    monkeypatch.setenv(course.SEED_OFFSET_ENV, "1000")
    shifted = _draws()
    assert course.shifted(3) == 1003
    for name in plain:
        assert torch.equal(plain[name], again[name]), f"{name} is not reproducible"
        assert not torch.equal(plain[name], shifted[name]), f"{name} ignores the offset"
    # shifted by the offset, not merely changed: seed 3 + 1000 is seed 1003 without an offset
    monkeypatch.delenv(course.SEED_OFFSET_ENV)
    inputs, _ = tasks.adding_problem(4, 5, seed=1003)
    assert torch.equal(inputs, shifted["task"])
    ens = ensembles.Ensemble(lambda seed: models.SequenceModel(2, 4, 1), [1003])
    assert torch.equal(ens.model(0).cell.weight_hh.detach(), shifted["ensemble"])


def test_seed_everything_is_shifted_too(monkeypatch):
    monkeypatch.setenv(course.SEED_OFFSET_ENV, "7")
    a = course.seed_everything(2).normal(size=3)
    monkeypatch.delenv(course.SEED_OFFSET_ENV)
    np.testing.assert_array_equal(a, course.seed_everything(9).normal(size=3))


@pytest.mark.parametrize("value", ["-1", "x", "1.5"])
def test_a_bad_offset_says_what_to_set(monkeypatch, value):
    monkeypatch.setenv(course.SEED_OFFSET_ENV, value)
    with pytest.raises(ValueError, match=course.SEED_OFFSET_ENV):
        course.shifted(0)


def test_threads_variable_overrides_setup_and_shows(monkeypatch, capsys):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv(course.THREADS_ENV, "2")
        course.setup(threads=1)
        assert torch.get_num_threads() == 2
        assert f"perturbed: {course.THREADS_ENV}=2" in capsys.readouterr().out
        monkeypatch.setenv(course.THREADS_ENV, "0")
        with pytest.raises(ValueError, match=course.THREADS_ENV):
            course.setup()
        monkeypatch.delenv(course.THREADS_ENV)
        course.setup(threads=1)
        assert torch.get_num_threads() == 1
        assert "perturbed" not in capsys.readouterr().out
    finally:
        torch.set_num_threads(before)
