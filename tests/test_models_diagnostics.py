import numpy as np
import pytest
import torch

from helpers import diagnostics, models, tasks


@pytest.mark.parametrize("cell", models.CELLS)
def test_models_expose_every_hidden_state(cell):
    model = models.SequenceModel(2, 8, 1, cell=cell)
    inputs, _ = tasks.adding_problem(3, 7, seed=0)
    output, hiddens = model(inputs)
    assert output.shape == (3, 1) and len(hiddens) == 7
    assert all(h.shape == (3, 8) for h in hiddens)
    torch.testing.assert_close(model.head(hiddens[-1]), output)


def test_vanilla_model_matches_torch_rnn():
    torch.manual_seed(0)
    model = models.SequenceModel(3, 5, 2, cell="tanh", readout="all")
    rnn = torch.nn.RNN(3, 5)
    rnn.load_state_dict({f"{k}_l0": v for k, v in model.cell.state_dict().items()})
    xs = torch.randn(6, 4, 3)
    _, hiddens = model(xs)
    torch.testing.assert_close(torch.stack(hiddens), rnn(xs)[0])


@pytest.mark.parametrize(
    "cell, activation",
    [
        ("sigmoid", torch.sigmoid),
        ("leaky_relu", torch.nn.functional.leaky_relu),
        ("elu", torch.nn.functional.elu),
    ],
)
def test_other_vanilla_cells_apply_their_activation(cell, activation):
    torch.manual_seed(0)
    model = models.SequenceModel(3, 5, 1, cell=cell)
    xs = torch.randn(4, 2, 3)
    _, hiddens = model(xs)
    c, h = model.cell, torch.zeros(2, 5)
    for x, got in zip(xs, hiddens, strict=True):
        h = activation(x @ c.weight_ih.T + c.bias_ih + h @ c.weight_hh.T + c.bias_hh)
        torch.testing.assert_close(got, h)


@pytest.mark.parametrize("cell", models.FUSED_CELLS)
def test_fused_model_and_its_unrolled_copy_agree(cell):
    torch.manual_seed(0)
    fused = models.FusedSequenceModel(2, 6, 1, cell=cell).double()
    inputs, targets = tasks.adding_problem(3, 9, seed=1)
    inputs, targets = inputs.double(), targets.double()
    output, states = fused(inputs)
    unrolled = fused.unrolled()
    again, hiddens = unrolled(inputs)
    assert states.shape == (9, 3, 6) and unrolled.cell_type == cell
    torch.testing.assert_close(again, output)
    torch.testing.assert_close(torch.stack(hiddens), states)
    assert next(unrolled.parameters()).dtype == torch.float64
    with pytest.raises(ValueError, match="unrolled"):
        diagnostics.hidden_grad_norms(fused, inputs, targets, torch.nn.functional.mse_loss)
    with pytest.raises(ValueError, match="cell"):
        models.FusedSequenceModel(2, 6, 1, cell="sigmoid")
    with pytest.raises(ValueError, match="time-major"):
        fused(inputs[0])


def _norms_by_brute_force(model, inputs, targets, loss_fn):
    """One backward pass per time step, through a perturbation of h_t: the slow O(T^2) oracle."""
    original = model._step
    norms = []
    for target in range(inputs.shape[0]):
        delta = torch.zeros(
            inputs.shape[1], model.hidden_size, dtype=inputs.dtype, requires_grad=True
        )
        step_index = 0

        def step(x, state, delta=delta, target=target):
            nonlocal step_index
            h, new_state = original(x, state)
            if step_index == target:
                h = h + delta
                new_state = (h, new_state[1]) if isinstance(new_state, tuple) else h
            step_index += 1
            return h, new_state

        model._step = step
        try:
            output, _ = model(inputs)
        finally:
            model._step = original
        loss_fn(output, targets).backward()
        norms.append(float(delta.grad.norm()))
    return np.array(norms)


@pytest.mark.parametrize("cell", ["tanh", "lstm"])
def test_hidden_grad_norms_match_a_brute_force_oracle(cell):
    torch.manual_seed(1)
    model = models.SequenceModel(2, 6, 1, cell=cell).double()
    inputs, targets = tasks.adding_problem(4, 9, seed=2)
    inputs, targets = inputs.double(), targets.double()
    loss_fn = torch.nn.functional.mse_loss
    fast = diagnostics.hidden_grad_norms(model, inputs, targets, loss_fn)
    assert all(p.grad is None for p in model.parameters())
    slow = _norms_by_brute_force(model, inputs, targets, loss_fn)
    assert fast.shape == (9,) and fast.dtype == np.float64
    np.testing.assert_allclose(fast, slow, rtol=1e-10)


def test_hidden_grad_norms_use_one_backward_pass():
    model = models.SequenceModel(2, 4, 1)
    inputs, targets = tasks.adding_problem(2, 30, seed=0)
    calls = []
    original = torch.autograd.grad
    torch.autograd.grad = lambda *a, **k: calls.append(1) or original(*a, **k)
    try:
        diagnostics.hidden_grad_norms(model, inputs, targets, torch.nn.functional.mse_loss)
    finally:
        torch.autograd.grad = original
    assert len(calls) == 1


def test_tanh_gradients_vanish_through_time_at_small_weights():
    torch.manual_seed(0)
    model = models.SequenceModel(2, 16, 1, cell="tanh")
    with torch.no_grad():
        model.cell.weight_hh.mul_(0.3)
    inputs, targets = tasks.adding_problem(8, 40, seed=0)
    norms = diagnostics.hidden_grad_norms(model, inputs, targets, torch.nn.functional.mse_loss)
    assert diagnostics.gradient_ratio(norms) < 1e-6


def test_bad_arguments():
    with pytest.raises(ValueError, match="cell"):
        models.SequenceModel(2, 4, 1, cell="elman")
    with pytest.raises(ValueError, match="hidden_size"):
        models.SequenceModel(2, 0, 1)
    assert models.SequenceModel(np.int64(2), np.int32(4), np.int64(1)).hidden_size == 4
    for flag in (True, np.bool_(True)):
        with pytest.raises(ValueError, match="hidden_size must be an integer >= 1"):
            models.SequenceModel(2, flag, 1)
    with pytest.raises(ValueError, match="time-major"):
        models.SequenceModel(2, 4, 1)(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="scalar"):
        diagnostics.hidden_grad_norms(
            models.SequenceModel(2, 4, 1),
            torch.zeros(3, 2, 2),
            torch.zeros(2, 1),
            lambda o, t: (o - t) ** 2,
        )
    with pytest.raises(ValueError, match="hiddens"):
        diagnostics.hidden_grad_norms(
            lambda x: (x.sum(), []), torch.zeros(3, 2, 2), torch.zeros(2, 1), lambda o, t: o
        )
    with pytest.raises(ValueError, match="1-D"):
        diagnostics.gradient_ratio(np.ones(1))
    with pytest.raises(ValueError, match="cell must be one of 'tanh', 'sigmoid', 'relu'"):
        models.orthogonal_rnn(1.0, cell="lstm")
    with pytest.raises(ValueError, match="scale must be a positive finite number"):
        models.orthogonal_rnn(float("nan"))


def test_a_numpy_scalar_is_a_number_and_a_numpy_bool_is_not():
    """A learner's np.float32(1.3) is accepted wherever a number is (it is a real number); a
    bool, numpy's included, never is."""
    net = models.orthogonal_rnn(np.float32(1.3), seed=4)
    singular = torch.linalg.svdvals(net.cell.weight_hh.detach().double())
    assert torch.allclose(singular, torch.full_like(singular, 1.3), atol=1e-5)
    for flag in (True, np.bool_(True)):
        with pytest.raises(ValueError, match="scale must be a positive finite number"):
            models.orthogonal_rnn(flag)


def test_orthogonal_rnn_has_every_singular_value_equal_to_the_scale():
    net = models.orthogonal_rnn(1.3, seed=4)
    singular = torch.linalg.svdvals(net.cell.weight_hh.detach().double())
    assert torch.allclose(singular, torch.full_like(singular, 1.3), atol=1e-5)
    again = models.orthogonal_rnn(1.3, seed=4)
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), again.parameters(), strict=True))
    assert net.cell_type == "relu" and net.hidden_size == 32
    for scale, cell in ((0.0, "relu"), (-1.0, "relu"), (True, "relu"), (1.0, "lstm")):
        with pytest.raises(ValueError):
            models.orthogonal_rnn(scale, cell=cell)
