"""Known mistakes of notebook 06_initialization: the catalogue that diagnosis and the mutation tests read.

See instructor/diagnosis/catalogue.py for what an entry holds, and CONTRIBUTING.md for how to
add one.

### MISTAKE CATALOGUE: instructor material, never published
"""

from instructor.diagnosis.catalogue import Mistake


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
            hint='A weight matrix maps fan_in inputs to fan_out outputs: its shape is (fan_out, fan_in).',
            source=_init("xavier_uniform", "rng.uniform(-a, a, size=(fan_in, fan_out))")),
    Mistake('xavier_uniform', 'the_standard_deviation_used_as_the',
            'the standard deviation used as the bound',
            hint='U(-a, a) has variance a^2 / 3: for variance 2 / (fan_in + fan_out) the bound is sqrt(6 / (fan_in + fan_out)).',
            source=_init("xavier_uniform", "rng.uniform(-a, a, size=(fan_out, fan_in))",
                            "np.sqrt(2.0 / (fan_in + fan_out))")),
    Mistake('xavier_uniform', 'bound_from_fan_in_alone',
            'bound from fan_in alone',
            hint='Glorot averages the two fans: the variance is 2 / (fan_in + fan_out).',
            source=_init("xavier_uniform", "rng.uniform(-a, a, size=(fan_out, fan_in))",
                            "np.sqrt(6.0 / fan_in)")),
    Mistake('xavier_uniform', 'a_normal_with_the_right_variance',
            'a normal with the right variance',
            hint='Xavier UNIFORM draws from U(-a, a), not from a normal.',
            source=_init("xavier_uniform", "rng.normal(0, a / np.sqrt(3), size=(fan_out, fan_in))")),
    Mistake('xavier_uniform', 'np_random_instead_of_the_rng',
            'np.random instead of the rng',
            hint='Draw from the rng you are given, so that a seed reproduces the weights.',
            source=_init("xavier_uniform", "np.random.uniform(-a, a, size=(fan_out, fan_in))"),
            diagnosable=False),
    Mistake('xavier_uniform', 'u_0_a',
            'U(0, a)',
            hint='The interval is symmetric around 0: U(-a, a).',
            source=_init("xavier_uniform", "rng.uniform(0, a, size=(fan_out, fan_in))")),
    # ---- xavier_normal
    Mistake('xavier_normal', 'the_variance_passed_as_the_scale',
            'the variance passed as the scale',
            hint='rng.normal takes the standard deviation: the square root of the variance.',
            source=_init("xavier_normal", "rng.normal(0, a, size=(fan_out, fan_in))",
                            "2.0 / (fan_in + fan_out)")),
    Mistake('xavier_normal', 'a_uniform_with_the_right_variance',
            'a uniform with the right variance',
            hint='Xavier NORMAL draws from a normal distribution, not a uniform one.',
            source=_init("xavier_normal", "rng.uniform(-a * np.sqrt(3), a * np.sqrt(3), "
                            "size=(fan_out, fan_in))", "np.sqrt(2.0 / (fan_in + fan_out))")),
    Mistake('xavier_normal', 'variance_1_fan_in_lecun',
            'variance 1 / fan_in (LeCun)',
            hint="Glorot's variance is 2 / (fan_in + fan_out), averaging both fans.",
            source=_init("xavier_normal", "rng.normal(0, a, size=(fan_out, fan_in))",
                            "np.sqrt(1.0 / fan_in)")),
    Mistake('xavier_normal', 'a_generator_of_its_own',
            'a generator of its own',
            hint='Draw from the rng you are given, not from a generator made inside the function.',
            source=_init("xavier_normal", "np.random.default_rng(0).normal(0, a, size=(fan_out, fan_in))",
                            "np.sqrt(2.0 / (fan_in + fan_out))")),
    # ---- he_normal
    Mistake('he_normal', 'factor_2_missing',
            'factor 2 missing',
            hint='ReLU zeroes half of its inputs, which He compensates with variance 2 / fan_in.',
            source=_init("he_normal", "rng.normal(0, a, size=(fan_out, fan_in))", "np.sqrt(1.0 / fan_in)"),
            roundtrip=True),
    Mistake('he_normal', 'fan_out_instead_of_fan_in',
            'fan_out instead of fan_in',
            hint="He's variance keeps the forward signal: 2 / fan_in.",
            source=_init("he_normal", "rng.normal(0, a, size=(fan_out, fan_in))",
                            "np.sqrt(2.0 / fan_out)")),
    Mistake('he_normal', 'the_variance_passed_as_the_scale_2',
            'the variance passed as the scale',
            hint='rng.normal takes the standard deviation: sqrt(2 / fan_in).',
            source=_init("he_normal", "rng.normal(0, a, size=(fan_out, fan_in))", "2.0 / fan_in")),
    Mistake('he_normal', 'he_uniform_instead_of_normal',
            'He uniform instead of normal',
            hint='He NORMAL draws from N(0, 2 / fan_in), not from a uniform.',
            source=_init("he_normal", "rng.uniform(-a, a, size=(fan_out, fan_in))",
                            "np.sqrt(6.0 / fan_in)")),
    Mistake('he_normal', 'shape_fan_in_fan_out_2',
            'shape (fan_in, fan_out)',
            hint='A weight matrix maps fan_in inputs to fan_out outputs: its shape is (fan_out, fan_in).',
            source=_init("he_normal", "rng.normal(0, a, size=(fan_in, fan_out))",
                            "np.sqrt(2.0 / fan_in)")),
    # ---- orthogonal
    Mistake('orthogonal', 'no_sign_fix',
            'no sign fix',
            hint='Multiply column j of Q by the sign of R[j, j]: without it Q is not uniformly distributed.',
            source=_orthogonal("gain * q"),
            roundtrip=True),
    Mistake('orthogonal', 'signs_taken_from_q_s_diagonal',
            "signs taken from Q's diagonal instead of R's",
            hint='The sign fix uses the diagonal of R, not of Q.',
            source=_orthogonal("gain * q * np.sign(np.diag(q))")),
    Mistake('orthogonal', 'qr_of_a_uniform_matrix',
            'QR of a uniform matrix',
            hint='Factor a standard NORMAL matrix: only its distribution is rotation invariant.',
            source=_orthogonal("gain * q * np.sign(np.diag(r))", draw="rng.random((n, n))")),
    Mistake('orthogonal', 'gain_ignored',
            'gain ignored',
            hint='Multiply the orthogonal matrix by gain.',
            source=_orthogonal("q * np.sign(np.diag(r))")),
    Mistake('orthogonal', 'square_root_of_the_gain',
            'square root of the gain',
            hint='Multiply the matrix by gain itself.',
            source=_orthogonal("np.sqrt(gain) * q * np.sign(np.diag(r))")),
    Mistake('orthogonal', 'columns_normalised_not',
            'columns normalised, not orthogonalised',
            hint='Unit columns are not enough: the columns must also be orthogonal (QR makes them so).',
            source="def orthogonal(n, rng, gain=1.0):\n"
                      "    a = rng.standard_normal((n, n))\n"
                      "    return gain * a / np.linalg.norm(a, axis=0)\n"),
    Mistake('orthogonal', 'always_the_identity',
            'always the identity',
            hint='The matrix is random: factor a normal matrix drawn from rng.',
            source="def orthogonal(n, rng, gain=1.0):\n"
                      "    return gain * np.eye(n)\n"),
    Mistake('orthogonal', 'np_random_instead_of_the_rng_2',
            'np.random instead of the rng',
            hint='Draw from the rng you are given, so that a seed reproduces the matrix.',
            source=_orthogonal("gain * q * np.sign(np.diag(r))", draw="np.random.randn(n, n)"),
            diagnosable=False),
    # ---- identity_init
    Mistake('identity_init', 'scale_ignored',
            'scale ignored',
            hint='Multiply the identity by scale.',
            source="def identity_init(n, scale=1.0):\n"
                      "    return np.eye(n)\n"),
    Mistake('identity_init', 'scale_squared',
            'scale squared',
            hint='Multiply the identity by scale itself.',
            source="def identity_init(n, scale=1.0):\n"
                      "    return scale ** 2 * np.eye(n)\n"),
    Mistake('identity_init', 'a_matrix_of_ones',
            'a matrix of ones',
            hint='The identity has ones on the diagonal only: np.eye(n).',
            source="def identity_init(n, scale=1.0):\n"
                      "    return scale * np.ones((n, n))\n"),
    # ---- leaky_relu
    Mistake('leaky_relu', 'max_x_slope',
            'max(x, slope)',
            hint='Leaky ReLU multiplies negative x by slope: x where x > 0, slope * x elsewhere.',
            source="def leaky_relu(x, slope=0.01):\n"
                      "    return np.maximum(x, slope)\n"),
    Mistake('leaky_relu', 'slope_fixed_at_0_01',
            'slope fixed at 0.01',
            hint='Use the slope argument the caller passes.',
            source="def leaky_relu(x, slope=0.01):\n"
                      "    return np.where(x > 0, x, 0.01 * x)\n"),
    Mistake('leaky_relu', 'changes_x_in_place',
            'changes x in place',
            hint='Leave x unchanged: return a new array.',
            source="def leaky_relu(x, slope=0.01):\n"
                      "    x[x < 0] *= slope\n"
                      "    return x\n"),
    Mistake('leaky_relu', 'plain_relu',
            'plain ReLU',
            hint='Leaky ReLU keeps a small slope for negative x: slope * x, not 0.',
            source="def leaky_relu(x, slope=0.01):\n"
                      "    return np.maximum(x, 0.0)\n"),
    # ---- leaky_relu_grad
    Mistake('leaky_relu_grad', '1_at_x_0',
            '1 at x = 0',
            hint='The docstring fixes the derivative at x = 0 to slope: 1 only where x > 0.',
            source="def leaky_relu_grad(x, slope=0.01):\n"
                      "    return np.where(x >= 0, 1.0, slope)\n"),
    Mistake('leaky_relu_grad', 'relu_s_derivative',
            "ReLU's derivative",
            hint='For negative x the derivative of slope * x is slope, not 0.',
            source="def leaky_relu_grad(x, slope=0.01):\n"
                      "    return np.where(x > 0, 1.0, 0.0)\n"),
    Mistake('leaky_relu_grad', 'slope_x_for_negative_x',
            'slope * x for negative x',
            hint='The derivative of slope * x is slope, whatever x.',
            source="def leaky_relu_grad(x, slope=0.01):\n"
                      "    return np.where(x > 0, 1.0, slope * x)\n"),
    Mistake('leaky_relu_grad', 'leaky_relu_x_x',
            'leaky_relu(x) / x',
            hint='Dividing by x fails at x = 0; the derivative is 1 where x > 0 and slope elsewhere.',
            source="def leaky_relu_grad(x, slope=0.01):\n"
                      "    return leaky_relu(x, slope) / x\n"),
    # ---- elu
    Mistake('elu', 'exp_of_every_entry_overflows',
            'exp of every entry (overflows)',
            hint='np.where computes both branches on every entry: take exp of np.minimum(x, 0) so that large x cannot overflow.',
            source="def elu(x, alpha=1.0):\n"
                      "    return np.where(x > 0, x, alpha * (np.exp(x) - 1))\n",
            # expm1 overflows on the same entries: the same mistake
            variants=("def elu(x, alpha=1.0):\n"
                      "    return np.where(x > 0, x, alpha * np.expm1(x))\n",),
            roundtrip=True),
    Mistake('elu', 'alpha_forgotten',
            'alpha forgotten',
            hint='elu is alpha * (exp(x) - 1) for x <= 0: multiply by alpha.',
            source="def elu(x, alpha=1.0):\n"
                      "    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))\n"),
    Mistake('elu', 'the_1_forgotten',
            'the -1 forgotten',
            hint='elu is alpha * (exp(x) - 1) for x <= 0, so that it is continuous at 0.',
            source="def elu(x, alpha=1.0):\n"
                      "    return np.where(x > 0, x, alpha * np.exp(np.minimum(x, 0)))\n"),
    # ---- elu_grad
    Mistake('elu_grad', 'exp_of_every_entry_overflows_2',
            'exp of every entry (overflows)',
            hint='np.where computes both branches on every entry: take exp of np.minimum(x, 0).',
            source="def elu_grad(x, alpha=1.0):\n"
                      "    return np.where(x > 0, 1.0, alpha * np.exp(x))\n"),
    Mistake('elu_grad', 'alpha_forgotten_2',
            'alpha forgotten',
            hint='The derivative of alpha * (exp(x) - 1) is alpha * exp(x).',
            source="def elu_grad(x, alpha=1.0):\n"
                      "    return np.where(x > 0, 1.0, np.exp(np.minimum(x, 0)))\n"),
    Mistake('elu_grad', 'elu_x_for_negative_x_the_alpha',
            'elu(x) for negative x (the +alpha forgotten)',
            hint='The derivative of alpha * (exp(x) - 1) is alpha * exp(x) = elu(x) + alpha.',
            source="def elu_grad(x, alpha=1.0):\n"
                      "    return np.where(x > 0, 1.0, elu(x, alpha))\n"),
    Mistake('elu_grad', '1_at_x_0_2',
            '1 at x = 0',
            hint='The docstring fixes the derivative at x = 0 to alpha * exp(0) = alpha: 1 only where x > 0.',
            source="def elu_grad(x, alpha=1.0):\n"
                      "    return np.where(x >= 0, 1.0, alpha * np.exp(np.minimum(x, 0)))\n"),
]
