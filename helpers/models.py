"""Small recurrent models that expose every hidden state, for the course's experiments.

Each model's forward takes time-major inputs (T, B, D) and returns (output, hiddens):
`hiddens` is a list of the T hidden-state tensors h_1..h_T, each (B, H), still attached to the
autograd graph, so `helpers.diagnostics` can ask for dL/dh_t at every step in one backward pass.
The recurrence is unrolled in Python (one torch cell call per step) for exactly that reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from helpers import course
from helpers._validate import number, one_of, positive_int

CELLS = ("tanh", "sigmoid", "relu", "leaky_relu", "elu", "lstm", "gru")
FUSED_CELLS = ("tanh", "relu", "lstm", "gru")
# Vanilla cells that nn.RNNCell does not offer: same parameters, this activation instead.
_ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "leaky_relu": nn.functional.leaky_relu,
    "elu": nn.functional.elu,
}
_VANILLA = {"tanh": torch.tanh, "relu": torch.relu, **_ACTIVATIONS}
VANILLA_CELLS = tuple(_VANILLA)
READOUTS = ("last", "all")


class SequenceModel(nn.Module):
    """A one-layer recurrent network with a linear readout.

    cell: "tanh", "sigmoid", "relu", "leaky_relu" (slope 0.01) or "elu" (alpha 1): a vanilla RNN
    h_t = phi(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) in PyTorch's weight layout; or "lstm", "gru".
    readout: "last" maps h_T to output (B, O); "all" maps every h_t to output (T, B, O).
    The vanilla cells keep PyTorch's names: `cell.weight_ih` (H, D), `cell.weight_hh` (H, H),
    `cell.bias_ih`, `cell.bias_hh`.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        cell: str = "tanh",
        readout: str = "last",
    ) -> None:
        super().__init__()
        input_size = positive_int("input_size", input_size)
        self.hidden_size = positive_int("hidden_size", hidden_size)
        output_size = positive_int("output_size", output_size)
        self.cell_type = one_of("cell", cell, CELLS)
        self.readout = one_of("readout", readout, READOUTS)
        if cell == "lstm":
            self.cell: nn.Module = nn.LSTMCell(input_size, hidden_size)
        elif cell == "gru":
            self.cell = nn.GRUCell(input_size, hidden_size)
        else:
            # nn.RNNCell offers tanh and relu; the other vanilla cells reuse its parameters.
            self.cell = nn.RNNCell(
                input_size, hidden_size, nonlinearity="relu" if cell == "relu" else "tanh"
            )
        self.head = nn.Linear(hidden_size, output_size)

    def _step(self, x: torch.Tensor, state):
        if self.cell_type in _ACTIVATIONS:
            c = self.cell
            h = _ACTIVATIONS[self.cell_type](
                x @ c.weight_ih.T + c.bias_ih + state @ c.weight_hh.T + c.bias_hh
            )
            return h, h
        if self.cell_type == "lstm":
            h, c = self.cell(x, state)
            return h, (h, c)
        h = self.cell(x, state)
        return h, h

    def hidden_states(self, inputs: torch.Tensor) -> list[torch.Tensor]:
        """inputs (T, B, D) -> [h_1, ..., h_T], each (B, H), from h_0 = 0 (and c_0 = 0)."""
        _check_time_major(inputs)
        h0 = inputs.new_zeros(inputs.shape[1], self.hidden_size)
        state = (h0, h0.clone()) if self.cell_type == "lstm" else h0
        hiddens = []
        for x in inputs:
            h, state = self._step(x, state)
            hiddens.append(h)
        return hiddens

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """inputs (T, B, D) -> (output, [h_1, ..., h_T]) with each h_t of shape (B, H)."""
        hiddens = self.hidden_states(inputs)
        if self.readout == "last":
            return self.head(hiddens[-1]), hiddens
        return self.head(torch.stack(hiddens)), hiddens


def _check_time_major(inputs: torch.Tensor) -> None:
    if inputs.dim() != 3:
        raise ValueError(f"inputs must be time-major (T, B, D), got shape {tuple(inputs.shape)}")


class SkipRNN(SequenceModel):
    """A vanilla RNN whose state also receives the state k steps back (a skip through time):

        h_t = phi(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh + W_skip h_(t-k)),  h_(t-k) = 0 for t <= k.

    A gradient can then cross T steps through about T/k Jacobians instead of T: the recurrent
    skip coefficient of Zhang et al. (2016). cell: a vanilla cell ("tanh", "relu", ...); the
    parameters are SequenceModel's plus `weight_skip` (H, H), initialised like `weight_hh`
    (uniform on [-1/sqrt(H), 1/sqrt(H)]). forward returns (output, [h_1, ..., h_T]).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        skip: int,
        cell: str = "tanh",
        readout: str = "last",
    ) -> None:
        one_of("cell", cell, VANILLA_CELLS)
        super().__init__(input_size, hidden_size, output_size, cell=cell, readout=readout)
        self.skip = positive_int("skip", skip, minimum=2)
        bound = 1.0 / math.sqrt(self.hidden_size)
        self.weight_skip = nn.Parameter(torch.empty(self.hidden_size, self.hidden_size))
        nn.init.uniform_(self.weight_skip, -bound, bound)

    def hidden_states(self, inputs: torch.Tensor) -> list[torch.Tensor]:
        """inputs (T, B, D) -> [h_1, ..., h_T], each (B, H)."""
        _check_time_major(inputs)
        c, phi = self.cell, _VANILLA[self.cell_type]
        zero = inputs.new_zeros(inputs.shape[1], self.hidden_size)
        hiddens: list[torch.Tensor] = []
        for t, x in enumerate(inputs):  # hiddens[t] is h_(t+1)
            prev = hiddens[-1] if hiddens else zero
            back = hiddens[t - self.skip] if t >= self.skip else zero
            hiddens.append(
                phi(
                    x @ c.weight_ih.T
                    + c.bias_ih
                    + prev @ c.weight_hh.T
                    + c.bias_hh
                    + back @ self.weight_skip.T
                )
            )
        return hiddens


class AttentionRNN(SequenceModel):
    """A recurrent network whose readout attends over all its hidden states.

    q = W_q h_T + b_q (B, H); context = attention(q, states, states) with states (T, B, H) the
    stacked h_1..h_T; output = head([context, h_T]) (B, O). Every h_t reaches the output through
    the attention in one step, whatever T is. `attention(query (B, H), keys (T, B, H),
    values (T, B, H))` must be differentiable torch code returning the context (B, H), or a pair
    (context, weights) of which the context is used: the notebooks pass their own (this module
    holds no attention function). cell: any of SequenceModel's cells. forward returns
    (output, [h_1, ..., h_T]); the last weights are kept in `last_weights` when the attention
    returns them.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        attention: Callable,
        cell: str = "tanh",
    ) -> None:
        super().__init__(input_size, hidden_size, output_size, cell=cell, readout="last")
        if not callable(attention):
            raise ValueError(
                "attention must be a function (query, keys, values) -> context, "
                f"got {type(attention).__name__}"
            )
        self.attention = attention
        self.query = nn.Linear(self.hidden_size, self.hidden_size)
        self.head = nn.Linear(2 * self.hidden_size, output_size)
        self.last_weights: torch.Tensor | None = None

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """inputs (T, B, D) -> (output (B, O), [h_1, ..., h_T])."""
        hiddens = self.hidden_states(inputs)
        states = torch.stack(hiddens)
        found = self.attention(self.query(hiddens[-1]), states, states)
        context, self.last_weights = found if isinstance(found, tuple | list) else (found, None)
        if context.shape != hiddens[-1].shape:
            raise ValueError(
                f"attention returned a context of shape {tuple(context.shape)}, "
                f"expected (B, H) = {tuple(hiddens[-1].shape)}"
            )
        return self.head(torch.cat([context, hiddens[-1]], dim=1)), hiddens


def orthogonal_rnn(
    scale: float,
    cell: str = "relu",
    input_size: int = 2,
    hidden_size: int = 32,
    output_size: int = 1,
    seed: int = 0,
) -> SequenceModel:
    """A SequenceModel whose W_hh is `scale` times a random orthogonal matrix, so that every
    singular value of W_hh equals `scale`: the exploding-regime networks of notebooks 03 and 05.

    Seeded with course.manual_seed(seed) before the model is built, so runs are reproducible.
    """
    number("scale", scale, positive=True)
    one_of("cell", cell, ("tanh", "sigmoid", "relu"))  # the cells with one W_hh to scale
    course.manual_seed(seed)
    net = SequenceModel(input_size, hidden_size, output_size, cell=cell)
    with torch.no_grad():
        nn.init.orthogonal_(net.cell.weight_hh)
        net.cell.weight_hh.mul_(scale)
    return net


class FusedSequenceModel(nn.Module):
    """The network of SequenceModel(readout="last") on PyTorch's fused nn.RNN / nn.LSTM / nn.GRU.

    The whole sequence runs in one call, which trains several times faster on a CPU (about 4x
    for the LSTM), but no hidden state h_t is part of the graph on its own, so the gradient
    diagnostics cannot see them: for those, `unrolled()` gives a SequenceModel with the same
    weights. cell: "tanh", "relu", "lstm" or "gru". forward(inputs (T, B, D)) returns
    (output (B, O), hidden states (T, B, H)); `rnn` is the fused module (`rnn.weight_hh_l0`, ...).
    """

    def __init__(
        self, input_size: int, hidden_size: int, output_size: int, cell: str = "tanh"
    ) -> None:
        super().__init__()
        input_size = positive_int("input_size", input_size)
        self.hidden_size = positive_int("hidden_size", hidden_size)
        output_size = positive_int("output_size", output_size)
        self.cell_type = one_of("cell", cell, FUSED_CELLS)
        if cell == "lstm":
            self.rnn: nn.Module = nn.LSTM(input_size, hidden_size)
        elif cell == "gru":
            self.rnn = nn.GRU(input_size, hidden_size)
        else:
            self.rnn = nn.RNN(input_size, hidden_size, nonlinearity=cell)
        self.head = nn.Linear(hidden_size, output_size)

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """inputs (T, B, D) -> (output (B, O), hidden states (T, B, H))."""
        _check_time_major(inputs)
        states, _ = self.rnn(inputs)
        return self.head(states[-1]), states

    def unrolled(self) -> SequenceModel:
        """A SequenceModel (one cell call per step) holding copies of these weights."""
        copy = SequenceModel(
            self.rnn.input_size, self.hidden_size, self.head.out_features, cell=self.cell_type
        ).to(self.head.weight)
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(copy.cell, name).copy_(getattr(self.rnn, f"{name}_l0"))
            copy.head.load_state_dict(self.head.state_dict())
        return copy


class CharLanguageModel(nn.Module):
    """A character-level language model: an embedding, one fused recurrent layer and a linear
    readout at every step, for truncated BPTT on real text (`helpers.text`).

    cell: "tanh" (nn.RNN), "lstm" or "gru". forward(ids (K, B) int64, state=None) returns
    (logits (K, B, V), state), where `state` is the recurrent state after the last step (h, or
    (h, c) for the LSTM), to pass to the next chunk (detached: the truncation). The hidden
    states are not exposed one by one: use the gradient-norm log of the training loop.
    """

    def __init__(
        self, vocab_size: int, hidden_size: int, cell: str = "tanh", embedding_size: int = 16
    ) -> None:
        super().__init__()
        vocab_size = positive_int("vocab_size", vocab_size, minimum=2)
        self.hidden_size = positive_int("hidden_size", hidden_size)
        embedding_size = positive_int("embedding_size", embedding_size)
        self.cell_type = one_of("cell", cell, ("tanh", "lstm", "gru"))
        self.embed = nn.Embedding(vocab_size, embedding_size)
        recurrent = {"tanh": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = recurrent(embedding_size, hidden_size)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids: torch.Tensor, state=None):
        """ids (K, B) -> (logits (K, B, V), state after step K)."""
        if ids.dim() != 2 or ids.dtype != torch.long:
            raise ValueError(
                f"ids must be an int64 tensor (K, B) of character ids, got "
                f"{ids.dtype} of shape {tuple(ids.shape)}"
            )
        states, state = self.rnn(self.embed(ids), state)
        return self.head(states), state
