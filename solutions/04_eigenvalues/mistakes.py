"""Known mistakes of notebook 04_eigenvalues: the catalogue that diagnosis and the mutation tests read.

See instructor/catalogue.py for what an entry holds and CONTRIBUTING.md for how to add one.

### MISTAKE CATALOGUE: instructor material, never published
"""

from instructor.catalogue import Mistake


MISTAKES = [
    # ---- spectral_radius
    Mistake('spectral_radius', 'largest_real_part_not_modulus',
            'largest real part, not modulus',
            source="def spectral_radius(W):\n    return float(np.max(np.linalg.eigvals(W).real))\n"),
    Mistake('spectral_radius', 'modulus_of_the_real_parts_only',
            'modulus of the real parts only',
            source="def spectral_radius(W):\n"
                      "    return float(np.max(np.abs(np.linalg.eigvals(W).real)))\n"),
    Mistake('spectral_radius', 'largest_singular_value_instead',
            'largest singular value instead',
            source="def spectral_radius(W):\n    return float(np.linalg.norm(W, 2))\n"),
    Mistake('spectral_radius', 'eigvalsh_assumes_w_symmetric',
            'eigvalsh: assumes W symmetric',
            source="def spectral_radius(W):\n"
                      "    return float(np.max(np.abs(np.linalg.eigvalsh(W))))\n"),
    Mistake('spectral_radius', 'largest_entry_in_absolute_value',
            'largest entry in absolute value',
            source="def spectral_radius(W):\n    return float(np.max(np.abs(W)))\n"),
    Mistake('spectral_radius', 'returns_the_eigenvalue_not_its',
            'returns the eigenvalue, not its modulus',
            source="def spectral_radius(W):\n"
                      "    values = np.linalg.eigvals(W)\n"
                      "    return values[np.argmax(np.abs(values))]\n"),
    # ---- largest_singular_value
    Mistake('largest_singular_value', 'frobenius_norm',
            'Frobenius norm',
            source="def largest_singular_value(W):\n    return float(np.linalg.norm(W))\n"),
    Mistake('largest_singular_value', 'spectral_radius_instead',
            'spectral radius instead',
            source="def largest_singular_value(W):\n"
                      "    return float(np.max(np.abs(np.linalg.eigvals(W))))\n"),
    Mistake('largest_singular_value', 'smallest_singular_value',
            'smallest singular value',
            source="def largest_singular_value(W):\n"
                      "    return float(np.linalg.svd(W, compute_uv=False)[-1])\n"),
    Mistake('largest_singular_value', 'largest_row_norm',
            'largest row norm',
            source="def largest_singular_value(W):\n"
                      "    return float(np.max(np.linalg.norm(W, axis=1)))\n"),
    Mistake('largest_singular_value', 'sqrt_of_an_eigenvalue_of_w_not_w_t_w',
            'sqrt of an eigenvalue of W, not W^T W',
            source="def largest_singular_value(W):\n"
                      "    return float(np.sqrt(np.max(np.abs(np.linalg.eigvals(W)))))\n"),
    # ---- scale_to_spectral_radius
    Mistake('scale_to_spectral_radius', 'divides_by_sigma_max_not_rho',
            'divides by sigma_max, not rho',
            source="def scale_to_spectral_radius(W, rho):\n"
                      "    return W * (rho / np.linalg.norm(W, 2))\n",
            roundtrip=True),
    Mistake('scale_to_spectral_radius', 'scales_w_in_place',
            'scales W in place',
            source="def scale_to_spectral_radius(W, rho):\n"
                      "    W *= rho / spectral_radius(W)\n"
                      "    return W\n"),
    Mistake('scale_to_spectral_radius', 'divides_by_zero_for_a_nilpotent_w',
            'divides by zero for a nilpotent W',
            source="def scale_to_spectral_radius(W, rho):\n"
                      "    return W * (rho / spectral_radius(W))\n"),
    Mistake('scale_to_spectral_radius', 'forgets_to_divide_by_rho_w',
            'forgets to divide by rho(W)',
            source="def scale_to_spectral_radius(W, rho):\n    return rho * np.asarray(W, float)\n"),
    Mistake('scale_to_spectral_radius', 'divides_by_the_largest_real',
            'divides by the largest real eigenvalue',
            source="def scale_to_spectral_radius(W, rho):\n"
                      "    return W * (rho / np.max(np.linalg.eigvals(W).real))\n"),
    # ---- gradient_bound
    Mistake('gradient_bound', 'gamma_outside_the_power',
            'gamma outside the power',
            source="def gradient_bound(W_hh, gamma, steps):\n"
                      "    return gamma * largest_singular_value(W_hh) ** np.asarray(steps, float)\n",
            roundtrip=True),
    Mistake('gradient_bound', 'spectral_radius_instead_of_sigma_max',
            'spectral radius instead of sigma_max',
            source="def gradient_bound(W_hh, gamma, steps):\n"
                      "    return (gamma * spectral_radius(W_hh)) ** np.asarray(steps, float)\n"),
    Mistake('gradient_bound', 'one_step_too_few',
            'one step too few',
            source="def gradient_bound(W_hh, gamma, steps):\n"
                      "    return (gamma * largest_singular_value(W_hh)) ** (np.asarray(steps, float) - 1)\n"),
    Mistake('gradient_bound', 'frobenius_norm_instead_of_sigma_max',
            'Frobenius norm instead of sigma_max',
            source="def gradient_bound(W_hh, gamma, steps):\n"
                      "    return (gamma * np.linalg.norm(W_hh)) ** np.asarray(steps, float)\n"),
    Mistake('gradient_bound', 'a_list_for_an_array_of_steps',
            'a list for an array of steps',
            source="def gradient_bound(W_hh, gamma, steps):\n"
                      "    base = gamma * largest_singular_value(W_hh)\n"
                      "    return [base ** k for k in steps] if np.ndim(steps) else base ** steps\n"),
    # ---- guaranteed_to_vanish
    Mistake('guaranteed_to_vanish', 'spectral_radius_instead_of_sigma_max_2',
            'spectral radius instead of sigma_max',
            source="def guaranteed_to_vanish(W_hh, activation):\n"
                      "    gamma = {'sigmoid': 0.25, 'tanh': 1.0, 'relu': 1.0, 'linear': 1.0}[activation]\n"
                      "    return bool(gamma * spectral_radius(W_hh) < 1)\n",
            roundtrip=True),
    Mistake('guaranteed_to_vanish', 'less_or_equal_instead_of_less',
            '<= instead of <',
            source="def guaranteed_to_vanish(W_hh, activation):\n"
                      "    gamma = {'sigmoid': 0.25, 'tanh': 1.0, 'relu': 1.0, 'linear': 1.0}[activation]\n"
                      "    return bool(gamma * largest_singular_value(W_hh) <= 1)\n"),
    Mistake('guaranteed_to_vanish', 'gamma_1_4_for_tanh_too',
            'gamma = 1/4 for tanh too',
            source="def guaranteed_to_vanish(W_hh, activation):\n"
                      "    gamma = {'sigmoid': 0.25, 'tanh': 0.25, 'relu': 1.0, 'linear': 1.0}[activation]\n"
                      "    return bool(gamma * largest_singular_value(W_hh) < 1)\n"),
    Mistake('guaranteed_to_vanish', 'ignores_the_activation_gamma_1',
            'ignores the activation (gamma = 1)',
            source="def guaranteed_to_vanish(W_hh, activation):\n"
                      "    return bool(largest_singular_value(W_hh) < 1)\n"),
    Mistake('guaranteed_to_vanish', 'unknown_activation_gets_gamma_1',
            'unknown activation gets gamma = 1',
            source="def guaranteed_to_vanish(W_hh, activation):\n"
                      "    gamma = 0.25 if activation == 'sigmoid' else 1.0\n"
                      "    return bool(gamma * largest_singular_value(W_hh) < 1)\n"),
    Mistake('guaranteed_to_vanish', 'returns_gamma_sigma_max_not_a_bool',
            'returns gamma * sigma_max, not a bool',
            source="def guaranteed_to_vanish(W_hh, activation):\n"
                      "    gamma = {'sigmoid': 0.25, 'tanh': 1.0, 'relu': 1.0, 'linear': 1.0}[activation]\n"
                      "    return gamma * largest_singular_value(W_hh)\n"),
]
