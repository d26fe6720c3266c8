"""SkipRNN and AttentionRNN: their recurrences against loops written here, the gradient paths
they add (checked through `diagnostics.hidden_grad_norms`), and their argument errors."""

import numpy as np
import pytest
import torch

from helpers import diagnostics, models, tasks

MSE = torch.nn.functional.mse_loss


def softmax_attention(query, keys, values):
    """Scaled dot-product attention over time, written out: (context (B, H), weights (T, B))."""
    scores = torch.einsum("tbh,bh->tb", keys, query) / keys.shape[-1] ** 0.5
    weights = torch.softmax(scores, dim=0)
    return torch.einsum("tb,tbh->bh", weights, values), weights


def sdpa_context(query, keys, values):
    """The same context from torch's fused kernel, (B, H) only."""
    out = torch.nn.functional.scaled_dot_product_attention(
        query.unsqueeze(1), keys.transpose(0, 1), values.transpose(0, 1)
    )
    return out.squeeze(1)


@pytest.mark.parametrize("cell, phi", [("tanh", torch.tanh), ("relu", torch.relu)])
def test_skip_rnn_follows_its_recurrence(cell, phi):
    torch.manual_seed(0)
    model = models.SkipRNN(3, 5, 2, skip=3, cell=cell).double()
    xs = torch.randn(8, 4, 3, dtype=torch.float64)
    output, hiddens = model(xs)
    c, k = model.cell, 3
    hs = [torch.zeros(4, 5, dtype=torch.float64)]  # hs[t] is h_t, h_0 = 0
    for t in range(1, 9):
        back = hs[t - k] if t - k >= 1 else torch.zeros(4, 5, dtype=torch.float64)
        hs.append(
            phi(
                xs[t - 1] @ c.weight_ih.T
                + c.bias_ih
                + hs[t - 1] @ c.weight_hh.T
                + c.bias_hh
                + back @ model.weight_skip.T
            )
        )
    assert len(hiddens) == 8 and output.shape == (4, 2)
    torch.testing.assert_close(torch.stack(hiddens), torch.stack(hs[1:]))
    torch.testing.assert_close(output, model.head(hs[-1]))


def test_skip_rnn_without_its_skip_weights_is_the_plain_rnn():
    torch.manual_seed(0)
    skip = models.SkipRNN(2, 6, 1, skip=4, readout="all")
    plain = models.SequenceModel(2, 6, 1, readout="all")
    plain.load_state_dict({k: v for k, v in skip.state_dict().items() if k != "weight_skip"})
    with torch.no_grad():
        skip.weight_skip.zero_()
    xs, _ = tasks.adding_problem(3, 11, seed=0)
    torch.testing.assert_close(skip(xs)[0], plain(xs)[0])
    bound = 1 / np.sqrt(6)
    fresh = models.SkipRNN(2, 6, 1, skip=4).weight_skip.detach()
    assert fresh.shape == (6, 6) and float(fresh.abs().max()) <= bound


@pytest.mark.parametrize("k", [2, 5])
def test_without_w_hh_the_gradient_reaches_only_multiples_of_the_skip(k):
    torch.manual_seed(1)
    T = 13
    model = models.SkipRNN(2, 4, 1, skip=k).double()
    with torch.no_grad():
        model.cell.weight_hh.zero_()
    inputs, targets = tasks.adding_problem(3, T, seed=1)
    norms = diagnostics.hidden_grad_norms(model, inputs.double(), targets.double(), MSE)
    reached = {t for t in range(1, T + 1) if norms[t - 1] > 0}
    assert reached == {t for t in range(1, T + 1) if (T - t) % k == 0}


def test_skip_shortens_the_path_of_a_vanishing_tanh_rnn():
    torch.manual_seed(0)
    plain = models.SequenceModel(2, 16, 1)
    skip = models.SkipRNN(2, 16, 1, skip=10)
    skip.load_state_dict(
        {**plain.state_dict(), "weight_skip": plain.cell.weight_hh.detach()}, strict=True
    )
    inputs, targets = tasks.adding_problem(8, 60, seed=0)
    ratio = {
        name: diagnostics.gradient_ratio(
            diagnostics.hidden_grad_norms(net.double(), inputs.double(), targets.double(), MSE)
        )
        for name, net in (("plain", plain), ("skip", skip))
    }
    assert ratio["skip"] > 1e3 * ratio["plain"]


def test_attention_rnn_computes_its_readout():
    torch.manual_seed(0)
    model = models.AttentionRNN(3, 5, 2, attention=softmax_attention).double()
    xs = torch.randn(7, 4, 3, dtype=torch.float64)
    output, hiddens = model(xs)
    states = torch.stack(hiddens)
    plain = models.SequenceModel(3, 5, 2).double()
    plain.cell.load_state_dict(model.cell.state_dict())
    torch.testing.assert_close(states, torch.stack(plain(xs)[1]))
    context, weights = softmax_attention(model.query(hiddens[-1]), states, states)
    torch.testing.assert_close(output, model.head(torch.cat([context, hiddens[-1]], dim=1)))
    torch.testing.assert_close(model.last_weights, weights)
    assert weights.shape == (7, 4)


def test_attention_rnn_accepts_a_context_only_function():
    torch.manual_seed(0)
    pair = models.AttentionRNN(2, 6, 1, attention=softmax_attention, cell="lstm").double()
    single = models.AttentionRNN(2, 6, 1, attention=sdpa_context, cell="lstm").double()
    single.load_state_dict(pair.state_dict())
    xs, _ = tasks.adding_problem(3, 9, seed=0)
    torch.testing.assert_close(single(xs.double())[0], pair(xs.double())[0])
    assert single.last_weights is None


def test_attention_gives_every_step_a_path_of_length_one():
    torch.manual_seed(0)
    T = 12
    model = models.AttentionRNN(2, 4, 1, attention=softmax_attention).double()
    plain = models.SequenceModel(2, 4, 1).double()
    for net in (model, plain):
        with torch.no_grad():
            net.cell.weight_hh.zero_()
    inputs, targets = tasks.adding_problem(3, T, seed=2)
    inputs, targets = inputs.double(), targets.double()
    assert np.all(diagnostics.hidden_grad_norms(model, inputs, targets, MSE) > 0)
    assert np.count_nonzero(diagnostics.hidden_grad_norms(plain, inputs, targets, MSE)) == 1


def test_bad_arguments_of_the_new_models():
    with pytest.raises(ValueError, match="skip"):
        models.SkipRNN(2, 4, 1, skip=1)
    with pytest.raises(ValueError, match="cell"):
        models.SkipRNN(2, 4, 1, skip=3, cell="lstm")
    with pytest.raises(ValueError, match="time-major"):
        models.SkipRNN(2, 4, 1, skip=3)(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="attention"):
        models.AttentionRNN(2, 4, 1, attention=None)
    bad = models.AttentionRNN(2, 4, 1, attention=lambda q, k, v: v)
    with pytest.raises(ValueError, match="context"):
        bad(torch.zeros(5, 3, 2))
