"""Known mistakes of notebook 07_lstm_gru: the catalogue that diagnosis and the mutation tests read.

See instructor/diagnosis/catalogue.py for what an entry holds, and CONTRIBUTING.md for how to
add one.

### MISTAKE CATALOGUE: instructor material, never published
"""

from instructor.diagnosis.catalogue import Mistake


def _lstm(gates: str = "i, f, g, o = s(z[:, :H]), s(z[:, H:2*H]), np.tanh(z[:, 2*H:3*H]), "
                       "s(z[:, 3*H:])",
          h: str = "o * np.tanh(c)", z: str = "x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh",
          sigmoid: str = "0.5 * (1 + np.tanh(0.5 * a))") -> str:
    """An lstm_cell_forward with one part changed (the model solution when nothing is)."""
    return ("def lstm_cell_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):\n"
            "    H = h_prev.shape[1]\n"
            f"    s = lambda a: {sigmoid}\n"
            f"    z = {z}\n"
            f"    {gates}\n"
            "    c = f * c_prev + i * g\n"
            f"    return {h}, c\n")


def _gru(h: str = "(1 - z) * n + z * h_prev", n: str = "np.tanh(gi[:, 2*H:] + r * gh[:, 2*H:])",
         rz: str = "r, z = s(gi[:, :H] + gh[:, :H]), s(gi[:, H:2*H] + gh[:, H:2*H])",
         sigmoid: str = "0.5 * (1 + np.tanh(0.5 * a))") -> str:
    """A gru_cell_forward with one part changed (the model solution when nothing is)."""
    return ("def gru_cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):\n"
            "    H = h_prev.shape[1]\n"
            f"    s = lambda a: {sigmoid}\n"
            "    gi, gh = x @ W_ih.T + b_ih, h_prev @ W_hh.T + b_hh\n"
            f"    {rz}\n"
            f"    n = {n}\n"
            f"    return {h}\n")


_LSTM_BACKWARD = {
    "forward": "    H = h_prev.shape[1]\n"
               "    s = lambda a: 0.5 * (1 + np.tanh(0.5 * a))\n"
               "    z = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh\n"
               "    i, f, o = s(z[:, :H]), s(z[:, H:2*H]), s(z[:, 3*H:])\n"
               "    g = np.tanh(z[:, 2*H:3*H])\n"
               "    c = f * c_prev + i * g\n"
               "    tc = np.tanh(c)\n",
    "dc_t": "    dc_t = dc + dh * o * (1 - tc ** 2)\n",
    "dzi": "    dzi = dc_t * g * i * (1 - i)\n",
    "dzf": "    dzf = dc_t * c_prev * f * (1 - f)\n",
    "dzg": "    dzg = dc_t * i * (1 - g ** 2)\n",
    "dzo": "    dzo = dh * tc * o * (1 - o)\n",
    "dz": "    dz = np.concatenate([dzi, dzf, dzg, dzo], axis=1)\n",
    "dc_prev": "    dc_prev = dc_t * f\n",
    "db": "    db = dz.sum(axis=0)\n",
    "return": "    return {'x': dz @ W_ih, 'h_prev': dz @ W_hh, 'c_prev': dc_prev, "
              "'W_ih': dz.T @ x,\n"
              "            'W_hh': dz.T @ h_prev, 'b_ih': db, 'b_hh': db}\n",
}


def _lstm_backward(**changes: str) -> str:
    """An lstm_cell_backward with some lines changed (the model solution when none is)."""
    return ("def lstm_cell_backward(dh, dc, x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):\n"
            + "".join(changes.get(k, v) for k, v in _LSTM_BACKWARD.items()))


def _cell_path(body: str) -> str:
    return ("def cell_state_gradient(forget_gates):\n"
            "    f = np.asarray(forget_gates, dtype=float)\n"
            "    ones = np.ones((1, f.shape[1]))\n" + body)


MISTAKES = [
    # ---- lstm_cell_forward
    Mistake('lstm_cell_forward', 'float32_result',
            'float32 result',
            hint='Keep float64 throughout: float32 keeps about 7 digits, too few for the checks.',
            source=_lstm(h="(o * np.tanh(c)).astype(np.float32)").replace(
                "return (o * np.tanh(c)).astype(np.float32), c",
                "return (o * np.tanh(c)).astype(np.float32), c.astype(np.float32)"),
            # the grader's replay compares a float32 result at float32's tolerance, where it
            # agrees with the right answer: its visible check names it (the dtype), replay cannot
            diagnosable=False),
    Mistake('lstm_cell_forward', 'no_tanh_on_the_cell_output',
            'no tanh on the cell output',
            hint='The new hidden state is h = o * tanh(c).',
            source=_lstm(h="o * c"),
            roundtrip=True),
    Mistake('lstm_cell_forward', 'gates_read_as_i_f_o_g',
            'gates read as i, f, o, g',
            hint="PyTorch stacks the LSTM's pre-activations in the order i, f, g, o.",
            source=_lstm(gates="i, f, o, g = s(z[:, :H]), s(z[:, H:2*H]), s(z[:, 2*H:3*H]), "
                                  "np.tanh(z[:, 3*H:])")),
    Mistake('lstm_cell_forward', 'input_and_forget_gates_swapped',
            'input and forget gates swapped',
            hint="PyTorch stacks the LSTM's pre-activations in the order i, f, g, o: i comes first.",
            source=_lstm(gates="f, i, g, o = s(z[:, :H]), s(z[:, H:2*H]), np.tanh(z[:, 2*H:3*H]), "
                                  "s(z[:, 3*H:])")),
    Mistake('lstm_cell_forward', 'sigmoid_instead_of_tanh_on_the',
            'sigmoid instead of tanh on the candidate g',
            hint='The gates i, f, o use sigmoid; the candidate g uses tanh.',
            source=_lstm(gates="i, f, g, o = s(z[:, :H]), s(z[:, H:2*H]), s(z[:, 2*H:3*H]), "
                                  "s(z[:, 3*H:])")),
    Mistake('lstm_cell_forward', 'b_hh_forgotten',
            'b_hh forgotten',
            hint="PyTorch's cells have two biases, b_ih and b_hh: both go into the pre-activation.",
            source=_lstm(z="x @ W_ih.T + b_ih + h_prev @ W_hh.T")),
    Mistake('lstm_cell_forward', 'h_from_the_previous_cell_state',
            'h from the previous cell state',
            hint='h uses the NEW cell state: h = o * tanh(c), with c = f * c_prev + i * g.',
            source=_lstm(h="o * np.tanh(c_prev)")),
    Mistake('lstm_cell_forward', 'weights_not_transposed',
            'weights not transposed',
            hint='With row vectors, x (B, D) meets W_ih (4H, D) through its transpose.',
            source=_lstm(z="x @ W_ih + b_ih + h_prev @ W_hh + b_hh")),
    Mistake('lstm_cell_forward', 'sigmoid_that_overflows',
            'sigmoid that overflows',
            hint='exp(-a) overflows for very negative a: write sigmoid so that it cannot (for example with tanh).',
            source=_lstm(sigmoid="1 / (1 + np.exp(-a))")),
    Mistake('lstm_cell_forward', 'returns_c_h',
            'returns (c, h) instead of (h, c)',
            hint='torch.nn.LSTMCell returns the hidden state first, then the cell state.',
            source=_lstm().replace("return o * np.tanh(c), c", "return c, o * np.tanh(c)")),
    Mistake('lstm_cell_forward', 'output_gate_as_tanh',
            'output gate as a tanh',
            hint='Of the four blocks only the candidate g is a tanh; the three gates are sigmoids.',
            source=_lstm(gates="i, f, g, o = s(z[:, :H]), s(z[:, H:2*H]), np.tanh(z[:, 2*H:3*H]), "
                               "np.tanh(z[:, 3*H:])")),
    # ---- gru_cell_forward
    Mistake('gru_cell_forward', 'update_written_the_other_way_round',
            'update written the other way round',
            hint="PyTorch's GRU: h = (1 - z) * n + z * h_prev; z keeps the OLD state.",
            source=_gru(h="z * n + (1 - z) * h_prev"),
            roundtrip=True),
    Mistake('gru_cell_forward', 'reset_gate_outside_b_hn',
            'reset gate outside b_hn',
            hint="PyTorch's GRU multiplies r into (h_prev W_hn^T + b_hn): the bias b_hn is inside.",
            source=_gru(n="np.tanh(gi[:, 2*H:] + r * (h_prev @ W_hh[2*H:].T) + b_hh[2*H:])")),
    Mistake('gru_cell_forward', 'gates_read_as_z_r_n',
            'gates read as z, r, n',
            hint="PyTorch stacks the GRU's pre-activations in the order r, z, n.",
            source=_gru(rz="z, r = s(gi[:, :H] + gh[:, :H]), s(gi[:, H:2*H] + gh[:, H:2*H])")),
    Mistake('gru_cell_forward', 'no_tanh_on_the_candidate',
            'no tanh on the candidate',
            hint='The candidate is n = tanh(...).',
            source=_gru(n="gi[:, 2*H:] + r * gh[:, 2*H:]")),
    Mistake('gru_cell_forward', 'reset_applied_before_the_matrix_the',
            'reset applied before the matrix (the 2014 paper)',
            hint="PyTorch's GRU applies r after the matrix product: r * (h_prev W_hn^T + b_hn), not (r * h_prev) W_hn^T.",
            source=_gru(n="np.tanh(gi[:, 2*H:] + (r * h_prev) @ W_hh[2*H:].T + b_hh[2*H:])")),
    Mistake('gru_cell_forward', 'sigmoid_that_overflows_2',
            'sigmoid that overflows',
            hint='exp(-a) overflows for very negative a: write sigmoid so that it cannot (for example with tanh).',
            source=_gru(sigmoid="1 / (1 + np.exp(-a))")),
    # ---- lstm_cell_backward
    Mistake('lstm_cell_backward', 'forgot_the_path_through_h_t_into_c_t',
            'forgot the path through h_t into c_t',
            hint='c_t also reaches the loss through h_t = o * tanh(c_t): add dh * o * (1 - tanh(c_t)**2).',
            source=_lstm_backward(dc_t="    dc_t = dc\n"),
            roundtrip=True),
    Mistake('lstm_cell_backward', 'tanh_c_forgotten_on_the_path_through',
            "tanh'(c) forgotten on the path through h_t",
            hint="h_t = o * tanh(c_t): the path through h_t carries tanh's derivative, 1 - tanh(c_t)**2.",
            source=_lstm_backward(dc_t="    dc_t = dc + dh * o\n")),
    Mistake('lstm_cell_backward', 'c_t_instead_of_c_t_1_for_the_forget',
            'c_t instead of c_(t-1) for the forget gate',
            hint='c_t = f * c_(t-1) + i * g: f multiplies the PREVIOUS cell state.',
            source=_lstm_backward(dzf="    dzf = dc_t * c * f * (1 - f)\n"),
            roundtrip=True),
    Mistake('lstm_cell_backward', 'sigmoid_written_as_s_instead_of_s_1',
            "sigmoid' written as s instead of s(1 - s)",
            hint='The derivative of sigmoid is s (1 - s).',
            source=_lstm_backward(dzi="    dzi = dc_t * g * i\n", dzf="    dzf = dc_t * c_prev * f\n",
                                     dzo="    dzo = dh * tc * o\n")),
    Mistake('lstm_cell_backward', 'output_gate_sigmoid_written_as_o',
            "output gate: sigmoid' written as o",
            hint="The derivative of the output gate's sigmoid is o (1 - o).",
            source=_lstm_backward(dzo="    dzo = dh * tc * o\n")),
    Mistake('lstm_cell_backward', 'gates_stacked_f_i_g_o',
            'gates stacked f, i, g, o',
            hint="Stack the pre-activation gradients in PyTorch's order: i, f, g, o.",
            source=_lstm_backward(dz="    dz = np.concatenate([dzf, dzi, dzg, dzo], axis=1)\n"),
            roundtrip=True),
    Mistake('lstm_cell_backward', 'forgot_dc_prev_dc_t_f',
            'forgot dc_prev = dc_t * f',
            hint='c_t = f * c_(t-1) + ...: the gradient reaching c_(t-1) is multiplied by f.',
            source=_lstm_backward(dc_prev="    dc_prev = dc_t\n")),
    Mistake('lstm_cell_backward', 'dc_prev_from_the_upstream_dc_only',
            'dc_prev from the upstream dc only',
            hint='The gradient reaching c_(t-1) is the whole gradient on c_t (both paths) times f.',
            source=_lstm_backward(dc_prev="    dc_prev = dc * f\n")),
    Mistake('lstm_cell_backward', 'tanh_of_g_taken_at_its_pre',
            "tanh' of g taken at its pre-activation",
            hint="tanh's derivative is 1 - g**2 with g = tanh(pre-activation), the gate's value.",
            source=_lstm_backward(dzg="    dzg = dc_t * i * (1 - z[:, 2*H:3*H] ** 2)\n")),
    Mistake('lstm_cell_backward', 'the_output_gate_s_gradient_with_tanh',
            "the output gate's gradient with tanh(c_prev)",
            hint='h_t = o * tanh(c_t): the output gate sees the NEW cell state.',
            source=_lstm_backward(dzo="    dzo = dh * np.tanh(c_prev) * o * (1 - o)\n")),
    Mistake('lstm_cell_backward', 'bias_gradients_averaged_over_the',
            'bias gradients averaged over the batch',
            hint='The loss adds up over the batch, so the bias gradients add up too.',
            source=_lstm_backward(db="    db = dz.mean(axis=0)\n")),
    Mistake('lstm_cell_backward', 'dw_hh_from_the_new_h_t_not_h_t_1',
            'dW_hh from the new h_t, not h_(t-1)',
            hint='The pre-activation uses h_(t-1) W_hh^T: its weight gradient multiplies by h_(t-1).',
            source=_lstm_backward(**{"return": "    return {'x': dz @ W_ih, 'h_prev': dz @ W_hh, "
                                                  "'c_prev': dc_prev, 'W_ih': dz.T @ x,\n"
                                                  "            'W_hh': dz.T @ (o * tc), 'b_ih': db, "
                                                  "'b_hh': db}\n"})),
    Mistake('lstm_cell_backward', 'b_hh_s_gradient_left_at_zero',
            "b_hh's gradient left at zero",
            hint='b_hh enters the pre-activation like b_ih: it gets the same gradient.',
            source=_lstm_backward(**{"return": "    return {'x': dz @ W_ih, 'h_prev': dz @ W_hh, "
                                                  "'c_prev': dc_prev, 'W_ih': dz.T @ x,\n"
                                                  "            'W_hh': dz.T @ h_prev, 'b_ih': db, "
                                                  "'b_hh': np.zeros_like(b_hh)}\n"})),
    Mistake('lstm_cell_backward', 'sigmoid_that_overflows_3',
            'sigmoid that overflows',
            hint='exp(-a) overflows for very negative a: write sigmoid so that it cannot (for example with tanh).',
            source=_lstm_backward(forward=_LSTM_BACKWARD["forward"].replace(
                "0.5 * (1 + np.tanh(0.5 * a))", "1 / (1 + np.exp(-a))"))),
    Mistake('lstm_cell_backward', 'right_values_computed_by_torch_autograd',
            'right values, computed by torch autograd instead of numpy',
            hint='This exercise is written from scratch in numpy; torch is the oracle that checks it.',
            source="def lstm_cell_backward(dh, dc, x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):\n"
                   "    names = ('x', 'h_prev', 'c_prev', 'W_ih', 'W_hh', 'b_ih', 'b_hh')\n"
                   "    t = {k: torch.tensor(v, requires_grad=True) for k, v in\n"
                   "         zip(names, (x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh))}\n"
                   "    H = h_prev.shape[1]\n"
                   "    z = t['x'] @ t['W_ih'].T + t['b_ih'] + t['h_prev'] @ t['W_hh'].T + t['b_hh']\n"
                   "    i, f = torch.sigmoid(z[:, :H]), torch.sigmoid(z[:, H:2*H])\n"
                   "    g, o = torch.tanh(z[:, 2*H:3*H]), torch.sigmoid(z[:, 3*H:])\n"
                   "    c = f * t['c_prev'] + i * g\n"
                   "    h = o * torch.tanh(c)\n"
                   "    grads = torch.autograd.grad((h, c), list(t.values()),\n"
                   "                                (torch.from_numpy(dh), torch.from_numpy(dc)))\n"
                   "    return {k: gr.numpy() for k, gr in zip(names, grads)}\n"),
    # ---- cell_state_gradient
    Mistake('cell_state_gradient', 'products_from_the_start_instead_of',
            'products from the start instead of the end',
            hint='Row k is f_(k+1) * ... * f_T: the product runs from step k + 1 to the END.',
            source=_cell_path("    return np.concatenate([ones, np.cumprod(f, axis=0)])\n"),
            roundtrip=True),
    Mistake('cell_state_gradient', 'the_row_of_ones_at_the_start_off_by',
            'the row of ones at the start (off by one)',
            hint='Row T is the empty product, all ones: it goes at the end.',
            source=_cell_path("    return np.concatenate([ones, np.cumprod(f[::-1], axis=0)[::-1]])\n")),
    Mistake('cell_state_gradient', 'rows_k_0_t_1_only',
            'rows k = 0..T-1 only',
            hint='Return T + 1 rows: row T is the empty product, all ones.',
            source=_cell_path("    return np.cumprod(f[::-1], axis=0)[::-1]\n")),
    Mistake('cell_state_gradient', 'sums_instead_of_products',
            'sums instead of products',
            hint='Along the cell path the gains multiply: a product of forget gates.',
            source=_cell_path("    return np.concatenate([np.cumsum(f[::-1], axis=0)[::-1], ones])\n")),
    Mistake('cell_state_gradient', 'overwrites_the_forget_gates',
            'overwrites the forget gates',
            hint='Leave forget_gates unchanged: compute the products in a new array.',
            source="def cell_state_gradient(forget_gates):\n"
                      "    f = forget_gates\n"
                      "    for t in range(f.shape[0] - 2, -1, -1):\n"
                      "        f[t] *= f[t + 1]\n"
                      "    return np.concatenate([f, np.ones((1, f.shape[1]))])\n"),
    Mistake('cell_state_gradient', 'averaged_over_the_units',
            'averaged over the units',
            hint='Keep one gain per unit: shape (T + 1, H).',
            source=_cell_path("    p = np.concatenate([np.cumprod(f[::-1], axis=0)[::-1], ones])\n"
                                 "    return p.mean(axis=1)\n")),
    Mistake('cell_state_gradient', 'right_values_computed_by_torch',
            'right values, computed by torch instead of numpy',
            hint='This exercise is written from scratch in numpy; torch is the oracle that checks it.',
            source="def cell_state_gradient(forget_gates):\n"
                   "    f = torch.from_numpy(np.asarray(forget_gates, dtype=np.float64))\n"
                   "    suffix = torch.flip(torch.cumprod(torch.flip(f, [0]), 0), [0])\n"
                   "    return torch.cat([suffix, torch.ones(1, f.shape[1], dtype=f.dtype)]).numpy()\n"),
]
