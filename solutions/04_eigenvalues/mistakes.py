"""Known mistakes of notebook 04_eigenvalues: the catalogue that diagnosis and the mutation tests read.

See instructor/diagnosis/catalogue.py for what an entry holds, and CONTRIBUTING.md for how to
add one.

### MISTAKE CATALOGUE: instructor material, never published
"""

from instructor.diagnosis.catalogue import Mistake


MISTAKES = [
    # ---- spectral_radius
    Mistake('spectral_radius', 'largest_real_part_not_modulus',
            'largest real part, not modulus',
            hint='rho is the largest MODULUS |lambda|: a complex or negative eigenvalue counts by its size.',
            source="def spectral_radius(W):\n    return float(np.max(np.linalg.eigvals(W).real))\n"),
    Mistake('spectral_radius', 'modulus_of_the_real_parts_only',
            'modulus of the real parts only',
            hint='A complex eigenvalue a + bi has modulus sqrt(a^2 + b^2): take np.abs of the eigenvalue itself.',
            source="def spectral_radius(W):\n"
                      "    return float(np.max(np.abs(np.linalg.eigvals(W).real)))\n"),
    Mistake('spectral_radius', 'largest_singular_value_instead',
            'largest singular value instead',
            hint='||W||_2 is sigma_max; rho comes from the eigenvalues, and the two differ unless W is normal.',
            source="def spectral_radius(W):\n    return float(np.linalg.norm(W, 2))\n"),
    Mistake('spectral_radius', 'eigvalsh_assumes_w_symmetric',
            'eigvalsh: assumes W symmetric',
            hint='np.linalg.eigvalsh reads only one triangle of W: for a general W use np.linalg.eigvals.',
            source="def spectral_radius(W):\n"
                      "    return float(np.max(np.abs(np.linalg.eigvalsh(W))))\n"),
    Mistake('spectral_radius', 'largest_entry_in_absolute_value',
            'largest entry in absolute value',
            hint='rho comes from the eigenvalues of W, not from its entries.',
            source="def spectral_radius(W):\n    return float(np.max(np.abs(W)))\n"),
    Mistake('spectral_radius', 'returns_the_eigenvalue_not_its',
            'returns the eigenvalue, not its modulus',
            hint='Return the modulus, as a Python float, not the (possibly complex) eigenvalue.',
            source="def spectral_radius(W):\n"
                      "    values = np.linalg.eigvals(W)\n"
                      "    return values[np.argmax(np.abs(values))]\n"),
    # ---- largest_singular_value
    Mistake('largest_singular_value', 'frobenius_norm',
            'Frobenius norm',
            hint='np.linalg.norm(W) is the Frobenius norm; sigma_max is np.linalg.norm(W, 2).',
            source="def largest_singular_value(W):\n    return float(np.linalg.norm(W))\n"),
    Mistake('largest_singular_value', 'spectral_radius_instead',
            'spectral radius instead',
            hint='Singular values are the square roots of the eigenvalues of W.T @ W, not |eigenvalues of W|.',
            source="def largest_singular_value(W):\n"
                      "    return float(np.max(np.abs(np.linalg.eigvals(W))))\n"),
    Mistake('largest_singular_value', 'smallest_singular_value',
            'smallest singular value',
            hint='np.linalg.svd returns the singular values in DECREASING order.',
            source="def largest_singular_value(W):\n"
                      "    return float(np.linalg.svd(W, compute_uv=False)[-1])\n"),
    Mistake('largest_singular_value', 'largest_row_norm',
            'largest row norm',
            hint='sigma_max maximises ||W v|| over unit vectors v; a row norm is only a lower bound.',
            source="def largest_singular_value(W):\n"
                      "    return float(np.max(np.linalg.norm(W, axis=1)))\n"),
    Mistake('largest_singular_value', 'sqrt_of_an_eigenvalue_of_w_not_w_t_w',
            'sqrt of an eigenvalue of W, not W.T @ W',
            hint='sigma_max^2 is the largest eigenvalue of W.T @ W, not of W.',
            source="def largest_singular_value(W):\n"
                      "    return float(np.sqrt(np.max(np.abs(np.linalg.eigvals(W)))))\n"),
    # ---- scale_to_spectral_radius
    Mistake('scale_to_spectral_radius', 'divides_by_sigma_max_not_rho',
            'divides by sigma_max, not rho',
            hint='Scale by rho / rho(W), the spectral radius, so that the result has radius rho.',
            source="def scale_to_spectral_radius(W, rho):\n"
                      "    return W * (rho / np.linalg.norm(W, 2))\n",
            roundtrip=True),
    Mistake('scale_to_spectral_radius', 'scales_w_in_place',
            'scales W in place',
            hint='Leave W unchanged: return a scaled copy.',
            source="def scale_to_spectral_radius(W, rho):\n"
                      "    W *= rho / spectral_radius(W)\n"
                      "    return W\n"),
    Mistake('scale_to_spectral_radius', 'divides_by_zero_for_a_nilpotent_w',
            'divides by zero for a nilpotent W',
            hint='A W with rho(W) = 0 cannot be scaled to radius rho: raise ValueError.',
            source="def scale_to_spectral_radius(W, rho):\n"
                      "    return W * (rho / spectral_radius(W))\n"),
    Mistake('scale_to_spectral_radius', 'forgets_to_divide_by_rho_w',
            'forgets to divide by rho(W)',
            hint='Scaling by c multiplies every eigenvalue by c: use c = rho / rho(W).',
            source="def scale_to_spectral_radius(W, rho):\n    return rho * np.asarray(W, float)\n"),
    Mistake('scale_to_spectral_radius', 'divides_by_the_largest_real',
            'divides by the largest real eigenvalue',
            hint='rho(W) is the largest MODULUS of an eigenvalue, not the largest real part.',
            source="def scale_to_spectral_radius(W, rho):\n"
                      "    return W * (rho / np.max(np.linalg.eigvals(W).real))\n"),
    # ---- gradient_bound
    Mistake('gradient_bound', 'gamma_outside_the_power',
            'gamma outside the power',
            hint='The bound is (gamma * sigma_max)^k: one factor gamma per step.',
            source="def gradient_bound(W_hh, gamma, steps):\n"
                      "    return gamma * largest_singular_value(W_hh) ** np.asarray(steps, float)\n",
            roundtrip=True),
    Mistake('gradient_bound', 'spectral_radius_instead_of_sigma_max',
            'spectral radius instead of sigma_max',
            hint='The bound on ||J|| uses ||W_hh||_2 = sigma_max, not rho.',
            source="def gradient_bound(W_hh, gamma, steps):\n"
                      "    return (gamma * spectral_radius(W_hh)) ** np.asarray(steps, float)\n"),
    Mistake('gradient_bound', 'one_step_too_few',
            'one step too few',
            hint='Going back k steps multiplies k Jacobians: the exponent is k.',
            source="def gradient_bound(W_hh, gamma, steps):\n"
                      "    return (gamma * largest_singular_value(W_hh)) ** (np.asarray(steps, float) - 1)\n"),
    Mistake('gradient_bound', 'frobenius_norm_instead_of_sigma_max',
            'Frobenius norm instead of sigma_max',
            hint='The bound uses the spectral norm sigma_max = ||W_hh||_2, not the Frobenius norm.',
            source="def gradient_bound(W_hh, gamma, steps):\n"
                      "    return (gamma * np.linalg.norm(W_hh)) ** np.asarray(steps, float)\n"),
    Mistake('gradient_bound', 'a_list_for_an_array_of_steps',
            'a list for an array of steps',
            hint='For an array of steps return a numpy array (a power of an array is one).',
            source="def gradient_bound(W_hh, gamma, steps):\n"
                      "    base = gamma * largest_singular_value(W_hh)\n"
                      "    return [base ** k for k in steps] if np.ndim(steps) else base ** steps\n"),
    # ---- guaranteed_to_vanish
    Mistake('guaranteed_to_vanish', 'spectral_radius_instead_of_sigma_max_2',
            'spectral radius instead of sigma_max',
            hint='The guarantee needs gamma * sigma_max < 1; rho < 1 alone does not bound every product.',
            source="def guaranteed_to_vanish(W_hh, activation):\n"
                      "    gamma = {'sigmoid': 0.25, 'tanh': 1.0, 'relu': 1.0, 'linear': 1.0}[activation]\n"
                      "    return bool(gamma * spectral_radius(W_hh) < 1)\n",
            roundtrip=True),
    Mistake('guaranteed_to_vanish', 'frobenius_norm_instead_of_sigma_max_2',
            'Frobenius norm instead of sigma_max',
            hint='np.linalg.norm(W) without ord is the Frobenius norm, the root of the sum of ALL squared singular values: the bound needs the largest singular value alone.',
            source="def guaranteed_to_vanish(W_hh, activation):\n"
                      "    gamma = {'sigmoid': 0.25, 'tanh': 1.0, 'relu': 1.0, 'linear': 1.0}[activation]\n"
                      "    return bool(gamma * np.linalg.norm(W_hh) < 1)\n"),
    Mistake('guaranteed_to_vanish', 'less_or_equal_instead_of_less',
            '<= instead of <',
            hint='At gamma * sigma_max = 1 the bound does not shrink: the condition is strict, < 1.',
            source="def guaranteed_to_vanish(W_hh, activation):\n"
                      "    gamma = {'sigmoid': 0.25, 'tanh': 1.0, 'relu': 1.0, 'linear': 1.0}[activation]\n"
                      "    return bool(gamma * largest_singular_value(W_hh) <= 1)\n"),
    Mistake('guaranteed_to_vanish', 'gamma_1_4_for_tanh_too',
            'gamma = 1/4 for tanh too',
            hint='gamma is the largest slope of the activation: 1/4 for sigmoid, 1 for tanh.',
            source="def guaranteed_to_vanish(W_hh, activation):\n"
                      "    gamma = {'sigmoid': 0.25, 'tanh': 0.25, 'relu': 1.0, 'linear': 1.0}[activation]\n"
                      "    return bool(gamma * largest_singular_value(W_hh) < 1)\n"),
    Mistake('guaranteed_to_vanish', 'ignores_the_activation_gamma_1',
            'ignores the activation (gamma = 1)',
            hint="The bound is gamma * sigma_max, gamma being the activation's largest slope (1/4 for sigmoid).",
            source="def guaranteed_to_vanish(W_hh, activation):\n"
                      "    return bool(largest_singular_value(W_hh) < 1)\n"),
    Mistake('guaranteed_to_vanish', 'unknown_activation_gets_gamma_1',
            'unknown activation gets gamma = 1',
            hint='An activation it does not know is an error: raise ValueError.',
            source="def guaranteed_to_vanish(W_hh, activation):\n"
                      "    gamma = 0.25 if activation == 'sigmoid' else 1.0\n"
                      "    return bool(gamma * largest_singular_value(W_hh) < 1)\n"),
    Mistake('guaranteed_to_vanish', 'returns_gamma_sigma_max_not_a_bool',
            'returns gamma * sigma_max, not a bool',
            hint='Return the answer to the question, True or False: is gamma * sigma_max < 1?',
            source="def guaranteed_to_vanish(W_hh, activation):\n"
                      "    gamma = {'sigmoid': 0.25, 'tanh': 1.0, 'relu': 1.0, 'linear': 1.0}[activation]\n"
                      "    return gamma * largest_singular_value(W_hh)\n"),
]
