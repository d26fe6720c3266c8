# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · Eigenvalues and singular values
#
# <!-- colab-badge: `rnn-course release` puts the Open-in-Colab badge here -->
#
# Notebooks 02 and 03 watched gradients shrink and grow. **Can we tell from $W_{hh}$ alone
# which will happen?** Partly. For a linear network the eigenvalues decide the long run; with an
# activation, the largest singular value gives a bound that guarantees vanishing, and the gap
# between the two, which is large for non-normal matrices, is where intuition built on
# eigenvalues goes wrong.
#
# **You will be able to**
# 1. compute the spectral radius $\rho(W)$ and the largest singular value $\sigma_{\max}(W)$,
#    and say why $\rho(W) \le \sigma_{\max}(W)$;
# 2. derive $\|\partial h_t/\partial h_k\| \le (\gamma\,\sigma_{\max})^{t-k}$ and say which
#    condition on it is **sufficient** for vanishing and which is **necessary** for exploding;
# 3. show with a non-normal matrix that eigenvalues inside the unit circle do not stop
#    gradients from growing for many steps;
# 4. explore all of this with sliders, and read off the spectrum of a trained network.
#
# **Time:** about 60 minutes (each section states its own estimate).
# The exercises are graded: each has a visible check you can run now and hidden tests
# (random shapes, edge cases, PyTorch as the reference) that run when your notebook is graded.
# Only the code inside the exercise cells (the ones that say `# YOUR CODE HERE`) is graded, so
# put any helper function you write in one of those cells.

# %%
# Set-up (≈ 1 min). On Colab this installs the course's `helpers` package from the course
# repository; locally, the README's set-up command already did.
# colab-install: `rnn-course release` puts the Colab install of `helpers` here
import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

from helpers import checks, course, models, plots, tasks, training, widgets

rng = course.setup(seed=0)

# %% [markdown]
# ## 1. A linear RNN: the eigenvalues decide the long run (≈ 20 min)
#
# *How fast does the gradient of a linear RNN grow or shrink?* Take
# $h_t = W_{hh} h_{t-1} + W_{xh} x_t + b$ with no activation. Each step's Jacobian is
# $\partial h_t/\partial h_{t-1} = W_{hh}$, the same at every step, so by the chain rule, over a
# distance of $d$ steps,
#
# $$\frac{\partial h_t}{\partial h_{t-d}} = W_{hh}^{\,d}.$$
#
# (Notation: $W^d$ is a power, $W^\top$ a transpose, and $T$ the length of a sequence.)
#
# If $W_{hh}$ is **diagonalisable**, $W_{hh} = V\Lambda V^{-1}$ with the eigenvalues $\lambda_i$
# on the diagonal of $\Lambda$, then $W_{hh}^d = V\Lambda^d V^{-1}$: along eigenvector $i$ the
# gradient is multiplied by $\lambda_i^d$. The **spectral radius** $\rho(W) = \max_i |\lambda_i|$
# sets the rate: $\|W^d\|$ is at least $\rho^d$ (the spectral norm of any matrix is at least the
# modulus of each of its eigenvalues, and $W^d$ has eigenvalue $\lambda_i^d$) and at most
# $\|V\|\,\|V^{-1}\|\,\rho^d = \kappa(V)\rho^d$.
#
# Not every matrix is diagonalisable. The shear $S$ of the checks below is a Jordan block: its
# double eigenvalue has one eigenvector only, so no invertible $V$ exists (numpy's `eig` returns
# two nearly parallel columns, with a huge $\kappa(V)$: printed below). The long-run rate
# holds all the same, for every square matrix, by **Gelfand's formula**
# $\|W^d\|^{1/d} \to \rho(W)$ as $d \to \infty$ (Horn and Johnson, *Matrix Analysis*,
# Corollary 5.6.14): for any $\varepsilon > 0$, $\rho^d \le \|W^d\| \le C_\varepsilon
# (\rho + \varepsilon)^d$ for every $d$. Gradients vanish when $\rho < 1$ and explode when
# $\rho > 1$, **eventually**; the formula does not say when "eventually" begins (Section 3).
#
# For a **normal** matrix ($W W^\top = W^\top W$: symmetric, orthogonal and rotation matrices
# are normal) the spectral theorem gives $W = U\Lambda U^*$ with $U$ **unitary** ($U^*U = I$,
# Horn and Johnson, Section 2.5), so $\kappa(U) = 1$ and $\|W^d\| = \rho^d$ exactly. $U$ is
# complex when $W$ has complex eigenvalues (the rotation of the checks has $\pm 1.2i$); a real
# orthogonal $U$ exists exactly when $W$ is symmetric. The singular values of a normal matrix are
# the $|\lambda_i|$, so the **largest singular value**
# $\sigma_{\max}(W) = \max_{\|v\| = 1}\|Wv\| = \|W\|_2$, the most $W$ can stretch a vector,
# equals $\rho(W)$. In general only $\rho(W) \le \sigma_{\max}(W)$ holds: if $Wv = \lambda v$
# then $|\lambda|\,\|v\| = \|Wv\| \le \sigma_{\max}\|v\|$.
#
# ### Exercises 1–2: `spectral_radius` and `largest_singular_value` (≈ 5 min)
# Use `np.linalg`. A real matrix can have complex eigenvalues (a rotation has $e^{\pm i\theta}$):
# their modulus counts, not their real part.
#
# The checks use a **shear**, $S = \begin{psmallmatrix}0.5 & 2\\ 0 & 0.5\end{psmallmatrix}$.
# It is triangular, so its eigenvalues are its diagonal: $\rho(S) = 0.5$. Its singular values are
# the square roots of the eigenvalues of $S^\top S = \begin{psmallmatrix}1/4 & 1\\ 1 &
# 17/4\end{psmallmatrix}$, whose trace is $9/2$ and determinant $1/16$, so
# $\lambda = 9/4 \pm \sqrt5$ and $\sigma_{\max}(S) = \sqrt{9/4 + \sqrt5} = 1 + \sqrt5/2$
# (square it to check). Your functions print both below the checks.

# %% nbgrader={"grade": false, "grade_id": "spectral_radius", "locked": false, "schema_version": 3, "solution": true, "task": false}
def spectral_radius(W):
    """rho(W) = max |lambda| over the eigenvalues of a square float64 matrix W (H, H): a float."""
    ### BEGIN SOLUTION
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(W, dtype=np.float64)))))
    ### END SOLUTION


# %% nbgrader={"grade": false, "grade_id": "largest_singular_value", "locked": false, "schema_version": 3, "solution": true, "task": false}
def largest_singular_value(W):
    """sigma_max(W) = ||W||_2, the largest singular value of a float64 matrix W (M, N): a float."""
    ### BEGIN SOLUTION
    return float(np.linalg.svd(np.asarray(W, dtype=np.float64), compute_uv=False)[0])
    ### END SOLUTION


# %% [markdown]
# ### How your code is checked
#
# The read-only cell below (collapsed in your copy: click it to expand) holds the oracle
# (`torch.linalg.eigvals` and `torch.linalg.svdvals`) and the checks the test cells call.

# %% nbgrader={"grade": false, "grade_id": "checking_tools", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Checking tools (read-only). PyTorch is the reference; your code never calls it.
ROTATION = np.array([[0.0, -1.2], [1.2, 0.0]])           # eigenvalues +-1.2i
SHEAR = np.array([[0.5, 2.0], [0.0, 0.5]])   # rho = 0.5; sigma_max = 1 + sqrt(5)/2 ≈ 2.118
# (for [[a, b], [0, a]] with a, b >= 0: sigma_max = sqrt(a**2 + b**2 / 4) + b / 2)
GAMMAS = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0, "linear": 1.0}


def true_radius(W):
    return float(torch.linalg.eigvals(torch.as_tensor(W, dtype=torch.float64)).abs().max())


def true_sigma(W):
    return float(torch.linalg.svdvals(torch.as_tensor(W, dtype=torch.float64))[0])


def describe(W, label):
    W = np.asarray(W)
    return f"{label}: W of shape {W.shape}, W[0, :3] = {checks.preview(W[0])}"


def call_on_matrix(name, fn, W, label, *args):
    """Call fn(W, *args) (checks.call gives it a copy of W and fails if it changed that copy).
    Returns (result, input text)."""
    W = np.array(W, dtype=np.float64)
    inputs = describe(W, label) + "".join(f", {a!r}" for a in args)
    got, _ = checks.call(name, fn, W, *args, inputs=inputs)
    return got, inputs


def check_matrix_number(name, fn, W, label, expected, hint):
    got, inputs = call_on_matrix(name, fn, W, label)
    if np.asarray(got).dtype in (np.float32, np.float16, np.complex64):
        hint = (f"your result is {np.asarray(got).dtype} (about 7 significant digits for "
                "float32), too coarse for this check: compute in float64 "
                "(np.asarray(W, dtype=np.float64), no .astype(np.float32)) and return "
                "float(...). " + hint)
    got = checks.as_number(name, name, got, inputs=inputs, hint=hint)
    checks.expect_close(name, name, np.float64(got), expected, inputs=inputs, rtol=1e-8,
                        atol=1e-12, hint=hint)


def check_spectral_radius(fn, W, label):
    check_matrix_number("spectral_radius", fn, W, label, true_radius(W),
                        "the largest MODULUS |lambda| of np.linalg.eigvals(W): complex "
                        "eigenvalues count with their modulus, negative ones with their absolute "
                        "value; not a singular value, not the largest entry, and not "
                        "np.linalg.eigvalsh, which is for symmetric matrices only (it reads one "
                        "triangle of W).")


def check_largest_singular_value(fn, W, label):
    check_matrix_number("largest_singular_value", fn, W, label, true_sigma(W),
                        "the largest singular value: np.linalg.svd(W, compute_uv=False)[0] or "
                        "np.linalg.norm(W, 2); not an eigenvalue (they differ unless W is normal) "
                        "and not the Frobenius norm.")


def check_scale_to_spectral_radius(fn, W, rho, label):
    got, inputs = call_on_matrix("scale_to_spectral_radius", fn, W, label, rho)
    W = np.asarray(W, dtype=np.float64)
    expected = (rho / true_radius(W)) * W
    got = checks.expect_close("scale_to_spectral_radius", "scaled W", got, expected,
                              inputs=inputs, rtol=1e-8, atol=1e-12,
                              hint="multiply W by rho / spectral_radius(W): a positive number, "
                                   "so eigenvectors stay and every |lambda| scales alike "
                                   "(dividing by sigma_max gives the wrong radius).")
    checks.expect_close("scale_to_spectral_radius", "spectral radius of the result",
                        np.float64(true_radius(got)), rho, inputs=inputs, rtol=1e-8, atol=1e-12,
                        hint="the result's eigenvalues must have largest modulus rho.")


def check_scale_rejects_zero_radius(fn, W, label):
    W = np.array(W, dtype=np.float64)
    checks.expect_raises("scale_to_spectral_radius", ValueError, fn, W, 0.9,
                         inputs=describe(W, label) + ", rho = 0.9",
                         problem="accepted a matrix whose spectral radius is 0.",
                         expected="ValueError: no multiple of W has spectral radius 0.9",
                         hint="dividing by rho(W) = 0 gives inf, nan or ZeroDivisionError: "
                              "check spectral_radius(W) == 0 first and raise ValueError with a "
                              "message.")


def reference_bound(W, gamma, steps):
    base = torch.tensor(gamma * true_sigma(W), dtype=torch.float64)
    return torch.pow(base, torch.as_tensor(steps, dtype=torch.float64)).numpy()


def check_gradient_bound(fn, W, gamma, steps, label):
    got, inputs = call_on_matrix("gradient_bound", fn, W, label, gamma, steps)
    expected = reference_bound(W, gamma, steps)
    if np.ndim(steps) == 0:
        got = checks.as_number("gradient_bound", "the bound", got, inputs=inputs,
                               hint="for an int `steps` return one number.")
    checks.expect_close("gradient_bound", "bound", np.float64(got) if np.ndim(steps) == 0
                        else got, expected, inputs=inputs, rtol=1e-8, atol=1e-300,
                        hint="(gamma * sigma_max(W_hh)) ** steps: gamma multiplies sigma_max "
                             "INSIDE the power (each step contributes one gamma and one "
                             "sigma_max), and it is the largest singular value, not rho.")


ORTHOGONAL_3 = np.array([[0.0, -0.6, 0.8], [1.0, 0.0, 0.0], [0.0, 0.8, 0.6]])  # Q.T @ Q = I


def check_guaranteed_to_vanish(fn, W, activation, label, note=""):
    """note: what this input tests, put before the hint."""
    got, inputs = call_on_matrix("guaranteed_to_vanish", fn, W, label, activation)
    expected = GAMMAS[activation] * true_sigma(W) < 1
    checks.expect("guaranteed_to_vanish", isinstance(got, bool | np.bool_),
                  "should return True or False.", inputs=inputs,
                  returned=f"{type(got).__name__}: {checks.preview(got)}",
                  expected=f"{expected}", hint="return the comparison itself: gamma * sigma < 1.")
    checks.expect("guaranteed_to_vanish", bool(got) == expected, "gave the wrong answer.",
                  inputs=inputs, returned=f"{bool(got)}",
                  expected=f"{expected} (gamma = {GAMMAS[activation]}, sigma_max = "
                           f"{true_sigma(W):.4g}, rho = {true_radius(W):.4g})",
                  hint=note + "the guarantee needs gamma * sigma_max(W_hh) < 1 (strictly), "
                              "with the LARGEST SINGULAR VALUE, not the spectral radius; gamma "
                              "= 1/4 for sigmoid and 1 for tanh, relu and linear.")


def check_rejects_unknown_activation(fn):
    checks.expect_raises("guaranteed_to_vanish", ValueError, fn, 0.5 * np.eye(2), "softplus",
                         inputs="W = 0.5 * identity (2x2), activation = 'softplus'",
                         problem="accepted an activation it does not know.",
                         expected="ValueError",
                         hint="raise ValueError for any activation other than 'sigmoid', 'tanh', "
                              "'relu' and 'linear': its gamma is unknown.")


# %% nbgrader={"grade": true, "grade_id": "test_spectral_radius", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check: a diagonal matrix with a negative entry, a rotation, a shear and its transpose.
check_spectral_radius(spectral_radius, np.diag([0.5, -0.9, 0.3]), "diagonal")
check_spectral_radius(spectral_radius, ROTATION, "rotation by 90 degrees, scaled by 1.2")
check_spectral_radius(spectral_radius, SHEAR, "shear")
check_spectral_radius(spectral_radius, SHEAR.T, "transposed shear (lower triangular)")
checks.passed("spectral_radius")

# %% nbgrader={"grade": true, "grade_id": "hidden_spectral_radius", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for spectral_radius run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("spectral_radius", spectral_radius)
_rng = np.random.default_rng(401)
for _H in (1, 3, 16):
    check_spectral_radius(spectral_radius, _rng.normal(size=(_H, _H)), f"random {_H}x{_H}")
check_spectral_radius(spectral_radius, np.triu(_rng.normal(size=(6, 6))) - 3 * np.eye(6),
                      "triangular, eigenvalues on the diagonal")
check_spectral_radius(spectral_radius, np.zeros((3, 3)), "zero matrix")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_largest_singular_value", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check: for the shear sigma_max = 1 + sqrt(5)/2 ≈ 2.118 is far above rho = 0.5.
check_largest_singular_value(largest_singular_value, np.diag([0.5, -0.9, 0.3]), "diagonal")
check_largest_singular_value(largest_singular_value, SHEAR, "shear")
checks.passed("largest_singular_value")

# %% nbgrader={"grade": true, "grade_id": "hidden_largest_singular_value", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for largest_singular_value run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("largest_singular_value", largest_singular_value)
_rng = np.random.default_rng(402)
check_largest_singular_value(largest_singular_value, _rng.normal(size=(8, 8)), "random 8x8")
check_largest_singular_value(largest_singular_value, _rng.normal(size=(3, 7)), "wide 3x7")
check_largest_singular_value(largest_singular_value, _rng.normal(size=(9, 2)), "tall 9x2")
check_largest_singular_value(largest_singular_value, ROTATION, "rotation, scaled by 1.2")
### END HIDDEN TESTS

# %%
from helpers import claims  # noqa: E402  (checks the prose's claims right after each experiment)

print(f"shear S: rho = {spectral_radius(SHEAR):.4f}, sigma_max = "
      f"{largest_singular_value(SHEAR):.4f} (1 + sqrt(5)/2 = {1 + np.sqrt(5) / 2:.4f})")
V_shear = np.linalg.eig(SHEAR)[1]
v_singular = np.linalg.svd(V_shear, compute_uv=False)
kappa_shear = v_singular[0] / max(v_singular[-1], np.finfo(float).tiny)
print("numpy's eigenvectors of S: " + " and ".join(
    f"({v[0]:.3g}, {v[1]:.3g})" for v in V_shear.T) + f", kappa(V) = {kappa_shear:.1e}")
gelfand = {d: largest_singular_value(np.linalg.matrix_power(SHEAR, d)) for d in
           (1, 2, 5, 10, 100, 1000)}
for d, norm in gelfand.items():
    print(f"d = {d:>4}: ||S^d|| = {norm:.3e}, ||S^d||^(1/d) = {norm ** (1 / d):.4f}")
# rules out: a diagonalisable S (a well-conditioned V), and ||S^d||^(1/d) not tending to rho
claims.claim("S has no usable eigenvector basis (kappa(V) above 1e12), yet ||S^d||^(1/d) "
             "approaches rho = 0.5, slowly: above 0.7 at d = 10, within 1 % of 0.5 at d = 1000",
             kappa_shear > 1e12 and gelfand[10] ** (1 / 10) > 0.7
             and abs(gelfand[1000] ** (1 / 1000) / 0.5 - 1) < 0.01,
             evidence=f"kappa(V) {kappa_shear:.1e}, ||S^1000||^(1/1000) = "
                      f"{gelfand[1000] ** (1 / 1000):.4f}");

# %% [markdown]
# For the defective $S$ no bound $\kappa(V)\rho^d$ exists (the printed $\kappa(V)$ is that of two
# nearly parallel vectors), but Gelfand's formula holds: $S^d = \begin{psmallmatrix}a^d &
# d\,a^{d-1}b\\ 0 & a^d\end{psmallmatrix}$ with $a = 0.5$, $b = 2$ carries a factor $d$, so
# $\|S^d\|^{1/d}$ creeps down to $\rho = 0.5$: from $\sigma_{\max}(S)$ at $d = 1$ to still above
# 0.7 at $d = 10$, and within 1 % of 0.5 only at $d = 1000$. (The ✔ line is a **claim**, from
# `helpers.claims`: the check that a sentence of this text stating a result is true of this
# run; where one is not, a warning box says so.)
#
# ### Exercise 3: `scale_to_spectral_radius` (≈ 5 min)
# Experiments need matrices with a chosen $\rho$. Multiplying $W$ by $c > 0$ multiplies every
# eigenvalue by $c$ (from $Wv = \lambda v$, $(cW)v = c\lambda v$), so $c = \rho/\rho(W)$ does it.
# No multiple of $W$ works when $\rho(W) = 0$ (a nilpotent matrix such as
# $\begin{psmallmatrix}0 & 1\\ 0 & 0\end{psmallmatrix}$): raise a `ValueError` then.

# %% nbgrader={"grade": false, "grade_id": "scale_to_spectral_radius", "locked": false, "schema_version": 3, "solution": true, "task": false}
def scale_to_spectral_radius(W, rho):
    """A new float64 array c * W (c > 0) with spectral radius rho; W (H, H) is not changed.

    Raises ValueError when the spectral radius of W is 0.
    """
    ### BEGIN SOLUTION
    W = np.asarray(W, dtype=np.float64)
    radius = spectral_radius(W)
    if radius == 0:
        raise ValueError("W has spectral radius 0: no multiple of it has spectral radius rho")
    return W * (rho / radius)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_scale_to_spectral_radius", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check: the shear to rho = 0.9, a diagonal matrix to rho = 1.5; a nilpotent matrix
# (rho = 0) must raise ValueError.
check_scale_to_spectral_radius(scale_to_spectral_radius, SHEAR, 0.9, "shear")
check_scale_to_spectral_radius(scale_to_spectral_radius, np.diag([0.5, -2.0, 1.0]), 1.5,
                               "diagonal")
check_scale_rejects_zero_radius(scale_to_spectral_radius, np.array([[0.0, 3.0], [0.0, 0.0]]),
                                "nilpotent 2x2")
checks.passed("scale_to_spectral_radius")

# %% nbgrader={"grade": true, "grade_id": "hidden_scale_to_spectral_radius", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for scale_to_spectral_radius run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("scale_to_spectral_radius", scale_to_spectral_radius)
_rng = np.random.default_rng(403)
check_scale_to_spectral_radius(scale_to_spectral_radius, _rng.normal(size=(10, 10)), 0.95,
                               "random 10x10")
check_scale_to_spectral_radius(scale_to_spectral_radius, ROTATION, 1.0, "rotation")
check_scale_to_spectral_radius(scale_to_spectral_radius, np.array([[4.0]]), 0.25, "1x1")
check_scale_rejects_zero_radius(scale_to_spectral_radius, np.zeros((3, 3)), "zero matrix")
check_scale_rejects_zero_radius(scale_to_spectral_radius, np.array([[0.0, 1.0], [0.0, 0.0]]),
                                "nilpotent 2x2")
### END HIDDEN TESTS

# %% [markdown]
# ### The rate is $\log\rho$
#
# We measure $\|\partial h_T/\partial h_k\|_2$ by **autograd**, not by multiplying matrices
# ourselves: the network runs forward, then one batched backward pass from $h_T$ (one
# backward per unit of $h_T$, vectorised by `is_grads_batched`) returns every
# $\partial h_T/\partial h_k$ at once. The inputs $x_t$ are random (they enter
# $h_t = \phi(W_{hh}h_{t-1} + x_t)$ directly, as if $W_{xh} = I$). For a symmetric $W_{hh}$ scaled
# to $\rho$ and no activation, the prediction is a straight line of slope $\log\rho$ on a log
# scale.

# %%
ACTIVATIONS = {"linear": lambda a: a, "tanh": torch.tanh, "relu": torch.relu,
               "sigmoid": torch.sigmoid}


def state_jacobian_norms(W_hh, activation, T, seed=0):
    """||dh_T/dh_k||_2 for k = 0..T (array of length T + 1) of h_t = phi(W_hh h_{t-1} + x_t),
    with x_t and h_0 random (seeded); by autograd, in one batched backward pass."""
    W = torch.as_tensor(W_hh, dtype=torch.float64)
    generator = course.torch_generator(seed)
    xs = torch.randn(T, W.shape[0], generator=generator, dtype=torch.float64)
    hs = [(0.5 * torch.randn(W.shape[0], generator=generator, dtype=torch.float64))
          .requires_grad_()]
    for x in xs:
        hs.append(ACTIVATIONS[activation](W @ hs[-1] + x))
    rows = torch.eye(W.shape[0], dtype=torch.float64)    # d h_T[i] / d h_k for every unit i
    jacobians = torch.autograd.grad(hs[-1], hs, grad_outputs=rows, is_grads_batched=True)
    return torch.linalg.matrix_norm(torch.stack(jacobians), ord=2).numpy()


def symmetric_matrix(H, seed):
    A = course.rng(seed).normal(size=(H, H))
    return (A + A.T) / 2


H, T = 32, course.pick(full=60, smoke=30)
distance = T - np.arange(T + 1)                          # t - k for k = 0..T
measured, predicted = {}, {}
for rho in (0.9, 1.0, 1.1):
    W = scale_to_spectral_radius(symmetric_matrix(H, seed=1), rho)
    measured[f"measured, rho = {rho}"] = state_jacobian_norms(W, "linear", T)
    predicted[rho] = rho ** distance.astype(float)
fig, ax = plt.subplots()
for (label, norms), (rho, line) in zip(measured.items(), predicted.items()):
    ax.plot(distance, norms, "o", markersize=5, markerfacecolor="none", markevery=2,
            label=label)
    ax.plot(distance, line, "--", color=ax.lines[-1].get_color(), linewidth=1,
            label=f"$\\rho^{{t-k}}$, rho = {rho}")
plots.labelled(ax, "Linear RNN, symmetric $W_{hh}$: gradient norm against distance",
               "distance in time t - k", "$\\|\\partial h_T / \\partial h_k\\|_2$", logy=True)
ax.legend(ncol=2)
plt.show()
gaps = {}
for (label, norms), rho in zip(measured.items(), predicted):
    slope = np.polyfit(distance, np.log(norms), 1)[0]
    gaps[rho] = max(abs(slope - np.log(rho)), np.max(np.abs(norms / predicted[rho] - 1)))
    print(f"{label}: fitted slope {slope:+.4f} per step, log(rho) = {np.log(rho):+.4f}; "
          f"largest gap to rho^(t-k): {np.max(np.abs(norms / predicted[rho] - 1)):.1e} "
          "(relative)")
print(f"over {T} steps: 0.9^{T} = {0.9 ** T:.1e}, 1.1^{T} = {1.1 ** T:.3g}")
# rules out: norms that differ from rho^(t-k) (a factor kappa(V) > 1, or another rate)
claims.claim("for a symmetric W_hh the measured norms equal rho^(t-k) up to rounding (slopes "
             "and values within 1e-9)", max(gaps.values()) < 1e-9,
             evidence=f"largest gap {max(gaps.values()):.1e}");

# %% [markdown]
# The markers sit on the dashed lines, and the printed slopes equal $\log\rho$: for a normal
# matrix $\|W^{t-k}\| = \rho^{t-k}$ exactly (the printed relative gaps are rounding errors).
# Small differences in $\rho$ compound: a radius 10 % below 1 loses a factor $0.9^T$ over $T$
# steps, 10 % above gains $1.1^T$ (the last line printed gives both for this $T$).
#
# ## 2. With an activation: a bound from the largest singular value (≈ 15 min)
#
# *What changes with a nonlinearity?* Now $h_t = \phi(a_t)$ with
# $a_t = W_{hh}h_{t-1} + W_{xh}x_t + b$, and (notebook 02)
# $J_t = \partial h_t/\partial h_{t-1} = \operatorname{diag}(\phi'(a_t))\,W_{hh}$: a different
# matrix at every step, so eigenvalues of one of them say little about the product. Norms do
# better. The spectral norm is submultiplicative, $\|AB\| \le \|A\|\,\|B\|$, and
# $\|\operatorname{diag}(d)\| = \max_i |d_i| \le \gamma$ where $\gamma$ bounds $|\phi'|$
# ($\gamma = 1/4$ for sigmoid, $1$ for tanh and ReLU). Hence
#
# $$\Bigl\|\frac{\partial h_t}{\partial h_k}\Bigr\| = \|J_t J_{t-1}\cdots J_{k+1}\|
#   \le \prod_{s=k+1}^{t}\|\operatorname{diag}(\phi'(a_s))\|\,\|W_{hh}\|
#   \le \bigl(\gamma\,\sigma_{\max}(W_{hh})\bigr)^{t-k}.$$
#
# Pascanu, Mikolov and Bengio (2013) read two conditions off this bound:
# - $\gamma\,\sigma_{\max} < 1$ is **sufficient** for vanishing: the right-hand side then goes to
#   0 geometrically, whatever the inputs;
# - $\sigma_{\max} > 1/\gamma$ is **necessary** for exploding: if $\gamma\sigma_{\max} \le 1$ the
#   norm stays at most 1 and cannot explode.
#
# Neither converse holds. $\gamma\sigma_{\max} \ge 1$ does **not** mean gradients survive
# (saturated units give $\phi' \ll \gamma$, and the direction $W_{hh}$ stretches most need not
# be the one the gradient travels), and $\sigma_{\max} > 1/\gamma$ does not mean they explode.
# And $\rho$ is not the quantity in the bound: $\rho \le \sigma_{\max}$, so a condition
# written with $\rho$ would claim a guarantee the bound does not give.
#
# ### Exercises 4–5: `gradient_bound` and `guaranteed_to_vanish` (≈ 5 min)

# %% nbgrader={"grade": false, "grade_id": "gradient_bound", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gradient_bound(W_hh, gamma, steps):
    """(gamma * sigma_max(W_hh)) ** steps, the bound on ||dh_t/dh_k|| for t - k = steps.

    W_hh (H, H); gamma > 0; steps an int (returns a float) or an array of ints (returns a
    float64 array of the same shape).
    """
    ### BEGIN SOLUTION
    base = gamma * largest_singular_value(W_hh)
    return base ** np.asarray(steps, dtype=np.float64) if np.ndim(steps) else float(base ** steps)
    ### END SOLUTION


# %% nbgrader={"grade": false, "grade_id": "guaranteed_to_vanish", "locked": false, "schema_version": 3, "solution": true, "task": false}
def guaranteed_to_vanish(W_hh, activation):
    """True when gamma * sigma_max(W_hh) < 1, the sufficient condition for vanishing gradients.

    activation: "sigmoid" (gamma = 1/4), "tanh", "relu" or "linear" (gamma = 1); any other
    activation raises ValueError.
    """
    ### BEGIN SOLUTION
    gammas = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0, "linear": 1.0}
    if activation not in gammas:
        raise ValueError(f"unknown activation {activation!r}; use one of {sorted(gammas)}")
    return bool(gammas[activation] * largest_singular_value(W_hh) < 1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gradient_bound", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check: the shear with tanh, for one distance and for several.
check_gradient_bound(gradient_bound, SHEAR, 1.0, 3, "shear")
check_gradient_bound(gradient_bound, SHEAR, 0.25, np.array([0, 1, 5, 10]), "shear")
checks.passed("gradient_bound")

# %% nbgrader={"grade": true, "grade_id": "hidden_gradient_bound", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for gradient_bound run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("gradient_bound", gradient_bound)
_rng = np.random.default_rng(404)
check_gradient_bound(gradient_bound, _rng.normal(size=(12, 12)) / 4, 0.25,
                     np.arange(0, 40, 3).reshape(2, 7), "random 12x12, a 2x7 array of steps")
check_gradient_bound(gradient_bound, ROTATION, 1.0, 0, "rotation, steps = 0")
check_gradient_bound(gradient_bound, np.diag([0.3, -0.8]), 1.0, 25, "diagonal")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_guaranteed_to_vanish", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check: 2 * identity with tanh (gamma * sigma_max = 2); the shear has rho = 0.5 but
# sigma_max = 1 + sqrt(5)/2 ≈ 2.118; 0.9 * an orthogonal matrix (sigma_max 0.9, Frobenius
# norm 1.56); gamma * sigma_max exactly 1; an unknown activation.
check_guaranteed_to_vanish(guaranteed_to_vanish, 0.5 * np.eye(3), "tanh", "0.5 * identity")
check_guaranteed_to_vanish(guaranteed_to_vanish, 2.0 * np.eye(2), "tanh", "2 * identity",
                           note="tanh's largest slope is 1 (at 0), not sigmoid's 1/4; ")
check_guaranteed_to_vanish(guaranteed_to_vanish, SHEAR, "tanh", "shear",
                           note="rho = 0.5 < 1 here, yet products of W_hh can grow; ")
check_guaranteed_to_vanish(guaranteed_to_vanish, SHEAR, "sigmoid", "shear")
check_guaranteed_to_vanish(guaranteed_to_vanish, 0.9 * ORTHOGONAL_3, "tanh",
                           "0.9 * a 3x3 orthogonal matrix",
                           note="every singular value of 0.9 * Q is 0.9, but its Frobenius norm "
                                "(np.linalg.norm(W) without ord=2) is 0.9 * sqrt(3) ≈ 1.56: the "
                                "Frobenius norm, the root of the sum of ALL squared singular "
                                "values, is not sigma_max; ")
check_guaranteed_to_vanish(guaranteed_to_vanish, np.diag([-4.0, 2.0]), "sigmoid",
                           "diagonal, gamma * sigma_max exactly 1",
                           note="at gamma * sigma_max = 1 the bound stays 1 at every distance; ")
check_rejects_unknown_activation(guaranteed_to_vanish)
checks.passed("guaranteed_to_vanish")

# %% nbgrader={"grade": true, "grade_id": "hidden_guaranteed_to_vanish", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for guaranteed_to_vanish run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("guaranteed_to_vanish", guaranteed_to_vanish)
_rng = np.random.default_rng(405)
_Q = np.linalg.qr(_rng.normal(size=(6, 6)))[0]
for _activation in ("sigmoid", "tanh", "relu", "linear"):
    check_guaranteed_to_vanish(guaranteed_to_vanish, 3.0 * _Q, _activation, "3 * orthogonal")
    check_guaranteed_to_vanish(guaranteed_to_vanish, 0.9 * _Q, _activation, "0.9 * orthogonal")
check_guaranteed_to_vanish(guaranteed_to_vanish, np.diag([4.0, 1.0, 0.5]), "sigmoid",
                           "diagonal, gamma * sigma_max exactly 1")
check_guaranteed_to_vanish(guaranteed_to_vanish, np.diag([1.0, 0.3]), "tanh",
                           "diagonal, gamma * sigma_max exactly 1")
check_guaranteed_to_vanish(guaranteed_to_vanish, np.array([[0.3, 1.5], [0.0, 0.3]]), "relu",
                           "rho = 0.3 but sigma_max > 1")
check_rejects_unknown_activation(guaranteed_to_vanish)
### END HIDDEN TESTS

# %% [markdown]
# ### PyTorch's default initialisation: the guarantee fails, gradients still vanish
#
# `torch.nn.RNN` draws every weight uniformly from $[-1/\sqrt H, 1/\sqrt H]$, variance
# $1/(3H)$. For such a random matrix the eigenvalues fill a disc of radius about
# $\sqrt{H\cdot 1/(3H)} = 1/\sqrt3$ (the circular law) while $\sigma_{\max}$ is about twice that
# (Marchenko–Pastur): $\rho < 1 < \sigma_{\max}$. What does that mean for a tanh RNN?

# %%
course.manual_seed(0)
H_default, T = 128, course.pick(full=60, smoke=30)
W_default = torch.nn.RNN(1, H_default).weight_hh_l0.detach().double().numpy()
norms = state_jacobian_norms(W_default, "tanh", T)
distance = T - np.arange(T + 1)
slope, intercept = np.polyfit(distance, np.log(norms), 1)
rate = np.exp(slope)
r_squared = 1 - np.var(np.log(norms) - slope * distance - intercept) / np.var(np.log(norms))
print(f"nn.RNN default, H = {H_default}: rho = {spectral_radius(W_default):.3f}, "
      f"sigma_max = {largest_singular_value(W_default):.3f}, guaranteed to vanish with tanh: "
      f"{guaranteed_to_vanish(W_default, 'tanh')}")
print(f"measured: ||dh_T/dh_k|| shrinks by a factor {rate:.3f} per step; over {T} steps "
      f"it is {norms[0]:.1e}, while the bound allows {gradient_bound(W_default, 1.0, T):.1e}")
fig, ax = plt.subplots()
measured_line, = ax.plot(distance, norms, label="measured (tanh)")
ax.plot(distance, gradient_bound(W_default, 1.0, distance), "--",
        color=measured_line.get_color(), label="its bound $(\\gamma\\sigma_{\\max})^{t-k}$")
ax.plot(distance, spectral_radius(W_default) ** distance.astype(float), ":", color="gray",
        label="$\\rho^{t-k}$ (for comparison)")
plots.labelled(ax, f"tanh RNN with PyTorch's default $W_{{hh}}$ (H = {H_default})",
               "distance in time t - k", "$\\|\\partial h_T/\\partial h_k\\|_2$", logy=True)
ax.legend()
plt.show()
# rules out: a norm that does not shrink, or not geometrically (a curved line on the log
# scale), or no faster than rho^(t-k)
claims.claim("rho < 1 < sigma_max, so the guarantee fails, while the measured norm shrinks "
             "geometrically (a straight line on the log scale, R^2 > 0.95), by a factor per step "
             "below rho", spectral_radius(W_default) < 1 < largest_singular_value(W_default)
             and not guaranteed_to_vanish(W_default, "tanh") and rate < spectral_radius(W_default)
             and r_squared > 0.95,
             evidence=f"factor {rate:.3f} per step (R^2 {r_squared:.3f}), rho = "
                      f"{spectral_radius(W_default):.3f}");

# %% [markdown]
# The printout shows the guarantee failing ($\gamma\sigma_{\max} > 1$, so the bound grows with
# the distance) while the measured norm shrinks geometrically, even faster than $\rho^{t-k}$:
# a sufficient condition that fails tells us nothing. On top of $W_{hh}$, each step multiplies
# by $\tanh'(a_t) < 1$ wherever a unit's pre-activation is not exactly 0.
#
# ## 3. Why eigenvalues can mislead: non-normal matrices (≈ 10 min)
#
# *If all eigenvalues are inside the unit circle, can gradients grow?* For a while, yes. Take
# $W = Q(D + U)Q^\top$ with $D$ diagonal, $U$ strictly upper triangular and $Q$ orthogonal: its
# eigenvalues are the diagonal of $D$ (triangular matrices keep theirs on the diagonal, and
# $Q\cdot Q^\top$ is a similarity), but $U$ makes it far from normal. The power $(D + U)^d$ mixes
# terms like $\binom{d}{j}\,\lambda^{d-j}u^j$, polynomial in $d$ times $\rho^d$: the polynomial
# wins for a while, then $\rho^d$ (as for the shear $S$, at a larger scale). The bound
# $\kappa(V)\rho^d$ of Section 1 is useless here: $\kappa(V)$ is huge.

# %%
def non_normal_matrix(H, seed, coupling=2.0):
    """Q (D + U) Q.T: eigenvalues (the diagonal of D) uniform in (-1, 1), U strictly upper
    triangular with entries of standard deviation coupling / sqrt(H)."""
    generator = course.rng(seed)
    D = np.diag(generator.uniform(-1, 1, size=H))
    U = np.triu(generator.normal(size=(H, H)), 1) * coupling / np.sqrt(H)
    Q = np.linalg.qr(generator.normal(size=(H, H)))[0]
    return Q @ (D + U) @ Q.T


T = 100
W_nn = scale_to_spectral_radius(non_normal_matrix(H, seed=1), 0.9)
distance = T - np.arange(T + 1)
linear_norms = state_jacobian_norms(W_nn, "linear", T)
peak = int(np.argmax(linear_norms[::-1]))                 # the distance of the largest norm
eigenvalues = np.linalg.eigvals(W_nn)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
measured_line, = left.plot(distance, linear_norms, label="measured $\\|W^{t-k}\\|$ (linear)")
left.plot(distance, 0.9 ** distance.astype(float), "--", color=measured_line.get_color(),
          label="its lower bound $\\rho^{t-k}$, rho = 0.9")
left.axhline(1.0, color="gray", linewidth=1, label="1 (no change)")
plots.labelled(left, "Non-normal $W_{hh}$: growth before decay", "distance in time t - k",
               "$\\|\\partial h_T/\\partial h_k\\|_2$", logy=True)
left.legend()
right.scatter(eigenvalues.real, eigenvalues.imag, s=12, label="eigenvalues")
plots.circle(right, 1.0, color="gray", linestyle="--", linewidth=1, label="unit circle")
right.set_aspect("equal")
plots.labelled(right, "Its eigenvalues: all inside the unit circle", "real part",
               "imaginary part")
right.legend(loc="upper right")
plt.show()
growth = linear_norms[::-1]                               # ||W^d|| for d = 0..T
print(f"rho = {spectral_radius(W_nn):.2f}, sigma_max = {largest_singular_value(W_nn):.2f}; "
      f"||W^d|| peaks at {growth[peak]:.1f} for d = {peak} steps, is still "
      f"{growth[50]:.2f} at d = 50 and {growth[T]:.1e} at d = {T}")
above_one = int(np.sum(growth > 1))
sigma_power = largest_singular_value(W_nn) ** peak
print(f"the one-step bound compounded: sigma_max^{peak} = {sigma_power:.1e}, "
      f"{sigma_power / growth[peak]:.1e} times the measured peak")
# rules out: eigenvalues inside the unit circle keeping ||W^d|| below 1, or only a brief bump,
# and a growth that never turns into the decay rho promises (how high the peak goes, and how
# long it lasts, depends on the draw)
claims.claim("every eigenvalue lies inside the unit circle, yet ||W^d|| rises above 5 and stays "
             "above 1 for over two dozen steps, before it decays (at d = 100 below a fifth of "
             "its peak)", spectral_radius(W_nn) < 1 and growth[peak] > 5 and above_one > 24
             and growth[T] < growth[peak] / 5,
             evidence=f"rho = {spectral_radius(W_nn):.2f}, peak {growth[peak]:.1f} at d = {peak}, "
                      f"above 1 for {above_one} steps, {growth[T]:.1e} at d = {T}")
# rules out: sigma_max^d describing the transient (a peak near what the one-step bound allows)
claims.claim("at the peak's distance sigma_max^d exceeds the measured peak over a hundredfold",
             sigma_power > 100 * growth[peak],
             evidence=f"sigma_max^{peak} = {sigma_power:.1e} against {growth[peak]:.1f}");

# %% [markdown]
# Every eigenvalue has modulus at most 0.9, yet the printout shows the gradient multiplied
# several times over (how many times depends on the draw: the printed peak) for dozens of steps
# before the decay promised by $\rho$ takes over. Neither number predicts this transient.
# $\rho$ gives the eventual rate only; $\sigma_{\max}$ bounds one step, and compounded,
# $\sigma_{\max}^d$, it is a bound that overshoots enormously (the printout compares it with the
# peak at the peak's distance). The transient is set by how far from normal $W$ is, which
# neither number captures (Trefethen and Embree's pseudospectra measure it): to know it,
# compute $\|W^d\|$. And normal matrices are the exception: a matrix with independent Gaussian
# or uniform entries, like PyTorch's default $W_{hh}$, is normal with probability 0 (the
# orthogonal and identity starts of notebook 06 are normal by construction).
#
# ## 4. How training moves the spectrum (≈ 5 min)
#
# *What does learning do to the eigenvalues?* Section 2 said the eigenvalues of $W_{hh}$ bound
# nothing once tanh multiplies each step by $\operatorname{diag}(\tanh'(a_t))$. They still
# describe the network near $h = 0$, where $\tanh' \approx 1$ and each Jacobian is about
# $W_{hh}$ itself: there, a direction whose $|\lambda|$ is well below 1 is forgotten
# geometrically, whatever else happens. So they are worth watching, not as a bound but as a
# summary of what the weights can carry. We train tanh RNNs ($H = 32$, PyTorch's default
# initialisation, Adam) on the adding problem with sequences short enough for them to learn it
# ($T = 10$), one run per seed, and compare the eigenvalues of $W_{hh}$ before and after.

# %%
T, steps, seeds = 10, course.pick(full=600, smoke=30), range(3)
before, after, histories = [], [], []
for seed in seeds:
    course.manual_seed(seed)
    net = models.FusedSequenceModel(2, 32, 1, cell="tanh")
    before.append(net.rnn.weight_hh_l0.detach().double().numpy().copy())
    histories.append(training.train(
        net, lambda i, seed=seed: tasks.adding_problem(64, T, seed=10_000 * seed + i),
        torch.nn.functional.mse_loss, steps=steps, lr=1e-2, desc=f"tanh RNN, seed {seed}"))
    after.append(net.rnn.weight_hh_l0.detach().double().numpy())
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
for seed, history in zip(seeds, histories):
    left.plot(plots.moving_average(history.losses, 20), label=f"seed {seed}")
left.axhline(1 / 6, color="gray", linestyle="--", linewidth=1.2, label="always answer 1: 1/6")
left.axhline(1 / 12, color="gray", linestyle="-.", linewidth=1.2,
             label="only the second number: 1/12")
plots.labelled(left, f"Adding problem, T = {T}: training loss", "training step",
               "MSE (moving average over 20 steps)", logy=True)
left.legend()
for label, W, marker in (("before training", before[0], "o"), ("after training", after[0], "x")):
    values = np.linalg.eigvals(W)
    right.scatter(values.real, values.imag, marker=marker, s=25,
                  label=f"{label}: rho = {spectral_radius(W):.2f}")
plots.circle(right, 1.0, color="gray", linestyle="--", linewidth=1, label="unit circle")
right.set_aspect("equal")
plots.labelled(right, "Eigenvalues of $W_{hh}$ (seed 0)", "real part", "imaginary part")
right.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
plt.show()
finals = [float(np.mean(h.losses[-50:])) for h in histories]
grad_peaks = [(max(h.grad_norms[:20]), max(h.grad_norms)) for h in histories]
radii = [(spectral_radius(b), spectral_radius(a)) for b, a in zip(before, after)]
sigmas = [(largest_singular_value(b), largest_singular_value(a)) for b, a in zip(before, after)]
for seed, final, (r0, r1), (s0, s1) in zip(seeds, finals, radii, sigmas):
    print(f"seed {seed}: loss over the last 50 steps {final:.3f} (always answering 1: "
          f"{1 / 6:.3f}); rho {r0:.3f} -> {r1:.3f}, sigma_max {s0:.3f} -> {s1:.3f}")
for seed, (early, largest) in zip(seeds, grad_peaks):
    print(f"seed {seed}: gradient norm, largest in the first 20 steps {early:.2f}, "
          f"largest of the run {largest:.2f}")
# rules out: runs that stay on the baseline (a constant answer scores 1/6), and runs that
# remember only the second number (1/12: no answer that ignores the first does better)
claims.claim_seeds("every run learns the task: its final loss is below 0.04, under half of the "
                   "1/12 that remembering only the second number scores",
                   [final < 0.04 for final in finals],
                   spread=f"final losses {min(finals):.3f} to {max(finals):.3f}")
# rules out: a spectrum that training leaves where it was (well inside the unit circle)
claims.claim_seeds("in every run the spectral radius grows from well inside the unit circle "
                   "(below 0.8) to about 1 or beyond (above 0.9), and sigma_max grows too",
                   [r0 < 0.8 and r1 > 0.9 and s1 > s0 for (r0, r1), (s0, s1)
                    in zip(radii, sigmas)],
                   spread=f"rho before {min(r for r, _ in radii):.2f} to "
                          f"{max(r for r, _ in radii):.2f}, after "
                          f"{min(r for _, r in radii):.2f} to {max(r for _, r in radii):.2f}")
# rules out: a radius past 1 making the gradient explode during training
claims.claim_seeds("no run's gradient norm ever rises above twice its largest value in the "
                   "first 20 steps",
                   [largest < 2 * early for early, largest in grad_peaks],
                   spread=f"largest of a run {min(g for _, g in grad_peaks):.2f} to "
                          f"{max(g for _, g in grad_peaks):.2f}");

# %% [markdown]
# Every run learns to add. Its loss falls far below the line of always answering 1, and below
# 0.04, under half of $1/12$: an answer that ignores the first marked number $v_1$ can do no
# better than $v_2 + 1/2$, whose error $v_1 - 1/2$ has variance $1/12$ ($v_1$ uniform on
# $[0, 1]$), so each run carries the first number across the sequence, not only the second.
# And in
# every run the outermost eigenvalues move out from well inside the unit circle to about the
# circle or past it (the printout gives the radius before and after, per seed);
# $\sigma_{\max}$ grows too. That is what carrying a number needs: the first marked value must
# survive up to $T - 1$ steps, and along a direction with $|\lambda|$ well below 1 it would fade
# geometrically. An eigenvalue past 1 does not make the **gradient** explode here (the state
# cannot: $|\tanh| < 1$): no run's gradient norm (over all weights) rose above twice its
# largest value in the first 20 steps (the last lines printed). Away from $h = 0$, tanh's
# slopes below 1 damp each step's Jacobian $\operatorname{diag}(\tanh'(a_t))\,W_{hh}$, and
# $T = 10$ steps leave little room to compound.
#
# ## 5. Explore (≈ 9 min)
#
# *How do radius, length, activation and matrix kind interact?* Move the sliders: the left
# plot shows $\|\partial h_T/\partial h_k\|_2$ measured by autograd (markers), its bound
# $(\gamma\sigma_{\max})^{t-k}$ (dashed, in the markers' colour) and $\rho^{t-k}$ (dotted grey);
# the right plot the eigenvalues, the unit circle and the circle of radius $\sigma_{\max}$. The kinds are a symmetric (normal) matrix, the
# non-normal matrix of Section 3 and an orthogonal matrix, each scaled to the chosen $\rho$ with
# your `scale_to_spectral_radius`. Each redraw prints how long it took.
#
# Things to try: the orthogonal kind with the linear activation at $\rho = 1$ (does the norm
# change with the distance?); tanh at $\rho = 1.2$ (the bound grows: does the norm explode,
# and if not, what holds it down?); the non-normal kind at $\rho = 0.9$ with each activation;
# the normal kind with sigmoid at $\rho$ just below 4 (what does $\gamma = 1/4$ guarantee?).

# %%
KINDS = {"normal": lambda: symmetric_matrix(32, seed=1),
         "non-normal": lambda: non_normal_matrix(32, seed=1),
         "orthogonal": lambda: np.linalg.qr(course.rng(1).normal(size=(32, 32)))[0]}


class GradientFlowView:
    """Gradient norms through time (flow_ax) and the spectrum (spectrum_ax) of one setting.

    The lines and points are made once; update() only changes their data, and the texts that
    are plain Unicode (no LaTeX to typeset on every redraw), which is what lets the explorer redraw
    quickly. The measured norms and their bound share one colour (the bound dashed); rho^(t-k) is
    grey. legend=False leaves the legends out (a figure of several views shows one legend).
    """

    def __init__(self, flow_ax, spectrum_ax, legend=True):
        self.flow_ax, self.spectrum_ax = flow_ax, spectrum_ax
        self.measured, = flow_ax.plot([], [], "o", markersize=3, label="measured (autograd)")
        self.bound_line, = flow_ax.plot([], [], "--", color=self.measured.get_color(),
                                        label="its bound (γ·σ_max)^(t−k)")
        self.radius_line, = flow_ax.plot([], [], ":", color="gray", label="ρ^(t−k)")
        plots.labelled(flow_ax, "gradient flow", "distance in time t − k", "‖∂h_T/∂h_k‖₂",
                       logy=True)
        flow_ax.yaxis.set_major_locator(LogLocator(numticks=6))   # few ticks, plain labels:
        flow_ax.yaxis.set_minor_locator(NullLocator())            # text is most of the time
        flow_ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:.0e}"))
        flow_ax.xaxis.set_major_locator(MaxNLocator(5))
        for axis in (spectrum_ax.xaxis, spectrum_ax.yaxis):
            axis.set_major_locator(MaxNLocator(3, symmetric=True))
        self.eigenvalues = spectrum_ax.scatter([], [], s=10, color="tab:purple",
                                               label="eigenvalues")
        plots.circle(spectrum_ax, 1.0, color="gray", linestyle="--", linewidth=1,
                     label="unit circle")
        self.sigma_circle = plots.circle(spectrum_ax, 1.0, color="black", linestyle=":",
                                         linewidth=1, label="radius σ_max")
        spectrum_ax.set_aspect("equal")
        plots.labelled(spectrum_ax, "spectrum", "real part", "imaginary part")
        if legend:
            flow_ax.legend(loc="lower left")
            spectrum_ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))

    def update(self, rho, T, activation, kind):
        W = scale_to_spectral_radius(KINDS[kind](), rho)
        norms = state_jacobian_norms(W, activation, T)
        distance = T - np.arange(T + 1)
        sigma = largest_singular_value(W)
        base = GAMMAS[activation] * sigma
        self.measured.set_data(distance, norms)
        self.radius_line.set_data(distance, rho ** distance.astype(float))
        self.bound_line.set_data(distance, gradient_bound(W, GAMMAS[activation], distance))
        shown = norms[norms > 0]
        self.flow_ax.set_xlim(-1, T + 1)
        self.flow_ax.set_ylim(max(1e-30, shown.min() / 10), max(10.0, shown.max() * 10))
        # Plain text at a fixed height: no LaTeX to typeset, no tick labels to measure first.
        self.flow_ax.set_title(f"{kind} W_hh, {activation}, T = {T}", y=1.02)
        values = np.linalg.eigvals(W)
        self.eigenvalues.set_offsets(np.column_stack([values.real, values.imag]))
        self.sigma_circle.set_data(*plots.circle_points(sigma))
        limit = 1.1 * max(1.0, sigma)
        self.spectrum_ax.set_xlim(-limit, limit)
        self.spectrum_ax.set_ylim(-limit, limit)
        verdict = "vanishing guaranteed" if base < 1 - 1e-9 else "no guarantee"
        self.spectrum_ax.set_title(f"ρ = {rho:.2f}, γ·σ_max = {base:.2f}\n{verdict}", y=1.02)
        return norms


def explorer_view(figure):
    figure.subplots_adjust(left=0.08, right=0.8, bottom=0.14, top=0.84, wspace=0.3)
    return GradientFlowView(*figure.subplots(1, 2))


explorer = widgets.Explorer(explorer_view, {
    "rho": ipywidgets.FloatSlider(value=0.95, min=0.5, max=4.0, step=0.05,
                                  description="rho", continuous_update=False),
    "T": ipywidgets.IntSlider(value=60, min=5, max=120, step=5, description="T",
                              continuous_update=False),
    "activation": ipywidgets.Dropdown(options=list(GAMMAS), value="tanh",
                                      description="activation"),
    "kind": ipywidgets.Dropdown(options=list(KINDS), value="non-normal", description="matrix"),
}, title="Gradient flow through time and the spectrum of W_hh")
explorer

# %% [markdown]
# The same plots for three settings, drawn without widgets (so that they also show in a static
# view of this notebook, where no slider renders):

# %%
settings = [(0.95, "tanh", "normal"), (0.95, "tanh", "non-normal"), (1.0, "linear", "orthogonal")]
fig, axes = plt.subplots(2, 3, figsize=(15, 9))
panels = {}
for column, (rho, activation, kind) in enumerate(settings):
    view = GradientFlowView(axes[0, column], axes[1, column], legend=False)
    panels[kind] = (view.update(rho, 60, activation, kind), view.bound_line.get_ydata())
handles = [*axes[0, 0].get_legend_handles_labels()[0], *axes[1, 0].get_legend_handles_labels()[0]]
fig.legend(handles=handles, loc="upper center", ncol=len(handles), fontsize=10)
fig.subplots_adjust(top=0.9, hspace=0.5, wspace=0.35)
plt.show()
for kind, (norms, bound) in panels.items():
    print(f"{kind:>10}: largest ||dh_T/dh_k|| {norms.max():.3g} (at distance "
          f"{60 - int(np.argmax(norms))}), at distance 60: {norms[0]:.2e}; the bound there: "
          f"{bound[0]:.2e}")
normal, non_normal, orthogonal = (panels[kind][0] for kind in ("normal", "non-normal",
                                                                "orthogonal"))
# rules out: a norm that follows its bound (the bound being tight)
claims.claim("normal W_hh with tanh: the measured norm stays under its bound and ends far "
             "below it", bool(np.all(normal <= panels["normal"][1] * (1 + 1e-9)))
             and normal[0] < 1e-6 * panels["normal"][1][0],
             evidence=f"{normal[0]:.1e} against {panels['normal'][1][0]:.1e} at distance 60")
sigma_nn = largest_singular_value(scale_to_spectral_radius(KINDS["non-normal"](), 0.95))
# rules out: the same rho giving the same behaviour (no growth), a growth that lasts, and a
# sigma_max close to rho
claims.claim("non-normal W_hh with tanh, the same rho: sigma_max is several times larger (over "
             "twice rho), and the norm first grows above 1, then decays (below 1e-3 at distance "
             "60)", sigma_nn > 2 * 0.95 and non_normal.max() > 1 and non_normal[0] < 1e-3,
             evidence=f"sigma_max {sigma_nn:.2f}; largest {non_normal.max():.3g}, "
                      f"{non_normal[0]:.1e} at distance 60")
# rules out: an orthogonal matrix changing the norm (no activation to do it)
claims.claim("orthogonal W_hh, linear: the norm is 1 at every distance",
             bool(np.allclose(orthogonal, 1.0, rtol=0, atol=1e-9)),
             evidence=f"largest deviation {np.abs(orthogonal - 1).max():.1e}");

# %% [markdown]
# Read the columns. Left, a symmetric $W_{hh}$ with $\rho = 0.95$: being normal, its
# $\sigma_{\max}$ equals $\rho$ (its bound and $\rho^{t-k}$ are one line), the guarantee holds,
# and the measured norm falls far faster than the bound, because tanh's slopes below 1 multiply
# in at every step. Middle, the
# non-normal matrix with the same $\rho$: $\sigma_{\max}$ is several times larger, so no
# guarantee, and the norm first **grows** for a few steps before it decays (Section 3's
# transient growth, damped by tanh). Right, an orthogonal matrix with no activation: every
# eigenvalue sits on the unit circle and every singular value is 1, so the gradient keeps its
# norm exactly, at any distance (the bound and $\rho^{t-k}$, both 1, lie under the markers).
# The printout gives each panel's largest norm and its value at distance 60.

# %% [markdown]
# Where am I? Run this to see which exercises pass their visible checks.

# %% nbgrader={"grade": false, "grade_id": "progress", "locked": true, "schema_version": 3, "solution": false, "task": false}
checks.progress()

# %% [markdown]
# ## What to remember
# - Linear RNN: $\partial h_t/\partial h_{t-d} = W_{hh}^d$; in the long run it grows or shrinks
#   like $\rho(W_{hh})^d$ (Gelfand's formula, for every matrix), exactly so for normal matrices;
#   a defective or non-normal matrix can first grow for many steps.
# - With an activation, $\|\partial h_t/\partial h_k\| \le (\gamma\sigma_{\max})^{t-k}$:
#   $\gamma\sigma_{\max} < 1$ is **sufficient** for vanishing, $\sigma_{\max} > 1/\gamma$
#   **necessary** for exploding; neither is both.
# - $\rho \le \sigma_{\max}$, with a large gap for non-normal matrices, whose gradients can grow
#   for many steps although every eigenvalue is inside the unit circle. Use $\sigma_{\max}$ for
#   guarantees, measure for the rest.
# - Learning a task that needs memory (the adding problem, in every seed here) moved the top
#   eigenvalues of $W_{hh}$ out to the unit circle or beyond, where information (and gradient)
#   can travel far.
#
# ## References
# - R. Pascanu, T. Mikolov and Y. Bengio, "On the difficulty of training recurrent neural networks", *ICML* 2013 (the bound and its sufficient and necessary conditions: Section 2.1).
# - L. N. Trefethen and M. Embree, *Spectra and Pseudospectra: The Behavior of Nonnormal Matrices and Operators*, Princeton University Press, 2005 (transient growth of non-normal matrices).
# - R. A. Horn and C. R. Johnson, *Matrix Analysis*, 2nd ed., Cambridge University Press, 2013 (spectral radius, singular values, $\rho(A) \le \|A\|$; normal matrices and the spectral theorem: Section 2.5; Gelfand's formula: Corollary 5.6.14).
# - T. Tao and V. Vu, "Random matrices: universality of ESDs and the circular law", *Annals of Probability* 38(5), 2010; V. A. Marchenko and L. A. Pastur, "Distribution of eigenvalues for some sets of random matrices", *Math. USSR-Sbornik* 1(4), 1967.
# - PyTorch documentation, `torch.nn.RNN` (weights initialised from $\mathcal U(-1/\sqrt H, 1/\sqrt H)$).
