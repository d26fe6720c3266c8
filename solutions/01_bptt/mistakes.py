"""Known mistakes of notebook 01_bptt: the catalogue that diagnosis and the mutation tests read.

See instructor/diagnosis/catalogue.py for what an entry holds, and CONTRIBUTING.md for how to
add one.

### MISTAKE CATALOGUE: instructor material, never published
"""

from instructor.diagnosis.catalogue import Mistake


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
            hint='With row vectors, h_prev (B, H) meets W_hh the way x_t meets W_xh: through its transpose.',
            source="def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
                      "    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh + b_h)\n"),
    Mistake('rnn_step_forward', 'bias_forgotten',
            'bias forgotten',
            hint='Every term of the pre-activation, b_h included, goes inside the tanh.',
            source="def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
                      "    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T)\n"),
    Mistake('rnn_step_forward', 'tanh_applied_to_the_input_term_only',
            'tanh applied to the input term only',
            hint='The tanh wraps the whole pre-activation, not one of its terms.',
            source="def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
                      "    return np.tanh(x_t @ W_xh.T) + h_prev @ W_hh.T + b_h\n"),
    Mistake('rnn_step_forward', 'right_values_computed_by_torch',
            'right values, computed by torch instead of numpy',
            hint='This exercise is written from scratch in numpy; torch is the oracle that checks it.',
            source="def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
                      "    t = torch.from_numpy\n"
                      "    return torch.tanh(t(x_t) @ t(W_xh).T + t(h_prev) @ t(W_hh).T + t(b_h)).numpy()\n"),
    Mistake('rnn_step_forward', 'float32_result',
            'float32 result',
            hint='Keep float64 throughout: float32 keeps about 7 digits, too few for a gradient check.',
            source="def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
                      "    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h).astype(np.float32)\n",
            # the grader's replay compares a float32 result at float32's tolerance, where it
            # agrees with the right answer: its visible check names it (the dtype), replay cannot
            diagnosable=False),
    # ---- rnn_forward
    Mistake('rnn_forward', 'h0_included_in_the_returned_states',
            'h0 included in the returned states',
            hint='hs holds h_1 ... h_T, one state per input step: T of them, not T + 1.',
            source="def rnn_forward(xs, h0, W_xh, W_hh, b_h):\n"
                      "    hs = [h0]\n"
                      "    for x_t in xs:\n"
                      "        hs.append(rnn_step_forward(x_t, hs[-1], W_xh, W_hh, b_h))\n"
                      "    return np.stack(hs)\n"),
    Mistake('rnn_forward', 'every_step_starts_from_h0',
            'every step starts from h0',
            hint='Each step starts from the state the previous step returned.',
            source="def rnn_forward(xs, h0, W_xh, W_hh, b_h):\n"
                      "    return np.stack([rnn_step_forward(x_t, h0, W_xh, W_hh, b_h) for x_t in xs])\n"),
    Mistake('rnn_forward', 'only_the_last_state_returned',
            'only the last state returned',
            hint='Return every state, stacked: shape (T, B, H).',
            source="def rnn_forward(xs, h0, W_xh, W_hh, b_h):\n"
                      "    h = h0\n"
                      "    for x_t in xs:\n"
                      "        h = rnn_step_forward(x_t, h, W_xh, W_hh, b_h)\n"
                      "    return h\n"),
    Mistake('rnn_forward', 'stores_the_state_before_the_update',
            'stores the state before the update (h_0 ... h_(T-1))',
            hint='hs[t - 1] is h_t, the state the step returns: store it after the update.',
            source="def rnn_forward(xs, h0, W_xh, W_hh, b_h):\n"
                      "    hs = np.empty((xs.shape[0],) + h0.shape)\n"
                      "    h = h0\n"
                      "    for t, x_t in enumerate(xs):\n"
                      "        hs[t] = h\n"
                      "        h = rnn_step_forward(x_t, h, W_xh, W_hh, b_h)\n"
                      "    return hs\n"),
    # ---- rnn_backward
    Mistake('rnn_backward', 'tanh_derivative_missed',
            'tanh derivative missed',
            hint="Between the gradient on h_t and the one on the pre-activation a_t sits tanh's derivative, 1 - h_t**2.",
            source=_loop(da="        da = dhs[t] + dh_next\n"),
            roundtrip=True),
    Mistake('rnn_backward', 'gradient_not_carried_to_the_previous',
            'gradient not carried to the previous step',
            hint='h_t reaches the loss directly and through h_(t+1): add the gradient that flows back from the later step.',
            source=_loop(da="        da = dhs[t] * (1.0 - hs[t] ** 2)\n"),
            roundtrip=True),
    Mistake('rnn_backward', 'w_hh_transposed_in_the_backward',
            'W_hh transposed in the backward recurrence',
            hint='Write the forward product with its shapes; the backward product multiplies by the same matrix on the other side.',
            source=_loop(next="        dh_next = da @ W_hh.T\n"),
            roundtrip=True),
    Mistake('rnn_backward', 'current_state_h_t_used_for_dw_hh',
            'current state h_t used for dW_hh instead of h_{t-1}',
            hint='In a_t = x_t W_xh^T + h_(t-1) W_hh^T + b_h, which state multiplies W_hh?',
            source=_loop(hh="        grads['W_hh'] += da.T @ hs[t]\n")),
    Mistake('rnn_backward', 'dw_hh_transposed_h_prev_t_da',
            'dW_hh transposed: h_prev.T @ da',
            hint='Row i of dW_hh belongs to unit i: da.T @ h_prev, not its transpose.',
            source=_loop(hh="        grads['W_hh'] += h_prev.T @ da\n")),
    Mistake('rnn_backward', 'tanh_derivative_applied_again_to_the',
            'tanh derivative applied again to the carried gradient',
            hint='dh_next = da @ W_hh: the tanh derivative is applied once, at the next step back.',
            source=_loop(next="        dh_next = (da @ W_hh) * (1.0 - h_prev ** 2)\n")),
    Mistake('rnn_backward', 'bias_gradient_averaged_over_the',
            'bias gradient averaged over the batch',
            hint='The loss adds up over the batch, so the bias gradient adds up too.',
            source=_loop(b="        grads['b_h'] += da.mean(axis=0)\n")),
    Mistake('rnn_backward', 'tanh_derivative_taken_at_the',
            'tanh derivative taken at the previous state',
            hint="tanh's derivative is taken at this step's output, h_t.",
            source=_loop(da="        da = (dhs[t] + dh_next) * (1.0 - h_prev ** 2)\n")),
    Mistake('rnn_backward', 'dhs_modified_in_place',
            'dhs modified in place',
            hint="Leave the arrays you are given unchanged: a += on a slice of dhs writes into the caller's array.",
            source=_loop(da="        dh = dhs[t]\n        dh += dh_next\n"
                               "        da = dh * (1.0 - hs[t] ** 2)\n")),
    Mistake('rnn_backward', 'gradient_of_h0_left_at_zero',
            'gradient of h0 left at zero',
            hint="grads['h0'] is the gradient that reaches the initial state after the last backward step.",
            source=_loop().replace("grads['h0'] = dh_next", "grads['h0'] = np.zeros_like(h0)")),
    Mistake('rnn_backward', 'dw_xh_from_batch_sums_outer_product',
            'dW_xh from batch sums (outer product of the sums)',
            hint='Add up one outer product per example (da_t^T x_t), not the outer product of batch sums.',
            source=_loop(xh="        grads['W_xh'] += np.outer(da.sum(axis=0), xs[t].sum(axis=0))\n")),
    # ---- numerical_gradient
    Mistake('numerical_gradient', 'forward_difference_instead_of',
            'forward difference instead of central',
            hint='Use the central difference (f(x + eps) - f(x - eps)) / (2 eps): its error shrinks as eps**2.',
            source=_numgrad("    grad = np.zeros_like(x)\n"
                               "    f0 = f(x)\n"
                               "    for i in np.ndindex(x.shape):\n"
                               "        old = x[i]; x[i] = old + eps\n"
                               "        grad[i] = (f(x) - f0) / eps; x[i] = old\n"
                               "    return grad\n")),
    Mistake('numerical_gradient', 'x_not_restored',
            'x not restored',
            hint='Put each entry of x back after perturbing it, so the next entries and the caller see the original x.',
            source=_numgrad("    grad = np.zeros_like(x)\n"
                               "    for i in np.ndindex(x.shape):\n"
                               "        old = x[i]; x[i] = old + eps; fp = f(x); x[i] = old - eps; fm = f(x)\n"
                               "        grad[i] = (fp - fm) / (2 * eps)\n"
                               "    return grad\n")),
    Mistake('numerical_gradient', 'eps_argument_ignored',
            'eps argument ignored',
            hint='Use the eps the caller passes.',
            source=_numgrad("    grad = np.zeros_like(x)\n"
                               "    h = 1e-5\n"
                               "    for i in np.ndindex(x.shape):\n"
                               "        old = x[i]; x[i] = old + h; fp = f(x); x[i] = old - h; fm = f(x)\n"
                               "        x[i] = old; grad[i] = (fp - fm) / (2 * h)\n"
                               "    return grad\n")),
    Mistake('numerical_gradient', 'indexes_rows_only_right_for_1_d_x',
            'indexes rows, only right for 1-D x',
            hint='Perturb one entry at a time for an x of any shape (np.ndindex(x.shape) visits them all).',
            source=_numgrad("    grad = np.zeros_like(x)\n"
                               "    for i in range(x.shape[0]):\n"
                               "        old = x[i].copy(); x[i] = old + eps; fp = f(x); x[i] = old - eps\n"
                               "        fm = f(x); x[i] = old; grad[i] = (fp - fm) / (2 * eps)\n"
                               "    return grad\n")),
    # ---- relative_error
    Mistake('relative_error', 'mean_instead_of_max',
            'mean instead of max',
            hint='Report the worst entry: the maximum over entries.',
            source="def relative_error(a, b):\n"
                      "    a, b = np.asarray(a, float), np.asarray(b, float)\n"
                      "    return float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))\n"),
    Mistake('relative_error', 'no_1e_8_floor_0_0_gives_nan',
            'no 1e-8 floor (0/0 gives NaN)',
            hint='Keep the denominator away from zero with max(1e-8, |a| + |b|), so two zeros agree.',
            source="def relative_error(a, b):\n"
                      "    a, b = np.asarray(a, float), np.asarray(b, float)\n"
                      "    with np.errstate(all='ignore'):\n"
                      "        return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))\n"),
    Mistake('relative_error', 'divides_by_a_alone',
            'divides by |a| alone',
            hint='The relative error treats a and b alike: divide by |a| + |b|.',
            source="def relative_error(a, b):\n"
                      "    a, b = np.asarray(a, float), np.asarray(b, float)\n"
                      "    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a))))\n"),
    Mistake('relative_error', 'a_b_in_the_denominator_instead_of',
            '|a + b| in the denominator instead of |a| + |b|',
            hint='Entries of opposite signs can add up to 0 while neither is near 0: divide by the sum of the sizes, |a| + |b|.',
            source="def relative_error(a, b):\n"
                      "    a, b = np.asarray(a, float), np.asarray(b, float)\n"
                      "    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a + b))))\n"),
    Mistake('relative_error', 'ratio_of_maxima_instead_of_max_of',
            'ratio of maxima instead of max of ratios',
            hint='Divide entry by entry first, then take the maximum.',
            source="def relative_error(a, b):\n"
                      "    a, b = np.asarray(a, float), np.asarray(b, float)\n"
                      "    return float(np.max(np.abs(a - b)) / max(1e-8, np.max(np.abs(a) + np.abs(b))))\n"),
]
