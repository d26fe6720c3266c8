"""Known mistakes of notebook 03_exploding: the catalogue that diagnosis and the mutation tests read.

See instructor/diagnosis/catalogue.py for what an entry holds, and CONTRIBUTING.md for how to
add one.

### MISTAKE CATALOGUE: instructor material, never published
"""

from instructor.diagnosis.catalogue import Mistake


def _constant_mse(expression: str) -> str:
    """A constant_answer_mse returning `expression` of c (a float64 array)."""
    return ("def constant_answer_mse(c):\n"
            "    c = np.asarray(c, float)\n"
            f"    return {expression}\n")


MISTAKES = [
    # ---- relu
    Mistake('relu', 'absolute_value_instead_of_max_x_0',
            'absolute value instead of max(x, 0)',
            hint='relu keeps positive entries and sets negative ones to 0; it does not flip their sign.',
            source="def relu(x):\n    return np.abs(x)\n"),
    Mistake('relu', 'clips_x_in_place',
            'clips x in place',
            hint='Leave x unchanged: build a new array (np.maximum makes one).',
            source="def relu(x):\n    x[x < 0] = 0.0\n    return x\n"),
    Mistake('relu', 'returns_the_mask_not_the_values',
            'returns the mask, not the values',
            hint='relu returns the values where x > 0, not a 0/1 mask (that is its derivative).',
            source="def relu(x):\n    return (x > 0).astype(float)\n"),
    Mistake('relu', 'python_loop_over_a_1_d_array',
            'a Python loop over the entries (works for 1-D x only)',
            hint='x can have any shape: np.maximum(x, 0.0) works elementwise on all of them.',
            source="def relu(x):\n    return np.array([max(v, 0.0) for v in x])\n"),
    # ---- relu_grad
    Mistake('relu_grad', 'derivative_1_at_x_0',
            'derivative 1 at x = 0',
            hint="The docstring fixes relu'(0) = 0: 1.0 only where x > 0.",
            source="def relu_grad(x):\n    return (x >= 0).astype(float)\n",
            roundtrip=True),
    Mistake('relu_grad', 'booleans_instead_of_floats',
            'booleans instead of floats',
            hint='Return float64 values 1.0 and 0.0, not booleans.',
            source="def relu_grad(x):\n    return x > 0\n"),
    Mistake('relu_grad', 'returns_relu_x',
            'returns relu(x)',
            hint='The derivative is 1 where x > 0 and 0 elsewhere, whatever the size of x.',
            source="def relu_grad(x):\n    return np.maximum(x, 0.0)\n"),
    Mistake('relu_grad', 'python_loop_over_a_1_d_array_grad',
            'a Python loop over the entries (works for 1-D x only)',
            hint='x can have any shape: (x > 0).astype(float) works elementwise on all of them.',
            source="def relu_grad(x):\n    return np.array([1.0 if v > 0 else 0.0 for v in x])\n"),
    Mistake('relu_grad', 'returns_float32',
            'returns float32, not float64',
            hint='The docstring asks for float64: .astype(np.float64), not np.float32.',
            source="def relu_grad(x):\n    return (np.asarray(x) > 0).astype(np.float32)\n",
            # replay compares float32 at float32's tolerance, where 0.0 and 1.0 agree with the
            # right answer: the visible check names the dtype instead
            diagnosable=False),
    # ---- global_grad_norm
    Mistake('global_grad_norm', 'sum_of_the_arrays_norms',
            "sum of the arrays' norms",
            hint='The global norm is the norm of all entries together: sqrt of the sum of ALL squares.',
            source="def global_grad_norm(grads):\n"
                      "    return float(sum(np.linalg.norm(g) for g in grads))\n",
            roundtrip=True),
    Mistake('global_grad_norm', 'largest_array_norm',
            'largest array norm',
            hint='Every array counts: sqrt of the sum of the squares of all their entries.',
            source="def global_grad_norm(grads):\n"
                      "    return float(max(np.linalg.norm(g) for g in grads))\n"),
    Mistake('global_grad_norm', 'forgets_the_square_root',
            'forgets the square root',
            hint='A norm is the square root of the sum of squares.',
            source="def global_grad_norm(grads):\n"
                      "    return float(sum(np.sum(g ** 2) for g in grads))\n"),
    Mistake('global_grad_norm', 'spectral_norm_of_each_matrix',
            'spectral norm of each matrix',
            hint='Each array contributes the sum of its squared entries (Frobenius), not its spectral norm.',
            source="def global_grad_norm(grads):\n"
                      "    return float(np.sqrt(sum(np.linalg.norm(g, 2) ** 2 if np.ndim(g) == 2 else\n"
                      "                             np.sum(g ** 2) for g in grads)))\n"),
    Mistake('global_grad_norm', 'concatenate_fails_on_an_empty_list',
            'np.concatenate of the flattened arrays (fails on an empty list)',
            hint='An empty list has norm 0.0: sum over the arrays instead of concatenating them.',
            source="def global_grad_norm(grads):\n"
                      "    return float(np.linalg.norm(np.concatenate([np.ravel(g) for g in grads])))\n"),
    # ---- constant_answer_mse
    Mistake('constant_answer_mse', 'the_variance_of_one_uniform_1_12_not',
            'the variance of one uniform (1/12), not of the sum',
            hint='E[(S - c)^2] = Var(S) + (E[S] - c)^2, and S = U1 + U2 adds two independent variances.',
            source=_constant_mse("1 / 12 + (1 - c) ** 2"),
            roundtrip=True),
    Mistake('constant_answer_mse', 'e_u_2_1_3_taken_for_var_u',
            'E[U^2] = 1/3 taken for Var(U)',
            hint='Var(U) = E[U^2] - E[U]^2 = 1/3 - 1/4.',
            source=_constant_mse("2 / 3 + (1 - c) ** 2")),
    Mistake('constant_answer_mse', 'var_u1_u2_4_var_u_the_sum_taken_as',
            'Var(U1 + U2) = 4 Var(U): the sum taken as 2U',
            hint='U1 and U2 are independent, so their variances add: Var(U1 + U2) = 2 Var(U).',
            source=_constant_mse("4 / 12 + (1 - c) ** 2")),
    Mistake('constant_answer_mse', 'the_bias_term_1_c_2_forgotten',
            'the bias term (1 - c)^2 forgotten',
            hint='E[(S - c)^2] = Var(S) + (E[S] - c)^2: the second term depends on c.',
            source=_constant_mse("1 / 6 + 0.0 * c")),
    Mistake('constant_answer_mse', 'the_mean_of_one_uniform_1_2_as_e_u1',
            'the mean of one uniform (1/2) as E[U1 + U2]',
            hint='E[U1 + U2] = E[U1] + E[U2].',
            source=_constant_mse("1 / 6 + (0.5 - c) ** 2")),
    Mistake('constant_answer_mse', 'standard_deviation_instead_of',
            'standard deviation instead of variance',
            hint='The MSE uses the variance of S, not its standard deviation.',
            source=_constant_mse("np.sqrt(1 / 6) + (1 - c) ** 2")),
    Mistake('constant_answer_mse', 'a_monte_carlo_estimate_instead_of',
            'a Monte Carlo estimate instead of the exact value',
            hint='The exact value follows from Var(S) and E[S]: no sampling needed.',
            source=_constant_mse("np.mean((np.random.default_rng(0).uniform(size=(2, 100_000)).sum(0)"
                                    " - c[..., None]) ** 2, axis=-1)")),
    # ---- single_unit_rnn
    Mistake('single_unit_rnn', 'textbook_sigmoid_overflows_for_huge',
            'textbook sigmoid overflows for huge weights',
            hint='With huge weights the state gets huge: compute sigmoid without overflowing exp.',
            source="def single_unit_rnn(w, b, x0, T):\n"
                      "    x = np.asarray(x0, float) + 0.0 * np.asarray(w) * np.asarray(b)\n"
                      "    for _ in range(T):\n"
                      "        x = w / (1.0 + np.exp(-x)) + b\n"
                      "    return x\n"),
    Mistake('single_unit_rnn', 'sigmoid_applied_after_the_update',
            'sigmoid applied after the update',
            hint='The recurrence is x_t = w * sigmoid(x_(t-1)) + b: sigmoid acts on the previous state.',
            source="def single_unit_rnn(w, b, x0, T):\n"
                      "    x = np.asarray(x0, float) + 0.0 * np.asarray(w) * np.asarray(b)\n"
                      "    for _ in range(T):\n"
                      "        z = w * x + b\n"
                      "        e = np.exp(-np.abs(z))\n"
                      "        x = np.where(z >= 0, 1 / (1 + e), e / (1 + e))\n"
                      "    return x\n"),
    Mistake('single_unit_rnn', 'one_step_too_many',
            'one step too many',
            hint='Apply the update for t = 1, ..., T: exactly T times.',
            source="def single_unit_rnn(w, b, x0, T):\n"
                      "    x = np.asarray(x0, float) + 0.0 * np.asarray(w) * np.asarray(b)\n"
                      "    for _ in range(T + 1):\n"
                      "        e = np.exp(-np.abs(x))\n"
                      "        x = w * np.where(x >= 0, 1 / (1 + e), e / (1 + e)) + b\n"
                      "    return x\n",
            roundtrip=True),
    Mistake('single_unit_rnn', 'np_where_evaluates_both_branches',
            'np.where(x >= 0, 1/(1+exp(-x)), exp(x)/(1+exp(x))): both branches are evaluated',
            hint='np.where computes both branches everywhere: exp(x) overflows for x >> 0; build both from exp(-|x|).',
            source="def single_unit_rnn(w, b, x0, T):\n"
                      "    x = np.asarray(x0, float) + 0.0 * np.asarray(w) * np.asarray(b)\n"
                      "    for _ in range(T):\n"
                      "        x = w * np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x))) + b\n"
                      "    return x\n"),
    Mistake('single_unit_rnn', 'computes_in_float32',
            'computes in float32',
            hint='w, b and x0 are float64: keep the state in float64 (no np.float32).',
            source="def single_unit_rnn(w, b, x0, T):\n"
                      "    w, b, x = (np.asarray(v, np.float32) for v in np.broadcast_arrays(w, b, x0))\n"
                      "    for _ in range(T):\n"
                      "        e = np.exp(-np.abs(x))\n"
                      "        x = w * np.where(x >= 0, 1 / (1 + e), e / (1 + e)) + b\n"
                      "    return x\n",
            # replay compares float32 at float32's tolerance: the visible check names the dtype
            diagnosable=False),
]
