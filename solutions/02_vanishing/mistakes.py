"""Known mistakes of notebook 02_vanishing: the catalogue that diagnosis and the mutation tests read.

See instructor/diagnosis/catalogue.py for what an entry holds, and CONTRIBUTING.md for how to
add one.

### MISTAKE CATALOGUE: instructor material, never published
"""

from instructor.diagnosis.catalogue import Mistake


def _latch(step: str = "np.tanh(w * x)", start: str = "1.0",
           guard: str = "    if not w > 1:\n        raise ValueError('w')\n",
           loop: str | None = None) -> str:
    """A latch_fixed_point with one part changed (the model solution when nothing is)."""
    loop = loop or ("    while True:\n"
                    f"        new = float({step})\n"
                    "        if abs(new - x) < tol:\n            return new\n"
                    "        x = new\n")
    return f"def latch_fixed_point(w, tol=1e-12):\n{guard}    x = {start}\n{loop}"


def _jacobian(expression: str, relu: str = "(a_t > 0).astype(float)",
              other: str = "None") -> str:
    """A hidden_jacobian whose result is `expression` (of slope, W_hh)."""
    return ("def hidden_jacobian(W_hh, a_t, activation):\n"
            "    a_t = np.asarray(a_t, float)\n"
            "    slopes = {'sigmoid': sigmoid_grad(a_t), 'tanh': tanh_grad(a_t),\n"
            f"              'relu': {relu}, 'linear': np.ones_like(a_t)}}\n"
            f"    slope = slopes.get(activation, {other})\n"
            "    if slope is None:\n"
            "        raise ValueError(activation)\n"
            f"    return {expression}\n")


def _products(step: str, norm: str = "2", reverse: bool = False) -> str:
    """A jacobian_product_norms whose loop body computes `step`."""
    return ("def jacobian_product_norms(W_hh, pre_activations, activation):\n"
            "    pre = np.asarray(pre_activations, float)\n"
            "    T = pre.shape[0]\n"
            "    norms = np.ones(T + 1)\n"
            "    product = np.eye(pre.shape[1])\n"
            "    for k in range(T - 1, -1, -1):\n"
            f"        product = {step}\n"
            f"        norms[k] = np.linalg.norm(product, {norm})\n"
            f"    return norms{'[::-1]' if reverse else ''}\n")


MISTAKES = [
    # ---- sigmoid
    Mistake('sigmoid', 'textbook_formula_overflows_at_x_1000',
            'textbook formula, overflows at x = -1000',
            hint='exp(-x) overflows for very negative x: compute it so that exp only ever sees a non-positive argument (or use the tanh identity).',
            source="def sigmoid(x):\n    return 1.0 / (1.0 + np.exp(-x))\n",
            # np.where evaluates both branches, so it overflows exactly where the textbook does
            variants=("def sigmoid(x):\n"
                      "    return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))\n",)),
    Mistake('sigmoid', 'tanh_x_instead_of_tanh_x_2_in_the',
            'tanh(x) instead of tanh(x / 2) in the tanh identity',
            hint='The identity is sigmoid(x) = (1 + tanh(x / 2)) / 2: check the argument of tanh.',
            source="def sigmoid(x):\n    return 0.5 * (np.tanh(x) + 1.0)\n"),
    Mistake('sigmoid', 'sigmoid_in_float32',
            'computed in float32',
            hint='float32 keeps about 7 digits, the check asks for 9: keep float64 '
                 'from input to output.',
            source="def sigmoid(x):\n"
                   "    x = np.asarray(x, dtype=np.float32)\n"
                   "    e = np.exp(-np.abs(x))\n"
                   "    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))\n",
            # the grader's replay compares a float32 result at float32's tolerance, where it
            # agrees with the right answer: its visible check names it (the dtype), replay cannot
            diagnosable=False),
    # ---- sigmoid_grad
    Mistake('sigmoid_grad', 'x_1_x_the_output_formula_applied_to',
            'x (1 - x): the output formula applied to the input',
            hint='s (1 - s) holds for s = sigmoid(x), the output; this function receives x itself.',
            source="def sigmoid_grad(x):\n    return x * (1.0 - x)\n"),
    Mistake('sigmoid_grad', 'returns_sigmoid_itself',
            'returns sigmoid itself',
            hint='The derivative of sigmoid is sigmoid(x) (1 - sigmoid(x)).',
            source="def sigmoid_grad(x):\n    return sigmoid(x)\n"),
    Mistake('sigmoid_grad', 'exp_x_1_exp_x_2_overflows',
            'exp(-x) / (1 + exp(-x))**2 overflows',
            hint='Write the derivative through sigmoid(x), which stays finite for every x.',
            source="def sigmoid_grad(x):\n    e = np.exp(-x)\n    return e / (1.0 + e) ** 2\n"),
    # ---- tanh_grad
    Mistake('tanh_grad', '1_x_2_squares_the_input_not_tanh_x',
            '1 - x**2: squares the input, not tanh(x)',
            hint='1 - t**2 holds for t = tanh(x); this function receives x itself.',
            source="def tanh_grad(x):\n    return 1.0 - x ** 2\n"),
    Mistake('tanh_grad', 'forgets_the_square',
            'forgets the square',
            hint='The derivative of tanh is 1 - tanh(x)**2.',
            source="def tanh_grad(x):\n    return 1.0 - np.tanh(x)\n"),
    Mistake('tanh_grad', '1_cosh_x_2_overflows_at_x_1000',
            '1 / cosh(x)**2 overflows at |x| = 1000',
            hint='cosh overflows for large |x|: write the derivative through tanh(x), which stays bounded.',
            source="def tanh_grad(x):\n    return 1.0 / np.cosh(x) ** 2\n"),
    Mistake('tanh_grad', 'tanh_grad_in_float32',
            'computed in float32',
            hint='float32 keeps about 7 digits, the check asks for 9: keep float64 '
                 'from input to output.',
            source="def tanh_grad(x):\n"
                   "    return 1 - np.tanh(np.asarray(x, dtype=np.float32)) ** 2\n"),
    # ---- hidden_jacobian
    Mistake('hidden_jacobian', 'scales_columns_w_hh_diag_phi',
            "scales columns: W_hh @ diag(phi')",
            hint="diag(phi'(a_t)) @ W_hh scales the ROWS of W_hh: row i by phi'(a_t)[i].",
            source=_jacobian("slope[None, :] * W_hh")),
    Mistake('hidden_jacobian', 'transposed_w_hh',
            'transposed W_hh',
            hint='h_t depends on h_(t-1) through W_hh itself, not its transpose.',
            source=_jacobian("slope[:, None] * W_hh.T")),
    Mistake('hidden_jacobian', 'relu_derivative_1_at_a_0',
            'relu derivative 1 at a = 0',
            hint="relu' is 1 where a > 0 and 0 elsewhere, a = 0 included.",
            source=_jacobian("slope[:, None] * W_hh", relu="(a_t >= 0).astype(float)"),
            roundtrip=True),
    Mistake('hidden_jacobian', 'unknown_activation_treated_as_linear',
            'unknown activation treated as linear',
            hint='An activation it does not know is an error: raise ValueError.',
            source=_jacobian("slope[:, None] * W_hh", other="np.ones_like(a_t)")),
    # ---- jacobian_product_norms
    Mistake('jacobian_product_norms', 'multiplies_j_k_1_on_the_left',
            'multiplies J_(k+1) on the left',
            hint='dh_T/dh_k = J_T ... J_(k+1): going back in time, each new Jacobian multiplies on the RIGHT.',
            source=_products("hidden_jacobian(W_hh, pre[k], activation) @ product"),
            roundtrip=True),
    Mistake('jacobian_product_norms', 'frobenius_norm_instead_of_spectral',
            'Frobenius norm instead of spectral',
            hint='The spectral norm is np.linalg.norm(M, 2), the largest singular value.',
            source=_products("product @ hidden_jacobian(W_hh, pre[k], activation)", norm="'fro'"),
            roundtrip=True),
    Mistake('jacobian_product_norms', 'uses_a_k_instead_of_a_k_1',
            'uses a_k instead of a_(k+1)',
            hint='J_(k+1) uses the pre-activation a_(k+1), which is row k of pre_activations.',
            source=_products("product @ hidden_jacobian(W_hh, pre[k - 1], activation)")),
    Mistake('jacobian_product_norms', 'indexed_by_steps_back_reversed',
            'indexed by steps back (reversed)',
            hint='norms[k] belongs to dh_T/dh_k: index by k, with norms[T] = 1 for the empty product.',
            source=_products("product @ hidden_jacobian(W_hh, pre[k], activation)", reverse=True)),
    Mistake('jacobian_product_norms', 'leaves_out_k_t_the_identity',
            'leaves out k = T (the identity)',
            hint='Return T + 1 norms: k = T is the empty product, the identity, of norm 1.',
            source="def jacobian_product_norms(W_hh, pre_activations, activation):\n"
                      "    pre = np.asarray(pre_activations, float)\n"
                      "    product, norms = np.eye(pre.shape[1]), []\n"
                      "    for k in range(pre.shape[0] - 1, -1, -1):\n"
                      "        product = product @ hidden_jacobian(W_hh, pre[k], activation)\n"
                      "        norms.insert(0, np.linalg.norm(product, 2))\n"
                      "    return np.array(norms)\n"),
    # ---- latch_fixed_point
    Mistake('latch_fixed_point', 'a_fixed_number_of_iterations_not_a',
            'a fixed number of iterations, not a tolerance',
            hint='Iterate until a step changes x by less than tol, however many steps that takes.',
            source=_latch(loop="    for _ in range(20):\n        x = float(np.tanh(w * x))\n"
                                  "    return x\n"),
            roundtrip=True),
    Mistake('latch_fixed_point', 'w_outside_the_tanh_x_w_tanh_x',
            'w outside the tanh: x = w tanh(x)',
            hint='The latch is x = tanh(w x): w multiplies the state inside the tanh.',
            source=_latch(step="w * np.tanh(x)")),
    Mistake('latch_fixed_point', 'starts_at_0_the_unstable_fixed_point',
            'starts at 0, the unstable fixed point',
            hint='0 is a fixed point too, but the unstable one: start from a positive x.',
            source=_latch(start="0.0")),
    Mistake('latch_fixed_point', 'no_valueerror_for_w_1',
            'no ValueError for w <= 1',
            hint='For w <= 1 the only fixed point is 0: raise ValueError, as the docstring asks.',
            source=_latch(guard="", loop="    for _ in range(100000):\n"
                                            "        new = float(np.tanh(w * x))\n"
                                            "        if abs(new - x) < tol:\n            return new\n"
                                            "        x = new\n    return x\n")),
    Mistake('latch_fixed_point', 'refuses_w_1_but_not_w_1',
            'refuses w < 1 but not w = 1',
            hint='At w = 1 the only fixed point is still 0: refuse every w <= 1, w = 1 included.',
            # as a student writes it the loop is `while True`, some 10^8 iterations at w = 1; the
            # visible check stops it after 10^5 lines of Python, and 10^5 iterations keep the
            # graders' own runs of this entry short
            source=_latch(guard="    if w < 1:\n        raise ValueError('w')\n",
                          loop="    for _ in range(100000):\n"
                               "        new = float(np.tanh(w * x))\n"
                               "        if abs(new - x) < tol:\n            return new\n"
                               "        x = new\n    return x\n")),
    # ---- latch_gain
    Mistake('latch_gain', 'forgets_the_self_weight_w',
            'forgets the self-weight w',
            hint='By the chain rule, d tanh(w x)/dx carries a factor w.',
            source="def latch_gain(x, w):\n    return 1.0 - np.asarray(x, float) ** 2\n",
            roundtrip=True),
    Mistake('latch_gain', 'applies_tanh_again_to_the_new_state',
            'applies tanh again to the new state',
            hint='x is already the NEW state tanh(...): the slope is 1 - x**2, times w.',
            source="def latch_gain(x, w):\n    return w * (1.0 - np.tanh(np.asarray(x, float)) ** 2)\n"),
    Mistake('latch_gain', 'tanh_w_x_again_right_only_at_the',
            'tanh(w x) again (right only at the fixed point)',
            hint='x is already the NEW state tanh(...): use it directly, 1 - x**2, times w.',
            source="def latch_gain(x, w):\n"
                      "    return w * (1.0 - np.tanh(w * np.asarray(x, float)) ** 2)\n"),
    Mistake('latch_gain', 'the_sigmoid_s_x_1_x_habit',
            "the sigmoid's x (1 - x) habit",
            hint="The latch uses tanh, whose derivative is 1 - tanh**2, not sigmoid's s (1 - s).",
            source="def latch_gain(x, w):\n    x = np.asarray(x, float)\n    return w * x * (1.0 - x)\n"),
]
