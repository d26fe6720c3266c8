"""Known mistakes of notebook 03_exploding: the catalogue that diagnosis and the mutation tests read.

See instructor/catalogue.py for what an entry holds and CONTRIBUTING.md for how to add one.

### MISTAKE CATALOGUE: instructor material, never published
"""

from instructor.catalogue import Mistake


def _constant_mse(expression: str) -> str:
    """A constant_answer_mse returning `expression` of c (a float64 array)."""
    return ("def constant_answer_mse(c):\n"
            "    c = np.asarray(c, float)\n"
            f"    return {expression}\n")


MISTAKES = [
    # ---- relu
    Mistake('relu', 'absolute_value_instead_of_max_x_0',
            'absolute value instead of max(x, 0)',
            source="def relu(x):\n    return np.abs(x)\n"),
    Mistake('relu', 'clips_x_in_place',
            'clips x in place',
            source="def relu(x):\n    x[x < 0] = 0.0\n    return x\n"),
    Mistake('relu', 'returns_the_mask_not_the_values',
            'returns the mask, not the values',
            source="def relu(x):\n    return (x > 0).astype(float)\n"),
    # ---- relu_grad
    Mistake('relu_grad', 'derivative_1_at_x_0',
            'derivative 1 at x = 0',
            source="def relu_grad(x):\n    return (x >= 0).astype(float)\n",
            roundtrip=True),
    Mistake('relu_grad', 'booleans_instead_of_floats',
            'booleans instead of floats',
            source="def relu_grad(x):\n    return x > 0\n"),
    Mistake('relu_grad', 'returns_relu_x',
            'returns relu(x)',
            source="def relu_grad(x):\n    return np.maximum(x, 0.0)\n"),
    # ---- global_grad_norm
    Mistake('global_grad_norm', 'sum_of_the_arrays_norms',
            "sum of the arrays' norms",
            source="def global_grad_norm(grads):\n"
                      "    return float(sum(np.linalg.norm(g) for g in grads))\n",
            roundtrip=True),
    Mistake('global_grad_norm', 'largest_array_norm',
            'largest array norm',
            source="def global_grad_norm(grads):\n"
                      "    return float(max(np.linalg.norm(g) for g in grads))\n"),
    Mistake('global_grad_norm', 'forgets_the_square_root',
            'forgets the square root',
            source="def global_grad_norm(grads):\n"
                      "    return float(sum(np.sum(g ** 2) for g in grads))\n"),
    Mistake('global_grad_norm', 'spectral_norm_of_each_matrix',
            'spectral norm of each matrix',
            source="def global_grad_norm(grads):\n"
                      "    return float(np.sqrt(sum(np.linalg.norm(g, 2) ** 2 if np.ndim(g) == 2 else\n"
                      "                             np.sum(g ** 2) for g in grads)))\n"),
    # ---- constant_answer_mse
    Mistake('constant_answer_mse', 'the_variance_of_one_uniform_1_12_not',
            'the variance of one uniform (1/12), not of the sum',
            source=_constant_mse("1 / 12 + (1 - c) ** 2"),
            roundtrip=True),
    Mistake('constant_answer_mse', 'e_u_2_1_3_taken_for_var_u',
            'E[U^2] = 1/3 taken for Var(U)',
            source=_constant_mse("2 / 3 + (1 - c) ** 2")),
    Mistake('constant_answer_mse', 'var_u1_u2_4_var_u_the_sum_taken_as',
            'Var(U1 + U2) = 4 Var(U): the sum taken as 2U',
            source=_constant_mse("4 / 12 + (1 - c) ** 2")),
    Mistake('constant_answer_mse', 'the_bias_term_1_c_2_forgotten',
            'the bias term (1 - c)^2 forgotten',
            source=_constant_mse("1 / 6 + 0.0 * c")),
    Mistake('constant_answer_mse', 'the_mean_of_one_uniform_1_2_as_e_u1',
            'the mean of one uniform (1/2) as E[U1 + U2]',
            source=_constant_mse("1 / 6 + (0.5 - c) ** 2")),
    Mistake('constant_answer_mse', 'standard_deviation_instead_of',
            'standard deviation instead of variance',
            source=_constant_mse("np.sqrt(1 / 6) + (1 - c) ** 2")),
    Mistake('constant_answer_mse', 'a_monte_carlo_estimate_instead_of',
            'a Monte Carlo estimate instead of the exact value',
            source=_constant_mse("np.mean((np.random.default_rng(0).uniform(size=(2, 100_000)).sum(0)"
                                    " - c[..., None]) ** 2, axis=-1)")),
    # ---- single_unit_rnn
    Mistake('single_unit_rnn', 'textbook_sigmoid_overflows_for_huge',
            'textbook sigmoid overflows for huge weights',
            source="def single_unit_rnn(w, b, x0, T):\n"
                      "    x = np.asarray(x0, float) + 0.0 * np.asarray(w) * np.asarray(b)\n"
                      "    for _ in range(T):\n"
                      "        x = w / (1.0 + np.exp(-x)) + b\n"
                      "    return x\n"),
    Mistake('single_unit_rnn', 'sigmoid_applied_after_the_update',
            'sigmoid applied after the update',
            source="def single_unit_rnn(w, b, x0, T):\n"
                      "    x = np.asarray(x0, float) + 0.0 * np.asarray(w) * np.asarray(b)\n"
                      "    for _ in range(T):\n"
                      "        z = w * x + b\n"
                      "        e = np.exp(-np.abs(z))\n"
                      "        x = np.where(z >= 0, 1 / (1 + e), e / (1 + e))\n"
                      "    return x\n"),
    Mistake('single_unit_rnn', 'one_step_too_many',
            'one step too many',
            source="def single_unit_rnn(w, b, x0, T):\n"
                      "    x = np.asarray(x0, float) + 0.0 * np.asarray(w) * np.asarray(b)\n"
                      "    for _ in range(T + 1):\n"
                      "        e = np.exp(-np.abs(x))\n"
                      "        x = w * np.where(x >= 0, 1 / (1 + e), e / (1 + e)) + b\n"
                      "    return x\n",
            roundtrip=True),
]
