"""Known mistakes of notebook 01_bptt: the catalogue that diagnosis and the mutation tests read.

See instructor/catalogue.py for what an entry holds and CONTRIBUTING.md for how to add one.

### MISTAKE CATALOGUE: instructor material, never published
"""

from instructor.catalogue import Mistake


def _backward(body: str) -> str:
    return ("def rnn_backward(dhs, xs, hs, h0, W_xh, W_hh, b_h):\n"
            "    grads = {'W_xh': np.zeros_like(W_xh), 'W_hh': np.zeros_like(W_hh),"
            " 'b_h': np.zeros_like(b_h)}\n"
            "    dh_next = np.zeros_like(h0)\n"
            "    for t in reversed(range(xs.shape[0])):\n"
            "        h_prev = hs[t - 1] if t > 0 else h0\n"
            + body +
            "    grads['h0'] = dh_next\n"
            "    return grads\n")


_GOOD_LOOP = {
    "da": "        da = (dhs[t] + dh_next) * (1.0 - hs[t] ** 2)\n",
    "xh": "        grads['W_xh'] += da.T @ xs[t]\n",
    "hh": "        grads['W_hh'] += da.T @ h_prev\n",
    "b": "        grads['b_h'] += da.sum(axis=0)\n",
    "next": "        dh_next = da @ W_hh\n",
}


def _loop(**changes: str) -> str:
    return _backward("".join(changes.get(k, v) for k, v in _GOOD_LOOP.items()))


def _numgrad(body: str) -> str:
    return "def numerical_gradient(f, x, eps=1e-5):\n" + body


MISTAKES = [
    # ---- rnn_step_forward
    Mistake('rnn_step_forward', 'w_hh_not_transposed',
            'W_hh not transposed',
            source="def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
                      "    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh + b_h)\n"),
    Mistake('rnn_step_forward', 'bias_forgotten',
            'bias forgotten',
            source="def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
                      "    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T)\n"),
    Mistake('rnn_step_forward', 'tanh_applied_to_the_input_term_only',
            'tanh applied to the input term only',
            source="def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
                      "    return np.tanh(x_t @ W_xh.T) + h_prev @ W_hh.T + b_h\n"),
    Mistake('rnn_step_forward', 'right_values_computed_by_torch',
            'right values, computed by torch instead of numpy',
            source="def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
                      "    t = torch.from_numpy\n"
                      "    return torch.tanh(t(x_t) @ t(W_xh).T + t(h_prev) @ t(W_hh).T + t(b_h)).numpy()\n"),
    # ---- rnn_forward
    Mistake('rnn_forward', 'h0_included_in_the_returned_states',
            'h0 included in the returned states',
            source="def rnn_forward(xs, h0, W_xh, W_hh, b_h):\n"
                      "    hs = [h0]\n"
                      "    for x_t in xs:\n"
                      "        hs.append(rnn_step_forward(x_t, hs[-1], W_xh, W_hh, b_h))\n"
                      "    return np.stack(hs)\n"),
    Mistake('rnn_forward', 'every_step_starts_from_h0',
            'every step starts from h0',
            source="def rnn_forward(xs, h0, W_xh, W_hh, b_h):\n"
                      "    return np.stack([rnn_step_forward(x_t, h0, W_xh, W_hh, b_h) for x_t in xs])\n"),
    Mistake('rnn_forward', 'only_the_last_state_returned',
            'only the last state returned',
            source="def rnn_forward(xs, h0, W_xh, W_hh, b_h):\n"
                      "    h = h0\n"
                      "    for x_t in xs:\n"
                      "        h = rnn_step_forward(x_t, h, W_xh, W_hh, b_h)\n"
                      "    return h\n"),
    # ---- rnn_backward
    Mistake('rnn_backward', 'tanh_derivative_missed',
            'tanh derivative missed',
            source=_loop(da="        da = dhs[t] + dh_next\n"),
            roundtrip=True),
    Mistake('rnn_backward', 'gradient_not_carried_to_the_previous',
            'gradient not carried to the previous step',
            source=_loop(da="        da = dhs[t] * (1.0 - hs[t] ** 2)\n"),
            roundtrip=True),
    Mistake('rnn_backward', 'w_hh_transposed_in_the_backward',
            'W_hh transposed in the backward recurrence',
            source=_loop(next="        dh_next = da @ W_hh.T\n"),
            roundtrip=True),
    Mistake('rnn_backward', 'current_state_h_t_used_for_dw_hh',
            'current state h_t used for dW_hh instead of h_{t-1}',
            source=_loop(hh="        grads['W_hh'] += da.T @ hs[t]\n")),
    Mistake('rnn_backward', 'bias_gradient_averaged_over_the',
            'bias gradient averaged over the batch',
            source=_loop(b="        grads['b_h'] += da.mean(axis=0)\n")),
    Mistake('rnn_backward', 'tanh_derivative_taken_at_the',
            'tanh derivative taken at the previous state',
            source=_loop(da="        da = (dhs[t] + dh_next) * (1.0 - h_prev ** 2)\n")),
    Mistake('rnn_backward', 'dhs_modified_in_place',
            'dhs modified in place',
            source=_loop(da="        dh = dhs[t]\n        dh += dh_next\n"
                               "        da = dh * (1.0 - hs[t] ** 2)\n")),
    Mistake('rnn_backward', 'gradient_of_h0_left_at_zero',
            'gradient of h0 left at zero',
            source=_loop().replace("grads['h0'] = dh_next", "grads['h0'] = np.zeros_like(h0)")),
    Mistake('rnn_backward', 'dw_xh_from_batch_sums_outer_product',
            'dW_xh from batch sums (outer product of the sums)',
            source=_loop(xh="        grads['W_xh'] += np.outer(da.sum(axis=0), xs[t].sum(axis=0))\n")),
    # ---- numerical_gradient
    Mistake('numerical_gradient', 'forward_difference_instead_of',
            'forward difference instead of central',
            source=_numgrad("    grad = np.zeros_like(x)\n"
                               "    f0 = f(x)\n"
                               "    for i in np.ndindex(x.shape):\n"
                               "        old = x[i]; x[i] = old + eps\n"
                               "        grad[i] = (f(x) - f0) / eps; x[i] = old\n"
                               "    return grad\n")),
    Mistake('numerical_gradient', 'x_not_restored',
            'x not restored',
            source=_numgrad("    grad = np.zeros_like(x)\n"
                               "    for i in np.ndindex(x.shape):\n"
                               "        old = x[i]; x[i] = old + eps; fp = f(x); x[i] = old - eps; fm = f(x)\n"
                               "        grad[i] = (fp - fm) / (2 * eps)\n"
                               "    return grad\n")),
    Mistake('numerical_gradient', 'eps_argument_ignored',
            'eps argument ignored',
            source=_numgrad("    grad = np.zeros_like(x)\n"
                               "    h = 1e-5\n"
                               "    for i in np.ndindex(x.shape):\n"
                               "        old = x[i]; x[i] = old + h; fp = f(x); x[i] = old - h; fm = f(x)\n"
                               "        x[i] = old; grad[i] = (fp - fm) / (2 * h)\n"
                               "    return grad\n")),
    Mistake('numerical_gradient', 'indexes_rows_only_right_for_1_d_x',
            'indexes rows, only right for 1-D x',
            source=_numgrad("    grad = np.zeros_like(x)\n"
                               "    for i in range(x.shape[0]):\n"
                               "        old = x[i].copy(); x[i] = old + eps; fp = f(x); x[i] = old - eps\n"
                               "        fm = f(x); x[i] = old; grad[i] = (fp - fm) / (2 * eps)\n"
                               "    return grad\n")),
    # ---- relative_error
    Mistake('relative_error', 'mean_instead_of_max',
            'mean instead of max',
            source="def relative_error(a, b):\n"
                      "    a, b = np.asarray(a, float), np.asarray(b, float)\n"
                      "    return float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))\n"),
    Mistake('relative_error', 'no_1e_8_floor_0_0_gives_nan',
            'no 1e-8 floor (0/0 gives NaN)',
            source="def relative_error(a, b):\n"
                      "    a, b = np.asarray(a, float), np.asarray(b, float)\n"
                      "    with np.errstate(all='ignore'):\n"
                      "        return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))\n"),
    Mistake('relative_error', 'divides_by_a_alone',
            'divides by |a| alone',
            source="def relative_error(a, b):\n"
                      "    a, b = np.asarray(a, float), np.asarray(b, float)\n"
                      "    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a))))\n"),
    Mistake('relative_error', 'ratio_of_maxima_instead_of_max_of',
            'ratio of maxima instead of max of ratios',
            source="def relative_error(a, b):\n"
                      "    a, b = np.asarray(a, float), np.asarray(b, float)\n"
                      "    return float(np.max(np.abs(a - b)) / max(1e-8, np.max(np.abs(a) + np.abs(b))))\n"),
]
