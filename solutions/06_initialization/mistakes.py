"""Known mistakes of notebook 06_initialization: the catalogue that diagnosis and the mutation tests read.

See instructor/catalogue.py for what an entry holds and CONTRIBUTING.md for how to add one.

### MISTAKE CATALOGUE: instructor material, never published
"""

from instructor.catalogue import Mistake


def _init(name: str, draw: str, bound: str = "np.sqrt(6.0 / (fan_in + fan_out))") -> str:
    """An initialiser `name` that returns `draw` (of fan_in, fan_out, rng and a = bound)."""
    return (f"def {name}(fan_in, fan_out, rng):\n"
            f"    a = {bound}\n"
            f"    return {draw}\n")


def _orthogonal(result: str, draw: str = "rng.standard_normal((n, n))") -> str:
    """An orthogonal() that factors `draw` and returns `result` (of q, r and gain)."""
    return ("def orthogonal(n, rng, gain=1.0):\n"
            f"    q, r = np.linalg.qr({draw})\n"
            f"    return {result}\n")


MISTAKES = [
    # ---- xavier_uniform
    Mistake('xavier_uniform', 'shape_fan_in_fan_out',
            'shape (fan_in, fan_out)',
            source=_init("xavier_uniform", "rng.uniform(-a, a, size=(fan_in, fan_out))")),
    Mistake('xavier_uniform', 'the_standard_deviation_used_as_the',
            'the standard deviation used as the bound',
            source=_init("xavier_uniform", "rng.uniform(-a, a, size=(fan_out, fan_in))",
                            "np.sqrt(2.0 / (fan_in + fan_out))")),
    Mistake('xavier_uniform', 'bound_from_fan_in_alone',
            'bound from fan_in alone',
            source=_init("xavier_uniform", "rng.uniform(-a, a, size=(fan_out, fan_in))",
                            "np.sqrt(6.0 / fan_in)")),
    Mistake('xavier_uniform', 'a_normal_with_the_right_variance',
            'a normal with the right variance',
            source=_init("xavier_uniform", "rng.normal(0, a / np.sqrt(3), size=(fan_out, fan_in))")),
    Mistake('xavier_uniform', 'np_random_instead_of_the_rng',
            'np.random instead of the rng',
            source=_init("xavier_uniform", "np.random.uniform(-a, a, size=(fan_out, fan_in))"),
            diagnosable=False),
    Mistake('xavier_uniform', 'u_0_a',
            'U(0, a)',
            source=_init("xavier_uniform", "rng.uniform(0, a, size=(fan_out, fan_in))")),
    # ---- xavier_normal
    Mistake('xavier_normal', 'the_variance_passed_as_the_scale',
            'the variance passed as the scale',
            source=_init("xavier_normal", "rng.normal(0, a, size=(fan_out, fan_in))",
                            "2.0 / (fan_in + fan_out)")),
    Mistake('xavier_normal', 'a_uniform_with_the_right_variance',
            'a uniform with the right variance',
            source=_init("xavier_normal", "rng.uniform(-a * np.sqrt(3), a * np.sqrt(3), "
                            "size=(fan_out, fan_in))", "np.sqrt(2.0 / (fan_in + fan_out))")),
    Mistake('xavier_normal', 'variance_1_fan_in_lecun',
            'variance 1 / fan_in (LeCun)',
            source=_init("xavier_normal", "rng.normal(0, a, size=(fan_out, fan_in))",
                            "np.sqrt(1.0 / fan_in)")),
    Mistake('xavier_normal', 'a_generator_of_its_own',
            'a generator of its own',
            source=_init("xavier_normal", "np.random.default_rng(0).normal(0, a, size=(fan_out, fan_in))",
                            "np.sqrt(2.0 / (fan_in + fan_out))")),
    # ---- he_normal
    Mistake('he_normal', 'factor_2_missing',
            'factor 2 missing',
            source=_init("he_normal", "rng.normal(0, a, size=(fan_out, fan_in))", "np.sqrt(1.0 / fan_in)"),
            roundtrip=True),
    Mistake('he_normal', 'fan_out_instead_of_fan_in',
            'fan_out instead of fan_in',
            source=_init("he_normal", "rng.normal(0, a, size=(fan_out, fan_in))",
                            "np.sqrt(2.0 / fan_out)")),
    Mistake('he_normal', 'the_variance_passed_as_the_scale_2',
            'the variance passed as the scale',
            source=_init("he_normal", "rng.normal(0, a, size=(fan_out, fan_in))", "2.0 / fan_in")),
    Mistake('he_normal', 'he_uniform_instead_of_normal',
            'He uniform instead of normal',
            source=_init("he_normal", "rng.uniform(-a, a, size=(fan_out, fan_in))",
                            "np.sqrt(6.0 / fan_in)")),
    Mistake('he_normal', 'shape_fan_in_fan_out_2',
            'shape (fan_in, fan_out)',
            source=_init("he_normal", "rng.normal(0, a, size=(fan_in, fan_out))",
                            "np.sqrt(2.0 / fan_in)")),
    # ---- orthogonal
    Mistake('orthogonal', 'no_sign_fix',
            'no sign fix',
            source=_orthogonal("gain * q"),
            roundtrip=True),
    Mistake('orthogonal', 'signs_taken_from_q_s_diagonal',
            "signs taken from Q's diagonal instead of R's",
            source=_orthogonal("gain * q * np.sign(np.diag(q))")),
    Mistake('orthogonal', 'qr_of_a_uniform_matrix',
            'QR of a uniform matrix',
            source=_orthogonal("gain * q * np.sign(np.diag(r))", draw="rng.random((n, n))")),
    Mistake('orthogonal', 'gain_ignored',
            'gain ignored',
            source=_orthogonal("q * np.sign(np.diag(r))")),
    Mistake('orthogonal', 'square_root_of_the_gain',
            'square root of the gain',
            source=_orthogonal("np.sqrt(gain) * q * np.sign(np.diag(r))")),
    Mistake('orthogonal', 'columns_normalised_not',
            'columns normalised, not orthogonalised',
            source="def orthogonal(n, rng, gain=1.0):\n"
                      "    a = rng.standard_normal((n, n))\n"
                      "    return gain * a / np.linalg.norm(a, axis=0)\n"),
    Mistake('orthogonal', 'always_the_identity',
            'always the identity',
            source="def orthogonal(n, rng, gain=1.0):\n"
                      "    return gain * np.eye(n)\n"),
    Mistake('orthogonal', 'np_random_instead_of_the_rng_2',
            'np.random instead of the rng',
            source=_orthogonal("gain * q * np.sign(np.diag(r))", draw="np.random.randn(n, n)"),
            diagnosable=False),
    # ---- identity_init
    Mistake('identity_init', 'scale_ignored',
            'scale ignored',
            source="def identity_init(n, scale=1.0):\n"
                      "    return np.eye(n)\n"),
    Mistake('identity_init', 'scale_squared',
            'scale squared',
            source="def identity_init(n, scale=1.0):\n"
                      "    return scale ** 2 * np.eye(n)\n"),
    Mistake('identity_init', 'a_matrix_of_ones',
            'a matrix of ones',
            source="def identity_init(n, scale=1.0):\n"
                      "    return scale * np.ones((n, n))\n"),
    # ---- leaky_relu
    Mistake('leaky_relu', 'max_x_slope',
            'max(x, slope)',
            source="def leaky_relu(x, slope=0.01):\n"
                      "    return np.maximum(x, slope)\n"),
    Mistake('leaky_relu', 'slope_fixed_at_0_01',
            'slope fixed at 0.01',
            source="def leaky_relu(x, slope=0.01):\n"
                      "    return np.where(x > 0, x, 0.01 * x)\n"),
    Mistake('leaky_relu', 'changes_x_in_place',
            'changes x in place',
            source="def leaky_relu(x, slope=0.01):\n"
                      "    x[x < 0] *= slope\n"
                      "    return x\n"),
    Mistake('leaky_relu', 'plain_relu',
            'plain ReLU',
            source="def leaky_relu(x, slope=0.01):\n"
                      "    return np.maximum(x, 0.0)\n"),
    # ---- leaky_relu_grad
    Mistake('leaky_relu_grad', '1_at_x_0',
            '1 at x = 0',
            source="def leaky_relu_grad(x, slope=0.01):\n"
                      "    return np.where(x >= 0, 1.0, slope)\n"),
    Mistake('leaky_relu_grad', 'relu_s_derivative',
            "ReLU's derivative",
            source="def leaky_relu_grad(x, slope=0.01):\n"
                      "    return np.where(x > 0, 1.0, 0.0)\n"),
    Mistake('leaky_relu_grad', 'slope_x_for_negative_x',
            'slope * x for negative x',
            source="def leaky_relu_grad(x, slope=0.01):\n"
                      "    return np.where(x > 0, 1.0, slope * x)\n"),
    Mistake('leaky_relu_grad', 'leaky_relu_x_x',
            'leaky_relu(x) / x',
            source="def leaky_relu_grad(x, slope=0.01):\n"
                      "    return leaky_relu(x, slope) / x\n"),
    # ---- elu
    Mistake('elu', 'exp_of_every_entry_overflows',
            'exp of every entry (overflows)',
            source="def elu(x, alpha=1.0):\n"
                      "    return np.where(x > 0, x, alpha * (np.exp(x) - 1))\n",
            # expm1 overflows on the same entries: the same mistake
            variants=("def elu(x, alpha=1.0):\n"
                      "    return np.where(x > 0, x, alpha * np.expm1(x))\n",),
            roundtrip=True),
    Mistake('elu', 'alpha_forgotten',
            'alpha forgotten',
            source="def elu(x, alpha=1.0):\n"
                      "    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))\n"),
    Mistake('elu', 'the_1_forgotten',
            'the -1 forgotten',
            source="def elu(x, alpha=1.0):\n"
                      "    return np.where(x > 0, x, alpha * np.exp(np.minimum(x, 0)))\n"),
    # ---- elu_grad
    Mistake('elu_grad', 'exp_of_every_entry_overflows_2',
            'exp of every entry (overflows)',
            source="def elu_grad(x, alpha=1.0):\n"
                      "    return np.where(x > 0, 1.0, alpha * np.exp(x))\n"),
    Mistake('elu_grad', 'alpha_forgotten_2',
            'alpha forgotten',
            source="def elu_grad(x, alpha=1.0):\n"
                      "    return np.where(x > 0, 1.0, np.exp(np.minimum(x, 0)))\n"),
    Mistake('elu_grad', 'elu_x_for_negative_x_the_alpha',
            'elu(x) for negative x (the +alpha forgotten)',
            source="def elu_grad(x, alpha=1.0):\n"
                      "    return np.where(x > 0, 1.0, elu(x, alpha))\n"),
    Mistake('elu_grad', '1_at_x_0_2',
            '1 at x = 0',
            source="def elu_grad(x, alpha=1.0):\n"
                      "    return np.where(x >= 0, 1.0, alpha * np.exp(np.minimum(x, 0)))\n"),
]
