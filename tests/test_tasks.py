import math

import pytest
import torch

from helpers import tasks


def test_adding_problem_shapes_marks_and_targets():
    inputs, targets = tasks.adding_problem(64, 20, seed=1)
    assert inputs.shape == (20, 64, 2) and inputs.dtype == torch.float32
    assert targets.shape == (64, 1)
    marks = inputs[..., 1]
    assert torch.all(marks.sum(0) == 2)
    assert torch.all(marks[:10].sum(0) == 1) and torch.all(marks[10:].sum(0) == 1)
    expected = (inputs[..., 0] * marks).sum(0, keepdim=True).T
    torch.testing.assert_close(targets, expected)


def test_adding_problem_baseline_is_one_sixth():
    _, targets = tasks.adding_problem(200_000, 10, seed=0)
    mse = float(((targets - 1.0) ** 2).mean())
    assert abs(mse - 1 / 6) < 0.003


def test_seeding_is_reproducible_and_leaves_global_state_alone():
    torch.manual_seed(5)
    before = torch.rand(1)
    torch.manual_seed(5)
    a = tasks.adding_problem(4, 6, seed=3)
    b = tasks.adding_problem(4, 6, seed=3)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert torch.equal(torch.rand(1), before)
    assert not torch.equal(tasks.adding_problem(4, 6, seed=4)[0], a[0])


def test_first_token_task_label_is_first_token():
    inputs, labels = tasks.first_token_task(32, 15, num_classes=3, seed=0)
    assert inputs.shape == (15, 32, 3) and labels.shape == (32,) and labels.dtype == torch.long
    assert torch.equal(inputs[0].argmax(-1), labels)
    assert torch.all(inputs.sum(-1) == 1)
    # the later tokens are independent of the label: roughly uniform given either label
    later = inputs[1:].argmax(-1)
    assert 0.2 < float((later == 0).float().mean()) < 0.45


def test_copy_task_layout_and_baseline():
    inputs, targets = tasks.copy_task(5, delay=7, num_symbols=8, length=10, seed=0)
    T = 7 + 20
    assert inputs.shape == (T, 5, 10) and targets.shape == (T, 5)
    tokens = inputs.argmax(-1)
    assert torch.all((tokens[:10] >= 1) & (tokens[:10] <= 8))
    assert torch.all(tokens[10:16] == 0) and torch.all(tokens[16] == 9)
    assert torch.all(tokens[17:] == 0)
    assert torch.all(targets[:17] == 0) and torch.equal(targets[17:], tokens[:10])
    assert tasks.copy_task_baseline(100) == pytest.approx(10 * math.log(8) / 120)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: tasks.adding_problem(0, 10), "batch_size"),
        (lambda: tasks.adding_problem(4, 1), "seq_len"),
        (lambda: tasks.adding_problem(4, 2.5), "seq_len"),
        (lambda: tasks.adding_problem(4, 10, seed=-1), "seed"),
        (lambda: tasks.first_token_task(4, 10, num_classes=1), "num_classes"),
        (lambda: tasks.copy_task(4, delay=-3), "delay"),
        (lambda: tasks.copy_task_baseline(10, num_symbols=1), "num_symbols"),
    ],
)
def test_bad_arguments_raise_clear_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
