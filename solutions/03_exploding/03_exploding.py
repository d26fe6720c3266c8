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
# # 03 · Exploding gradients: what explodes, and why
#
# <!-- colab-badge: `rnn-course release` puts the Open-in-Colab badge here -->
#
# Notebook 02 showed gradients shrinking geometrically when each step multiplies them by less
# than one. **What happens when a step can multiply them by more than one?** Backpropagation
# through time multiplies the gradient by one Jacobian per step, whose norm is at most
# $\gamma\,\sigma_{\max}(W_{hh})$: $\gamma$ is the largest slope of the activation, $\sigma_{\max}$
# the largest singular value of $W_{hh}$. Once $\gamma\sigma_{\max} > 1$ is possible, **any**
# activation can explode: the gradient can grow geometrically and overflow, training curves
# jump, and the loss surface grows "cliffs" where one gradient step throws the parameters far
# away. (Bengio, Simard and Frasconi 1994 described this exploding gradient problem together
# with the vanishing one.)
# Two things can grow, and we keep them apart: the **forward** state $h_t$, and the **backward**
# product of Jacobians. Our networks use ReLU, the case where the slope is exactly 1 and nothing
# saturates; section 4's cliff comes from a single *sigmoid* unit ($\gamma = 1/4$), which
# explodes all the same once its weight is large.
#
# **You will be able to**
# 1. say when a product of Jacobians can explode, for any activation ($\gamma\sigma_{\max} > 1$),
#    and why ReLU lets $W_{hh}$ alone decide;
# 2. measure growth per step from the slope of a log-scale plot, and tell the forward state's
#    growth from the backward product's;
# 3. find the first step at which a run overflows to inf or NaN, and explain it;
# 4. draw the loss surface of a one-unit sigmoid network, find its cliff and say why it is there.
#
# **Time:** about 75 minutes (each section states its own estimate).
# The exercises are graded: each has a visible check you can run now and hidden tests
# (random shapes, edge cases, PyTorch as the reference) that run when your notebook is graded.
# Only the code inside the exercise cells (the ones that say `# YOUR CODE HERE`) is graded, so
# put any helper function you write in one of those cells.

# %%
# Set-up (≈ 1 min). On Colab this installs the course's `helpers` package from the course
# repository; locally, the README's set-up command already did.
# colab-install: `rnn-course release` puts the Colab install of `helpers` here
import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm.auto import tqdm

from helpers import checks, course, diagnostics, models, plots, tasks, training

rng = course.setup(seed=0)

# %% [markdown]
# ## 1. When can a product of Jacobians grow? (≈ 10 min)
#
# *Which activations explode?* One step's Jacobian is (notebook 02)
# $J_t = \partial h_t/\partial h_{t-1} = \operatorname{diag}(\phi'(a_t))\,W_{hh}$. The norm of a
# product is at most the product of the norms, $\|\operatorname{diag}(d)\| = \max_i |d_i|$, and
# $\|W_{hh}\| = \sigma_{\max}$ (a singular value; $\sigma$ alone is the sigmoid), so
#
# $$\|J_T \cdots J_{k+1}\| \le (\gamma\,\sigma_{\max})^{T-k}, \qquad
#   \gamma = \max_a |\phi'(a)| \quad (1/4 \text{ for sigmoid, } 1 \text{ for tanh and ReLU}).$$
#
# If $\gamma\sigma_{\max} \le 1$ the product cannot explode: $\sigma_{\max} > 1/\gamma$ is
# necessary for exploding (this bound and this condition are Pascanu, Mikolov and Bengio 2013,
# Section 2.1; notebook 04 takes them further). Above it the bound allows
# geometric growth, which happens when the slopes the units actually have, $\phi'(a_t)$, stay
# near $\gamma$ along the directions $W_{hh}$ stretches (allowed, not guaranteed: notebook 04).
# Every activation allows it: a sigmoid unit $x_t = w\,\sigma(x_{t-1}) + b$ has the gain
# $w\,\sigma'(x_{t-1})$ per step, above 1 near $x = 0$ once $w > 4$ (section 4 measures one).
#
# ReLU is the case where nothing saturates. $\operatorname{relu}(x) = \max(x, 0)$ has derivative
# $1$ for $x > 0$ and $0$ for $x < 0$; at $x = 0$ it has none, and PyTorch (like most libraries)
# uses $0$ there. So $J_t = \operatorname{diag}(\mathbb 1[a_t > 0])\,W_{hh}$: on the active units
# it **is** $W_{hh}$. A tanh or sigmoid unit driven hard has a slope near 0 and damps the product;
# an active ReLU unit passes it on with slope exactly 1, however large its input. With
# $W_{hh} = s\,Q$, $Q$ orthogonal, every $\|J_t\| \le s$: $W_{hh}$ alone decides, and the
# switched-off units can only lower a step's norm below $s$.
#
# ### Exercises 1–2: `relu` and `relu_grad` (≈ 5 min)


# %% nbgrader={"grade": false, "grade_id": "relu", "locked": false, "schema_version": 3, "solution": true, "task": false}
def relu(x):
    """max(x, 0) elementwise, for a float64 array x of any shape (x itself is not changed)."""
    ### BEGIN SOLUTION
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)
    ### END SOLUTION


# %% nbgrader={"grade": false, "grade_id": "relu_grad", "locked": false, "schema_version": 3, "solution": true, "task": false}
def relu_grad(x):
    """d relu / dx elementwise, as float64: 1.0 where x > 0, else 0.0 (also at x = 0)."""
    ### BEGIN SOLUTION
    return (np.asarray(x) > 0).astype(np.float64)
    ### END SOLUTION


# %% [markdown]
# ### How your code is checked
#
# The read-only cell below holds the oracle (`torch.relu` and autograd, `torch.sigmoid`,
# `torch.nn.utils.get_total_norm` for gradient norms, and an exact numerical integral for the
# adding problem's baseline) and the checks the test cells call (collapsed in your copy: click
# it to expand).

# %% nbgrader={"grade": false, "grade_id": "checking_tools", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Checking tools (read-only). PyTorch is the reference; your code never calls it.
SAMPLE = np.array([-3.0, -1e-12, 0.0, 1e-12, 0.5, 7.0])


NARROW_FLOAT = ("float64 in, float64 out: float32 keeps only about 7 digits and float16 about 3 "
                "(no astype(np.float32), no np.float32 or torch default-dtype values).")


def expect_float64(name, what, got, inputs, hint):
    """A numpy result must hold float64: booleans and narrower floats each get their own hint."""
    dtype = getattr(got, "dtype", None)
    if not isinstance(got, np.ndarray | np.generic) or dtype == np.float64:
        return
    hints = {"b": "a comparison such as x > 0 gives booleans (True/False), not the numbers "
                  "1.0 and 0.0: convert it with .astype(np.float64).",
             "f": NARROW_FLOAT}
    checks.expect(name, False, f"{what} has dtype {dtype}, not float64.", inputs=inputs,
                  returned=f"dtype {dtype}", expected="dtype float64",
                  hint=hints.get(dtype.kind, hint))


def check_array_function(name, fn, x, expected, hint):
    """fn(x) must equal `expected` (float64, same shape) and leave x unchanged."""
    x = np.array(x, dtype=np.float64)
    before = x.copy()
    inputs = f"x of shape {x.shape}: {checks.preview(x, 6)}"
    got, _ = checks.call(name, fn, x, inputs=inputs)
    checks.expect(name, np.array_equal(x, before), "changed its input x in place.", inputs=inputs,
                  returned=f"x[:3] = {checks.preview(x)}", expected=f"x[:3] = {checks.preview(before)}",
                  hint="return a new array (np.maximum(x, 0.0)); do not write into x.")
    expect_float64(name, f"{name}(x)", got, inputs,
                   "integer arrays lose the fractional part; build results with float arrays.")
    checks.expect_close(name, f"{name}(x)", got, expected, inputs=inputs, rtol=0, atol=0,
                        hint=hint)


def check_relu(fn, x):
    check_array_function("relu", fn, x, torch.relu(torch.tensor(x, dtype=torch.float64)).numpy(),
                         "relu(x) = max(x, 0): negative entries become 0, the rest stay.")


def check_relu_grad(fn, x):
    xt = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    torch.relu(xt).sum().backward()
    check_array_function("relu_grad", fn, x, xt.grad.numpy(),
                         "1.0 where x > 0 and 0.0 elsewhere, including x = 0 (PyTorch's "
                         "choice).")


def check_global_grad_norm(fn, grads, label):
    grads = [np.array(g, dtype=np.float64) for g in grads]
    inputs = f"{label}: {len(grads)} arrays of shapes {[g.shape for g in grads]}"
    got, _ = checks.call("global_grad_norm", fn, grads, inputs=inputs)
    expected = float(torch.nn.utils.get_total_norm([torch.from_numpy(g) for g in grads]))
    checks.expect("global_grad_norm", np.ndim(got) == 0, "should return one number.",
                  inputs=inputs, returned=checks.preview(got), expected="a float",
                  hint="one norm for ALL the arrays together, not one per array.")
    checks.expect_close("global_grad_norm", "norm", np.float64(got), expected, inputs=inputs,
                        rtol=1e-10, atol=1e-300,
                        hint="sqrt(sum over every array of sum(g**2)): square and add ALL "
                             "entries first, then take one square root (not the sum of the "
                             "arrays' norms, and not a spectral norm).")


def reference_constant_mse(c):
    """E[(U1 + U2 - c)^2] by Gauss-Legendre quadrature over the density of S = U1 + U2 (s on
    [0, 1], 2 - s on [1, 2]): exact for this polynomial integrand, and no formula assumed."""
    nodes, weights = np.polynomial.legendre.leggauss(8)
    total = 0.0
    for lo, density in ((0.0, lambda s: s), (1.0, lambda s: 2.0 - s)):
        s = lo + (nodes + 1) / 2                              # the nodes mapped onto [lo, lo + 1]
        total = total + np.sum(weights / 2 * density(s) * (s - np.asarray(c)[..., None]) ** 2,
                               axis=-1)
    return total


def check_constant_answer_mse(fn, c, label):
    c_in = np.array(c, dtype=np.float64) if np.ndim(c) else float(c)
    before = np.copy(c_in)
    inputs = f"{label}: c = {checks.preview(np.asarray(c_in), 5)}"
    got, _ = checks.call("constant_answer_mse", fn, c_in, inputs=inputs)
    if np.ndim(c_in):
        checks.expect_unchanged("constant_answer_mse", "c", before, c_in, inputs=inputs)
    else:
        got = np.float64(checks.as_number("constant_answer_mse", "the MSE", got, inputs=inputs,
                                          hint="for a number c return one float."))
    checks.expect_close("constant_answer_mse", "MSE", got, reference_constant_mse(c_in),
                        inputs=inputs, rtol=1e-9, atol=1e-12,
                        hint="the EXACT expectation, not a sample average: write U1 + U2 - c as "
                             "(U1 + U2 - E[U1 + U2]) + (E[U1 + U2] - c); the cross term has "
                             "mean 0, the first part gives the variance of U1 + U2 (of a sum "
                             "of independent variables: the sum of their variances, and "
                             "Var(U) = E[U^2] - E[U]^2 for U uniform on [0, 1]), the second "
                             "part is a constant.")


def reference_single_unit(w, b, x0, T):
    x = torch.broadcast_tensors(*(torch.as_tensor(v, dtype=torch.float64) for v in (w, b, x0)))
    w, b, x = x
    for _ in range(T):
        x = w * torch.sigmoid(x) + b
    return x.numpy()


BOTH_BRANCHES = ("exp(x) overflows for x >> 0. np.where(x >= 0, 1 / (1 + exp(-x)), exp(x) / "
                 "(1 + exp(x))) computes BOTH branches on every entry before it picks one, so "
                 "exp(x) overflows where the other branch is kept; compute e = exp(-|x|) once "
                 "(it never overflows) and write both branches with it.")


def check_single_unit_rnn(fn, w, b, x0, T, label, warning_hint=None):
    inputs = f"{label}: w = {checks.preview(np.asarray(w))}, b = {checks.preview(np.asarray(b))}, " \
             f"x0 = {checks.preview(np.asarray(x0))}, T = {T}"
    got, caught = checks.call("single_unit_rnn", fn, w, b, x0, T, inputs=inputs)
    warned = [str(m.message) for m in caught if issubclass(m.category, RuntimeWarning)]
    checks.expect("single_unit_rnn", not warned, "raised a warning.", inputs=inputs,
                  returned=f"RuntimeWarning: {warned[0] if warned else ''}", expected="no warning",
                  hint=warning_hint or "a sigmoid written as 1 / (1 + exp(-x)) overflows for "
                                       "x << 0; use exp(-|x|) (notebook 02).")
    expect_float64("single_unit_rnn", "x_T", got, inputs,
                   "w, b and x0 are floats: x_T must be float64 too.")
    checks.expect_close("single_unit_rnn", "x_T", np.asarray(got, dtype=np.float64)
                        if np.ndim(got) else np.float64(got),
                        reference_single_unit(w, b, x0, T), inputs=inputs, rtol=1e-9, atol=1e-12,
                        hint="apply x <- w * sigmoid(x) + b exactly T times, starting from x0 "
                             "(T = 0 returns x0); w, b and x0 broadcast like numpy arrays.")


# %% nbgrader={"grade": true, "grade_id": "test_relu", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check: a vector, then the same numbers as a 2x3 matrix (any shape).
check_relu(relu, SAMPLE)
check_relu(relu, SAMPLE.reshape(2, 3))
checks.passed("relu")

# %% nbgrader={"grade": true, "grade_id": "hidden_relu", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for relu run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("relu", relu)
_rng = np.random.default_rng(301)
check_relu(relu, _rng.normal(size=(3, 4, 5)))
check_relu(relu, np.array([[-1e308, 1e308], [-0.0, 5e-324]]))
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_relu_grad", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check: note the entry x = 0; then the same numbers as a 3x2 matrix (any shape).
check_relu_grad(relu_grad, SAMPLE)
check_relu_grad(relu_grad, SAMPLE.reshape(3, 2))
checks.passed("relu_grad")

# %% nbgrader={"grade": true, "grade_id": "hidden_relu_grad", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for relu_grad run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("relu_grad", relu_grad)
_rng = np.random.default_rng(302)
_x = _rng.normal(size=(4, 6))
_x[::2, ::3] = 0.0
check_relu_grad(relu_grad, _x)
check_relu_grad(relu_grad, np.zeros((2, 2)))
### END HIDDEN TESTS

# %% [markdown]
# ## 2. How fast do gradients grow? (≈ 22 min)
#
# *How do we measure an explosion?* Training code watches the **global gradient norm**, one
# number for all parameters together: $\sqrt{\sum_{\text{arrays } g} \sum_i g_i^2}$, the
# Euclidean norm of all gradients stacked into one long vector. (It is the quantity gradient
# clipping by norm uses, in notebook 05.)
#
# ### Exercise 3: `global_grad_norm` (≈ 5 min)

# %% nbgrader={"grade": false, "grade_id": "global_grad_norm", "locked": false, "schema_version": 3, "solution": true, "task": false}
def global_grad_norm(grads):
    """sqrt of the sum of squared entries over a list of float arrays (any shapes), as a float.

    An empty list has norm 0.0.
    """
    ### BEGIN SOLUTION
    return float(np.sqrt(sum(np.sum(np.asarray(g, dtype=np.float64) ** 2) for g in grads)))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_global_grad_norm", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check: a matrix and a vector, then an empty list (norm 0.0).
check_global_grad_norm(global_grad_norm, [np.array([[3.0, 0.0], [0.0, 4.0]]),
                                          np.array([12.0])], "two arrays")
check_global_grad_norm(global_grad_norm, [], "no arrays")
checks.passed("global_grad_norm")

# %% nbgrader={"grade": true, "grade_id": "hidden_global_grad_norm", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for global_grad_norm run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("global_grad_norm", global_grad_norm)
_rng = np.random.default_rng(311)
check_global_grad_norm(global_grad_norm, [_rng.normal(size=s) for s in ((5, 3), (3, 3), (3,),
                                                                        (2, 2, 2))], "random")
check_global_grad_norm(global_grad_norm, [_rng.normal(size=(4, 4))], "one square matrix")
check_global_grad_norm(global_grad_norm, [np.array(2.5), np.array([1e-200, 0.0])],
                       "a 0-d array and tiny values")
check_global_grad_norm(global_grad_norm, [], "no arrays")
### END HIDDEN TESTS

# %% [markdown]
# ### The adding problem, and checking a paper's number (≈ 10 min)
#
# The experiments from here to notebook 07 train on the **adding problem** (Hochreiter and
# Schmidhuber 1997, in the form of Le, Jaitly and Hinton 2015; `helpers.tasks.adding_problem`).
# An input sequence has two channels: channel 0 holds numbers $U$ drawn uniformly from
# $[0, 1]$, channel 1 marks two positions, one in each half of the sequence; the target is the
# sum $U_1 + U_2$ of the two marked numbers. To answer, a network must carry the first marked
# number across up to $T - 1$ steps.
#
# What loss does a network reach that has learnt nothing? It ignores its input and answers a
# constant $c$, for a mean squared error $E[(U_1 + U_2 - c)^2]$ with $U_1, U_2$ independent and
# uniform on $[0, 1]$. Le et al. (2015) quote 0.1767 for always answering 1. Rather than take
# the number on trust, derive the exact value.
#
# ### Exercise 4: `constant_answer_mse` (≈ 5 min)
# Compute the expectation exactly (with pencil and paper first), not by sampling.

# %% nbgrader={"grade": false, "grade_id": "constant_answer_mse", "locked": false, "schema_version": 3, "solution": true, "task": false}
def constant_answer_mse(c):
    """The exact MSE of always answering c on the adding problem: E[(U1 + U2 - c)^2] for U1, U2
    independent and uniform on [0, 1].

    c: a number (returns a float) or a float64 array (returns an array of its shape; c itself is
    not changed).
    """
    ### BEGIN SOLUTION
    # E[U] = 1/2 and Var(U) = E[U^2] - E[U]^2 = 1/3 - 1/4 = 1/12, so U1 + U2 has mean 1 and
    # variance 1/6; E[(S - c)^2] = Var(S) + (E[S] - c)^2.
    mse = 1.0 / 6.0 + (1.0 - np.asarray(c, dtype=np.float64)) ** 2
    return float(mse) if mse.ndim == 0 else mse
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_constant_answer_mse", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check: always answering 1, then three constants at once.
check_constant_answer_mse(constant_answer_mse, 1.0, "the baseline")
check_constant_answer_mse(constant_answer_mse, np.array([0.0, 0.5, 2.0]), "three constants")
checks.passed("constant_answer_mse")

# %% nbgrader={"grade": true, "grade_id": "hidden_constant_answer_mse", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for constant_answer_mse run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("constant_answer_mse", constant_answer_mse)
_rng = np.random.default_rng(331)
check_constant_answer_mse(constant_answer_mse, _rng.uniform(-3, 5, size=(3, 4)), "random grid")
check_constant_answer_mse(constant_answer_mse, -2.5, "a negative constant")
check_constant_answer_mse(constant_answer_mse, 1e3, "a huge constant")
check_constant_answer_mse(constant_answer_mse, np.array(1.25), "a 0-d array")
### END HIDDEN TESTS

# %% [markdown]
# Now the paper's number against yours, and against a Monte Carlo estimate: the MSE of
# answering 1 over many sequences of `tasks.adding_problem`, with its standard error
# (the standard deviation of the squared errors over $\sqrt n$). From here on, every result
# the text states is checked right after its experiment by `helpers.claims`: a line with ✔ when
# it holds in this run, a warning box when it does not (the course's own tests make that an
# error).

# %%
from helpers import claims  # noqa: E402  (checks the prose's claims right after each experiment)

LE_ET_AL = 0.1767                                  # Le, Jaitly and Hinton (2015), quoted
n_sequences = course.pick(full=200_000, smoke=2_000)
_, adding_targets = tasks.adding_problem(n_sequences, 10, seed=0)
squared_errors = (adding_targets.double().numpy().ravel() - 1.0) ** 2
estimate = squared_errors.mean()
spread = squared_errors.std()
standard_error = spread / np.sqrt(n_sequences)
exact = constant_answer_mse(1.0)
constants = np.linspace(0.0, 2.0, 201)
best = constants[np.argmin(constant_answer_mse(constants))]
print(f"always answering 1: exact MSE {exact:.4f} (your formula); Monte Carlo over "
      f"{n_sequences} sequences {estimate:.4f} ± {standard_error:.4f}; Le et al. quote "
      f"{LE_ET_AL}")
print(f"the best constant answer on a grid of [0, 2] is c = {best:.2f}; the squared errors have "
      f"standard deviation {spread:.3f}, so a sample of n sequences gives the MSE to about "
      f"{spread:.3f}/sqrt(n): {LE_ET_AL - exact:.4f} away needs n of about "
      f"{(spread / (LE_ET_AL - exact)) ** 2:.0f}")
# rules out: a formula the sampled task disagrees with, a sample too small to tell 1/6 from the
# paper's 0.1767, and a better constant than 1
claims.claim("the Monte Carlo estimate agrees with the exact value (within 3 standard errors) "
             "and rules out 0.1767 (more than 10 standard errors away); no constant beats 1",
             abs(estimate - exact) < 3 * standard_error
             and abs(estimate - LE_ET_AL) > 10 * standard_error and best == 1.0,
             evidence=f"{estimate:.4f} ± {standard_error:.4f}");

# %% [markdown]
# The exact value is $1/6 \approx 0.1667$, and the sampled MSE agrees with it to within its
# standard error, while the paper's 0.1767 lies many standard errors away: it is not the
# baseline of this task (a slip, or an estimate from a small test set: the printout says how
# small). No constant does better than 1, the mean of $U_1 + U_2$. So $1/6$ is the line every
# adding-problem plot in this course draws: a network has learnt something only below it.
#
# ### Gradient norm against sequence length: forward and backward
#
# A ReLU RNN ($H = 32$) gets $W_{hh} = s\,Q$ with $Q$ a random orthogonal matrix, so every
# singular value of $W_{hh}$ is exactly $s$ and every $\|J_t\| \le s$. For each scale $s$ and
# length $T$ we take the adding-problem loss on the last output and compute the gradient
# reaching the first state, $\|dL/dh_1\|$, and the global norm of the parameters' gradient with
# your function. On a log scale, geometric growth $\|g\| \approx C\rho^T$ is a straight line of
# slope $\log \rho$.
#
# $\|dL/dh_1\|$ is not the product of Jacobians alone. By the chain rule
# $dL/dh_1 = J_2^\top \cdots J_T^\top\, dL/dh_T$, so
#
# $$\|dL/dh_1\| = \underbrace{\|dL/dh_T\|}_{\text{set by the forward pass}} \times
#   \underbrace{\frac{\|dL/dh_1\|}{\|dL/dh_T\|}}_{\le\, s^{T-1}\text{: the backward product}} .$$
#
# The first factor grows with $T$ when the **state** grows: the output is
# $\hat y = W_{hy} h_T + b_y$ and $dL/dh_T = W_{hy}^\top\, \partial L/\partial \hat y$, with
# $\partial L/\partial \hat y = 2(\hat y - y)/B$ for the mean squared error over a batch of $B$,
# so a large $h_T$ makes a large $dL/dh_T$. The second is the backward product, at most $s$ per
# step. We measure the three growth rates separately (with $\|h_T\|$, the forward state), for
# eight random draws of $Q$ and of the other weights; the plots show the first draw.


# %%
def gradient_norms(net, inputs, targets):
    """(||h_T||, ||dL/dh_T||, ||dL/dh_1||, global norm of dL/dparameters by your
    global_grad_norm) for the MSE loss; every norm over the whole batch."""
    loss_fn = torch.nn.functional.mse_loss
    to_states = diagnostics.hidden_grad_norms(net, inputs, targets, loss_fn)
    net.zero_grad()
    output, hiddens = net(inputs)
    loss_fn(output, targets).backward()
    parameters = global_grad_norm([p.grad.numpy() for p in net.parameters()])
    return float(hiddens[-1].detach().norm()), to_states[-1], to_states[0], parameters


lengths = np.arange(5, course.pick(full=61, smoke=21), 5)
scales, draws = (1.0, 1.5, 2.0), range(course.pick(full=8, smoke=2))
NAMES = ("state ||h_T||", "||dL/dh_T||", "||dL/dh_1||", "global norm")
norms = {}                                        # [s][name]: array (draw, length)
for s in tqdm(scales, desc="scales"):
    table = np.array([[gradient_norms(models.orthogonal_rnn(s, seed=draw).double(),  # float64:
                                      inputs.double(), targets.double())             # room to grow
                       for inputs, targets in (tasks.adding_problem(32, int(T), seed=5 + draw)
                                               for T in lengths)] for draw in draws])
    norms[s] = dict(zip(NAMES, np.moveaxis(table, -1, 0)))
    norms[s]["backward ratio"] = norms[s]["||dL/dh_1||"] / norms[s]["||dL/dh_T||"]


def factor(values):
    """The factor per extra step: exp of the slope of log(values) against T."""
    return float(np.exp(np.polyfit(lengths, np.log(values), 1)[0]))


fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.8))
plots.line_plot(lengths, {f"s = {s}": norms[s]["||dL/dh_1||"][0] for s in scales},
                title="Gradient reaching the first state (first draw)", ax=left,
                xlabel="sequence length T", ylabel="$\\|dL/dh_1\\|$", logy=True, marker="o")
parts = {"$\\|h_T\\|$ (forward state)": "state ||h_T||", "$\\|dL/dh_T\\|$": "||dL/dh_T||",
         "$\\|dL/dh_1\\| / \\|dL/dh_T\\|$ (backward)": "backward ratio",
         "$\\|dL/dh_1\\|$": "||dL/dh_1||"}
plots.line_plot(lengths, {label: norms[2.0][name][0] for label, name in parts.items()},
                title="s = 2: what makes $\\|dL/dh_1\\|$ grow (first draw)", ax=right,
                xlabel="sequence length T", ylabel="norm", logy=True, marker="o")
right.plot(lengths, norms[2.0]["backward ratio"][0, 0] * 2.0 ** (lengths - lengths[0]), "k--",
           linewidth=1, label="slope of the bound $s^{T-1}$ (factor 2 per step)")
right.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)  # below: no line
fig.tight_layout()                                                                  # under it
plt.show()
rates = {s: {name: np.array([factor(v) for v in norms[s][name]]) for name in norms[s]}
         for s in scales}
for s in scales:
    print(f"s = {s}, factor per extra step over {len(draws)} draws: " + "; ".join(
        f"{name} {claims.spread(rates[s][name], '.2f')}" for name in
        ("state ||h_T||", "||dL/dh_T||", "backward ratio", "||dL/dh_1||", "global norm")))
within_bound = all((norms[s]["backward ratio"] <= s ** (lengths - 1.0) * (1 + 1e-9)).all()
                   for s in scales)
# rules out: a backward pass that multiplies by more than s = sigma_max per step (a wrong
# Jacobian, or a bound that does not apply to ReLU)
claims.claim("in every draw, scale and length the backward ratio ||dL/dh_1|| / ||dL/dh_T|| is "
             "at most s^(T-1)", within_bound,
             evidence=f"{len(draws) * len(scales) * len(lengths)} cases")
to_first = {s: rates[s]["||dL/dh_1||"] for s in scales}
# rules out: ReLU with an orthogonal W_hh (s = 1) preserving the gradient, as a linear net would
claims.claim_seeds("at s = 1 the gradient reaching h_1 shrinks (factor per step below 1)",
                   list(to_first[1.0] < 1), claims.spread(to_first[1.0], ".2f", "factors"))
# rules out: the scale making no difference to the growth
claims.claim_seeds("the factor per step grows with s (s = 1 < 1.5 < 2 in each draw)",
                   list((to_first[1.0] < to_first[1.5]) & (to_first[1.5] < to_first[2.0])))
above = to_first[2.0] > 2.0
state = rates[2.0]["state ||h_T||"]
# rules out: ||dL/dh_1|| never growing faster than s, and growth above s without a growing
# forward state
claims.claim("at s = 2, ||dL/dh_1|| grows by more than s per step in some draws; in each of "
             "those draws the state ||h_T|| grows too (factor above 1.2)",
             bool(above.any()) and bool((state[above] > 1.2).all()),
             evidence=f"{above.sum()}/{len(draws)} draws above 2, state factors "
                      + claims.spread(state[above], ".2f"))
backward = rates[2.0]["backward ratio"]
# rules out: a backward ratio whose fitted factor exceeds s where ||dL/dh_1||'s does (then the
# excess would not come from the forward side)
claims.claim("in those draws the backward ratio's fitted factor is at most s = 2, and the fitted "
             "factors of ||dL/dh_T|| and of the backward ratio multiply to that of ||dL/dh_1||",
             bool((backward[above] <= 2.0).all()) and np.allclose(
                 rates[2.0]["||dL/dh_T||"] * backward, to_first[2.0], rtol=1e-9),
             evidence="backward factors " + claims.spread(backward[above], ".2f"))
gap = max(np.abs(rates[s]["||dL/dh_T||"] / rates[s]["state ||h_T||"] - 1).max() for s in scales)
# rules out: a dL/dh_T that does not follow the state (then the forward growth would not be
# what feeds ||dL/dh_1||)
claims.claim("||dL/dh_T|| grows at the state's rate (factors within 10 % in every draw and "
             "scale)", gap < 0.1, evidence=f"largest gap {gap:.1%}")
# rules out: a global norm that stays flat (dominated by its short-range terms) while the
# long-range terms grow: a flat norm against a factor of 1.2 would be 17 % off
fast = [(r, g) for s in (1.5, 2.0) for r, g in zip(to_first[s], rates[s]["global norm"])
        if r > 1.2]
claims.claim("wherever the gradient reaching h_1 grows by more than 1.2 per step, the global "
             "norm grows at nearly the same rate (within 10 %)",
             len(fast) >= 3 and all(abs(g / r - 1) < 0.1 for r, g in fast),
             evidence=f"{len(fast)} draws and scales; largest gap "
                      f"{max((abs(g / r - 1) for r, g in fast), default=np.nan):.1%}");

# %% [markdown]
# The printed factors are the slopes made readable, and the backward ratio never exceeds its
# bound $s^{T-1}$ (first check). At $s = 1$ the gradient reaching the first state shrinks in
# every draw: units that are switched off ($a < 0$) cut their rows out of the Jacobian, so the
# backward factor is below $s$. It grows faster for larger $s$, and how fast depends on the
# draw, that is on which units the inputs switch on.
#
# At $s = 2$ some draws print a factor for $\|dL/dh_1\|$ **above** $s = 2$. Each length $T$
# draws its own inputs, so the points of a line are different products of Jacobians, each under
# its own bound $s^{T-1}$; in those draws the backward ratio's fitted factor is at most 2
# (printed), so the rest must come from the other factor. The right-hand plot shows it:
# the forward state $\|h_T\|$ grows with $T$ too (a ReLU state is not bounded, unlike a tanh or
# sigmoid state), $\|dL/dh_T\|$ grows with it, at the state's rate, and only then does the
# backward product multiply it further. The fitted factors of $\|dL/dh_T\|$ and of the backward
# ratio multiply to that of $\|dL/dh_1\|$, as they must by construction: the ratio is defined so
# that the logarithms add, and a least-squares slope is linear in the data. So two explosions
# stack here: the forward state's and the backward product's. In a tanh network only the second
# can happen. Wherever the gradient grows fast, the global norm, which the training loop sees,
# grows at nearly the same rate: its long-range terms dominate the sum once they grow.
#
# ## 3. Overflow: inf and NaN (≈ 8 min)
#
# *What does an explosion look like from the outside?* We train ReLU RNNs on the adding problem
# with plain SGD (learning rate 0.1), from weights too large: $W_{hh} = 1.5\,Q$, sixteen seeds.
# The plot and the printout show three of them, picked by what happened to them: the run with
# the largest first loss, the lost run whose first loss was the smallest, and the run that stayed
# finite longest. `training.train` records the loss and the
# gradient norm at every step and stops at the first one that is not finite.

# %%
T, steps, seeds = 50, course.pick(full=200, smoke=40), range(1, course.pick(full=17, smoke=4))
histories = {seed: training.train(
    models.orthogonal_rnn(1.5, seed=seed),
    lambda i, seed=seed: tasks.adding_problem(64, T, seed=1000 * seed + 10 + i),
    torch.nn.functional.mse_loss, steps=steps, lr=0.1, optimizer="sgd", progress=False)
    for seed in tqdm(seeds, desc="ReLU RNNs, SGD, one seed after another")}
first_loss = {seed: histories[seed].losses[0] for seed in seeds}
lasted = {seed: histories[seed].first_nonfinite_step or np.inf for seed in seeds}
largest = max(seeds, key=first_loss.get)
smallest_lost = min((s for s in seeds if lasted[s] < np.inf and s != largest), key=first_loss.get)
longest = max((s for s in seeds if s not in (largest, smallest_lost)), key=lasted.get)
shown = [largest, smallest_lost, longest]         # picked by property, not by seed number
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for seed in shown:
    line, = left.plot(histories[seed].losses, "o-", label=f"seed {seed}")
    right.plot(histories[seed].grad_norms, "o-", color=line.get_color(), label=f"seed {seed}")
plots.labelled(left, "Loss before each update", "training step (linear to 10, then log)",
               "MSE loss", logy=True)
plots.labelled(right, "Gradient norm before each update", "training step (linear to 10, then log)",
               "global gradient norm", logy=True)
for ax in (left, right):
    ax.set_xscale("symlog", linthresh=10, linscale=3)   # the first steps, where runs are lost
    ax.set_xlim(-0.3, steps)            # the whole budget: a lost run's line ends where it was lost
    ticks = [t for t in (0, 2, 4, 6, 8, 10, 30, 100) if t <= steps]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.legend()
fig.suptitle("ReLU RNNs (s = 1.5) trained with SGD; inf and NaN are not drawn", y=1.02)
plt.show()
for seed in shown:
    history = histories[seed]
    last = history.first_nonfinite_step
    lines = [f"step {i}: loss {loss:.3g}, gradient norm {norm:.3g}" for i, (loss, norm)
             in enumerate(zip(history.losses[:10 if last is None else last + 1],
                              history.grad_norms))]
    print(f"seed {seed}: " + "; ".join(lines)
          + ("" if last is not None else f"; ... still finite after {len(history.losses)} steps"))
print(f"(float32, the training precision, overflows to inf above {np.finfo(np.float32).max:.2e})")
bad_steps = [h.first_nonfinite_step for h in histories.values()]
lost = np.array([b is not None and b <= 10 for b in bad_steps])
print(claims.fraction(lost, f"runs of {len(lost)} that hit inf or NaN within 10 steps:"))
# rules out: s = 1.5 with this learning rate training like any other run (overflow a rarity)
claims.claim("most runs (more than half) hit inf or NaN within their first 10 steps",
             bool(lost.mean() > 1 / 2),
             evidence=f"{lost.sum()}/{len(lost)}; first non-finite steps "
                      + claims.spread([b for b in bad_steps if b is not None], "d"))

def first_forward_pass(seed):
    """(loss, ||h_1||, ||h_T||, the state's growth per step) of run `seed` before any update:
    its initial network on its first batch; the norms are averages over the batch."""
    net = models.orthogonal_rnn(1.5, seed=seed)
    inputs, targets = tasks.adding_problem(64, T, seed=1000 * seed + 10)
    with torch.no_grad():
        output, hiddens = net(inputs)
        sizes = np.array([float(h.norm(dim=1).mean()) for h in hiddens])
    growth = np.exp(np.polyfit(np.arange(T), np.log(sizes), 1)[0])
    return float(torch.nn.functional.mse_loss(output, targets)), sizes[0], sizes[-1], growth


start = {seed: first_forward_pass(seed) for seed in seeds}
for seed in shown:
    print(f"seed {seed} before any update: loss {start[seed][0]:.3g}; the state's norm goes "
          f"from {start[seed][1]:.2g} at h_1 to {start[seed][2]:.3g} at h_{T} "
          f"({start[seed][3]:.2f} per step)")
huge = [seed for seed in seeds if start[seed][0] > 1e4]
ranks = [np.argsort(np.argsort(values)) for values in        # Spearman's rank correlation
         ([start[seed][0] for seed in seeds], [start[seed][2] / start[seed][1] for seed in seeds])]
rank = float(np.corrcoef(*ranks)[0, 1])
grew_most = max(seeds, key=lambda seed: start[seed][2] / start[seed][1])
print(f"first losses {claims.spread(list(first_loss.values()), '.2g')}; rank correlation of the "
      f"first loss with the state's growth ||h_{T}|| / ||h_1||: {rank:.2f}; the state grew most "
      f"in seed {grew_most} ({start[grew_most][2] / start[grew_most][1]:.3g}-fold)")
# rules out: first losses that the recorded run did not start from, first losses unrelated to
# how much the state grew during the first forward pass, and growth faster than s per step
claims.claim("the first recorded loss is the initial network's; the first losses span many "
             "orders of magnitude and rise with the state's growth over the first forward pass "
             "(rank correlation above 0.5; the largest first loss is the run whose state grew "
             "most), at a rate no larger than s = 1.5 per step",
             rank > 0.5 and grew_most == largest
             and max(first_loss.values()) > 1e4 * min(first_loss.values())
             and all(abs(start[seed][0] / histories[seed].losses[0] - 1) < 1e-3 for seed in seeds)
             and max(start[seed][3] for seed in seeds) <= 1.5,
             evidence=f"rank correlation {rank:.2f}; state growth per step "
                      + claims.spread([start[seed][3] for seed in seeds], ".2f"))
late = [seed for seed, b in zip(seeds, bad_steps) if start[seed][0] < 10 and b is not None
        and b <= 10]
healthy_last = {seed: max(i for i, loss in enumerate(histories[seed].losses) if loss < 10)
                for seed in late}
after = [histories[seed].first_nonfinite_step - healthy_last[seed] for seed in late]
print(f"{len(late)} runs start with a loss below 10 and are lost within 10 steps; from their last "
      f"loss below 10 to their first non-finite step: " + claims.spread(after, "d", "updates"))
# rules out: every lost run being lost to its first forward pass alone, and a slow drift (the
# gradient growing over many updates) from a moderate loss to overflow
claims.claim("some runs that start with a loss below 10 are still lost within 10 steps, each "
             "within two updates of its last loss below 10",
             len(late) > 0 and max(after) <= 2 and smallest_lost in late,
             evidence=f"{len(late)} runs: seeds {late}");
at_once = [seed for seed in seeds if first_loss[seed] >= 10]
between = [seed for seed in at_once if first_loss[seed] <= 1e4]
# rules out: a large first loss that the first update survives, first losses in two separate
# clusters (none between 10 and 10^4), and moderate starts that always survive their first update
claims.claim("every run whose first loss is 10 or more (some of them between 10 and 10^4, some "
             "above 10^4) is non-finite at step 1, and so are some runs whose first loss is "
             "below 10",
             all(histories[seed].first_nonfinite_step == 1 for seed in at_once)
             and len(between) > 0 and len(huge) > 0
             and any(histories[seed].first_nonfinite_step == 1 for seed in late),
             evidence=f"{len(at_once)} runs with a first loss >= 10 ({len(between)} up to 10^4); "
                      f"lost at step 1 with a first loss below 10: "
                      f"{sum(histories[seed].first_nonfinite_step == 1 for seed in late)}");



# %% [markdown]
# Read each printed line from the left. Two things go wrong, one forward and one in training.
#
# - **The forward pass can explode before any update.** The loss at step 0 is computed with the
#   initial weights, yet the runs' first losses span many orders of magnitude (printed), and
#   they rise with how much the state grew over the 50 steps of the first forward pass (the
#   printed rank correlation; the run with the largest first loss, the first one shown, is the
#   one whose state grew most). $\|W_{hh}h\| \le 1.5\,\|h\|$ allows up to $1.5$ per step; the
#   inputs decide which units are active and how much of that is used. A huge $h_T$ makes a
#   huge output error and a huge gradient, and the first update, scaled by it, throws $W_{hh}$ to
#   where the next forward pass overflows: every run whose first loss is 10 or more is
#   non-finite at step 1.
# - **A moderate start does not protect a run.** Some runs start with a loss below 10 and are
#   lost all the same, and fast: within one or two updates of their last loss below 10 the loss
#   is astronomical or not a number at all (the printed count of updates; the second run shown
#   is one of them), some of them at step 1 already.
#
# The two are ends of one range, not two kinds of run: first losses between 10 and $10^4$
# occur too, and those runs are lost at step 1 as well.
#
# In float32 anything above the printed limit becomes `inf`, and the first `inf - inf` or
# `0 * inf` turns into `NaN`, after which every later number is `NaN` too. Most runs are lost
# within their first few steps (the printed count, with its interval), each at the last step
# printed for it; a run that survives its start ends its line with "...". Detecting the first
# non-finite step (and stopping, or skipping the update) is the least a training loop should do.
#
# ## 4. The cliff of a one-unit sigmoid network (≈ 20 min)
#
# *What does the loss surface look like near an explosion?* Pascanu, Mikolov and Bengio (2013,
# Section 2.3) studied the smallest recurrent network: one **sigmoid** unit,
# $x_t = w\,\sigma(x_{t-1}) + b$, with the loss $(\sigma(x_{50}) - 0.7)^2$ after 50 steps. We use
# it with two changes:
#
# $$x_t = w\,\sigma(x_{t-1}) + b, \qquad L(w, b) = (x_T - 0.7)^2, \qquad T = 20 .$$
#
# The loss is on $x_T$ itself, without the final sigmoid. $\sigma$ is increasing, so dropping it
# moves no cliff; but on both sides of the cliff $x_T$ is far from 0, where the sigmoid is
# saturated, and its slope $\sigma'(x_T)$ would shrink every gradient by a factor of notebook
# 02's kind (printed below), in a section about growth. And $T = 20$ instead of 50, because at
# $T = 50$ and $w$ near 10 the cliff is narrower than the gap between neighbouring float64
# numbers (the cell after the plot shows this, and where it stops being true).
#
# *Why can a sigmoid unit explode?* Its largest slope is $\gamma = 1/4$, so the bound of
# section 1 allows growth once $|w| > 4$, and here $w$ is near 10. One step's derivative is
# $\partial x_t/\partial x_{t-1} = w\,\sigma'(x_{t-1})$, the **gain**. If $x_0 = 0.5$ is itself a
# fixed point of the map, $0.5 = w\,\sigma(0.5) + b$, that is on the line
# $b = 0.5 - w\,\sigma(0.5)$, the state stays there; and if its gain $w\,\sigma'(0.5)$ is above
# 1, the fixed point is **unstable**: a state slightly above it is pushed up, step after step,
# to a fixed point near $w + b$, one slightly below down to one near $b$, and the distance grows
# by about the gain at every step. So $\partial x_T/\partial(w, b)$ is of the order of
# $(w\,\sigma'(0.5))^T$ on that line, and across it $x_T$ jumps from one plateau to the other:
# that line is the **cliff**.
#
# The map itself hardly changes across the line: on both sides it has the same three fixed
# points, a stable one near $b$, the unstable one near 0.5 and a stable one near $w + b$
# (printed below). What changes is which stable fixed point's **basin of attraction** $x_0 = 0.5$
# lies in: the cliff is the boundary between two basins. That is not a **bifurcation**, a change
# of parameters that creates or destroys fixed points, as on this map's two saddle-node lines,
# where the unstable fixed point merges with one of the stable ones (printed: at the start's
# $w$ they lie far from the start, on either side of the cliff). Doya (1992, 1993) studied how
# bifurcations disturb learning: "At bifurcation points, the output of a network can change
# discontinuously with the change of parameters and therefore convergence of gradient descent
# algorithms is not guaranteed" (Doya 1993, abstract). Pascanu et al. (2013, Section 2.2) use
# this one-unit model to draw the distinction: a jump of the state, and an exploding gradient,
# can come from crossing the boundary between basins with no bifurcation at all, as here. The
# cell below measures the gain, the fixed points and the jump.
#
# ### Exercise 5: `single_unit_rnn` (≈ 5 min)
# Return $x_T$. Make it work for arrays $w$, $b$, $x_0$ of one shape (or numbers) so that a
# whole grid of $(w, b)$ is computed at once, and use a sigmoid that cannot overflow.


# %% nbgrader={"grade": false, "grade_id": "single_unit_rnn", "locked": false, "schema_version": 3, "solution": true, "task": false}
def single_unit_rnn(w, b, x0, T):
    """x_T of x_t = w * sigmoid(x_{t-1}) + b, t = 1..T, starting from x0.

    w, b, x0: numbers or float64 arrays that broadcast together; T: int >= 0.
    Returns x_T with the broadcast shape (a float64 array, 0-d for numbers).
    """
    ### BEGIN SOLUTION
    w, b, x = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (w, b, x0)))
    x = x.copy()
    for _ in range(T):
        e = np.exp(-np.abs(x))
        x = w * np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)) + b
    return x
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_single_unit_rnn", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check: numbers, a small grid, a huge positive state (x_1 = 731: exp(x) overflows),
# then a huge weight (x_1 = -731: exp(-x) overflows).
check_single_unit_rnn(single_unit_rnn, 5.0, -2.5, 0.5, 10, "numbers")
check_single_unit_rnn(single_unit_rnn, np.array([[1.0, 6.0], [-3.0, 9.0]]),
                      np.array([[0.0, -3.0], [1.0, -4.5]]), np.full((2, 2), 0.5), 20, "a 2x2 grid")
check_single_unit_rnn(single_unit_rnn, 1000.0, 0.0, 1.0, 3, "a huge positive state",
                      warning_hint=BOTH_BRANCHES)
check_single_unit_rnn(single_unit_rnn, -1000.0, 0.0, 1.0, 3, "a huge weight")
checks.passed("single_unit_rnn")

# %% nbgrader={"grade": true, "grade_id": "hidden_single_unit_rnn", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for single_unit_rnn run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("single_unit_rnn", single_unit_rnn)
_rng = np.random.default_rng(321)
check_single_unit_rnn(single_unit_rnn, 2.0, 0.1, -1.0, 0, "T = 0 returns x0")
check_single_unit_rnn(single_unit_rnn, 3.0, -1.0, 0.2, 1, "one step")
check_single_unit_rnn(single_unit_rnn, _rng.uniform(-5, 12, size=(3, 4)),
                      _rng.uniform(-8, 3, size=(3, 4)), 0.5, 50, "random grid, T = 50")
check_single_unit_rnn(single_unit_rnn, np.array([-2000.0, 2000.0]), np.array([0.0, -10.0]),
                      np.array([3.0, -3.0]), 5, "huge weights (overflow-prone)")
check_single_unit_rnn(single_unit_rnn, np.linspace(0, 10, 5), 0.0, np.linspace(-1, 1, 5), 7,
                      "w and x0 arrays, b a number")
### END HIDDEN TESTS

# %% [markdown]
# ### The loss surface
#
# Your function evaluates $L$ on a grid of $(w, b)$ with $x_0 = 0.5$ and $T = 20$. Where
# $x_T$ jumps between neighbouring grid points (we look in the middle of the map) we have crossed
# a cliff; we then walk toward it by bisection (again with your function) until the gradient,
# from autograd, exceeds $10^4$, and take one plain gradient step from there.

# %%
T_cliff = 20
ws = np.linspace(-4, 12, course.pick(full=321, smoke=81))
bs = np.linspace(-10, 4, course.pick(full=281, smoke=71))
W, B = np.meshgrid(ws, bs)
x_T = single_unit_rnn(W, B, np.full(W.shape, 0.5), T_cliff)
loss = (x_T - 0.7) ** 2


def loss_and_grad(w, b):
    """L(w, b) and its gradient by autograd, through the same recurrence in torch."""
    p = torch.tensor([w, b], dtype=torch.float64, requires_grad=True)
    x = torch.tensor(0.5, dtype=torch.float64)
    for _ in range(T_cliff):
        x = p[0] * torch.sigmoid(x) + p[1]
    value = (x - 0.7) ** 2
    value.backward()
    return float(value.detach()), p.grad.numpy()


def largest_jump(x_T):
    """(row, col) of the largest change of x_T between neighbouring w, in the middle of the map
    (6 <= w <= 10): x_T jumps between w = ws[col] and ws[col + 1] at b = bs[row]."""
    jumps = np.abs(np.diff(x_T, axis=1))
    jumps[:, (ws[:-1] < 6) | (ws[:-1] > 10)] = 0
    return np.unravel_index(np.argmax(jumps), jumps.shape)


def bisect_cliff(row, col, T, x_T, stop=lambda w: False, iterations=200):
    """Bisect the jump of x_T (at T steps) found by largest_jump, keeping lo on its own side,
    until stop(lo) or until lo and hi are neighbouring float64 numbers; returns (lo, hi)."""
    lo, hi, b0 = ws[col], ws[col + 1], bs[row]
    middle = (x_T[row, col] + x_T[row, col + 1]) / 2
    for _ in range(iterations):
        w_mid = (lo + hi) / 2
        if w_mid in (lo, hi) or stop(lo):
            break
        if (single_unit_rnn(w_mid, b0, 0.5, T) > middle) == (x_T[row, col] > middle):
            lo = w_mid
        else:
            hi = w_mid
    return lo, hi


row, col = largest_jump(x_T)
b0 = bs[row]
lo, _ = bisect_cliff(row, col, T_cliff, x_T,
                     stop=lambda w: np.linalg.norm(loss_and_grad(w, b0)[1]) > 1e4)
value, grad = loss_and_grad(lo, b0)
start, lr = np.array([lo, b0]), 0.01
end = start - lr * grad
clipped = start - lr * grad * min(1.0, 10 / np.linalg.norm(grad))   # a preview of notebook 05
sig_half = 1 / (1 + np.exp(-0.5))                       # sigma(0.5) and sigma'(0.5)
slope_half = sig_half * (1 - sig_half)
sig_valley = 1 / (1 + np.exp(-0.7))
w_valley = 1 / (sig_valley * (1 - sig_valley))         # above it the fixed point 0.7 repels
STEEP = 100                      # the dashed cliff is drawn where the gain compounds to >= 100
w_steep = STEEP ** (1 / T_cliff) / slope_half          # gain^T = STEEP
cliff_w = np.linspace(w_steep, ws[-1], 100)
valley = np.ma.masked_where(W > w_valley, x_T)         # x_T = 0.7 where 0.7 is stable
direction = end - start                 # the plain step, cut where it leaves the map
to_edge = min((limit - s0) / d for s0, d, lo_, hi_ in zip(start, direction, (ws[0], bs[0]),
                                                         (ws[-1], bs[-1]))
              for limit in (lo_, hi_) if d != 0 and (limit - s0) / d > 0)
edge = start + min(1.0, 0.97 * to_edge) * direction           # the head inside the axes
fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
image = left.pcolormesh(W, B, np.log10(loss + 1e-12), shading="auto", cmap="magma", vmin=0)
fig.colorbar(image, ax=left, extend="min", label="$\\log_{10} L(w, b)$ (black: $L < 1$)")
left.contour(W, B, valley, levels=[0.7], colors="deepskyblue", linewidths=1.5)
left.plot([], [], color="deepskyblue",
          label="zero-loss valley ($x_T = 0.7$), up to $w = 1/\\sigma'(0.7)$")
left.plot(cliff_w, 0.5 - cliff_w * sig_half, "--", color="lime", linewidth=1.5,
          label="cliff: $b = 0.5 - w\\,\\sigma(0.5)$ where $(w\\,\\sigma'(0.5))^T \\geq$ "
                f"{STEEP}")
left.annotate("", xy=edge, xytext=start,
              arrowprops={"arrowstyle": "->", "color": "cyan", "lw": 2})
left.plot(*start, "o", color="cyan", markersize=8, label="start (arrow: one plain step)")
plots.labelled(left, f"Loss of the one-unit RNN (T = {T_cliff})", "recurrent weight w", "bias b")
left.legend(loc="lower left", fontsize=8)
ZW, ZB = np.meshgrid(np.linspace(start[0] - 0.5, start[0] + 0.5, 201),
                     np.linspace(start[1] - 0.5, start[1] + 0.5, 201))
zoom_loss = (single_unit_rnn(ZW, ZB, np.full(ZW.shape, 0.5), T_cliff) - 0.7) ** 2
image = right.pcolormesh(ZW, ZB, zoom_loss, shading="auto", cmap="magma")
fig.colorbar(image, ax=right, label="$L(w, b)$ (linear scale)")
right.plot(ZW[0], 0.5 - ZW[0] * sig_half, "--", color="lime", linewidth=1.5, label="the cliff")
right.annotate("", xy=clipped, xytext=start,
               arrowprops={"arrowstyle": "->", "color": "white", "lw": 1.5})
right.plot(*clipped, "s", color="white", markersize=7, label=f"one step, gradient clipped to norm 10 (step {lr * 10:.2f} long)")
right.plot(*start, "o", color="cyan", markersize=8, markeredgecolor="black", label="start")
plots.labelled(right, "Close-up of the start: the cliff and the clipped step",
               "recurrent weight w", "bias b")
right.legend(loc="lower left", fontsize=8)
for ax in (left, right):
    ax.grid(False)
fig.tight_layout()
plt.show()
x_sides = single_unit_rnn(start[0], start[1] + np.array([-0.1, 0.1]), 0.5, T_cliff)


def fixed_points(w, b, bisections=60):
    """[(x*, gain w sigma'(x*))] for every fixed point x* = w sigma(x*) + b, w > 0 (they lie in
    [b, w + b]): sign changes of w sigma(x) + b - x on a fine grid, refined by bisection."""
    xs = np.linspace(b - 1, w + b + 1, 4001)
    gap = single_unit_rnn(w, b, xs, 1) - xs
    points = []
    for i in np.flatnonzero(np.sign(gap[:-1]) != np.sign(gap[1:])):
        lo_x, hi_x = xs[i], xs[i + 1]
        for _ in range(bisections):
            mid = (lo_x + hi_x) / 2
            same = np.sign(single_unit_rnn(w, b, mid, 1) - mid) == np.sign(gap[i])
            lo_x, hi_x = (mid, hi_x) if same else (lo_x, mid)
        sig_x = 1 / (1 + np.exp(-lo_x))
        points.append((float(lo_x), float(w * sig_x * (1 - sig_x))))
    return points


sides_fixed = [fixed_points(start[0], start[1] + db) for db in (-0.1, 0.1)]
for db, points in zip((-0.1, 0.1), sides_fixed):
    print(f"b = start {db:+.1f}: fixed points (gain) " + ", ".join(
        f"{x:.2f} ({g:.2f})" for x, g in points))
merge = (1 + np.array([1.0, -1.0]) * np.sqrt(1 - 4 / start[0])) / 2  # sigma(x*) where gain = 1
b_merge = np.log(merge / (1 - merge)) - start[0] * merge            # b = x* - w sigma(x*)
print(f"at w = {start[0]:.3f} fixed points appear or vanish (saddle-node) at b = "
      f"{b_merge[0]:.2f} and {b_merge[1]:.2f}; the start is at b = {start[1]:.2f}")
# rules out: a cliff that is a bifurcation (the number or stability of the fixed points changing
# across the line), and a saddle-node line near the start
claims.claim("on both sides of the line the map has the same three fixed points, stable "
             "(gain below 1), unstable (above 1), stable, and x_0 = 0.5 lies on either side of "
             "the unstable one; the saddle-node lines are more than 1 away from the start in b",
             all(len(p) == 3 and p[0][1] < 1 < p[1][1] and p[2][1] < 1 for p in sides_fixed)
             and sides_fixed[0][1][0] > 0.5 > sides_fixed[1][1][0]
             and np.abs(b_merge - start[1]).min() > 1,
             evidence=f"saddle-node b {b_merge[0]:.2f}, {b_merge[1]:.2f}");
loss_below, loss_above = (x_sides - 0.7) ** 2       # 0.1 below and above the start in b
sig_sides = 1 / (1 + np.exp(-x_sides))
gain = start[0] * slope_half
print(f"the start lies on the line b = 0.5 - w sigma(0.5) to within "
      f"{abs(start[1] - (0.5 - start[0] * sig_half)):.1e}; its gain w sigma'(0.5) = {gain:.3f}, "
      f"and gain^{T_cliff} = {gain ** T_cliff:.1e}")
print(f"the dashed cliff is drawn from w = {w_steep:.2f}, where gain^{T_cliff} = {STEEP}")


def b_of_the_valley(w):
    """The b at which x_T = 0.7, for w > 0 (x_T rises with b): bisection with your function."""
    lo_b, hi_b = bs[0], bs[-1]
    for _ in range(60):
        mid = (lo_b + hi_b) / 2
        lo_b, hi_b = (mid, hi_b) if single_unit_rnn(w, mid, 0.5, T_cliff) < 0.7 else (lo_b, mid)
    return lo_b


off_valley = max(abs(b_of_the_valley(w) - (0.7 - w * sig_valley))
                 for w in (1, 2, 3, 4, w_valley))
off_cliff = max(abs(b_of_the_valley(w) - (0.5 - w * sig_half)) for w in (w_steep, 8, 10))
print(f"x_T = 0.7: within {off_valley:.3f} in b of the line b = 0.7 - w sigma(0.7) up to "
      f"w = 1/sigma'(0.7) = {w_valley:.2f} (drawn), within {off_cliff:.0e} of the cliff's line "
      f"from w = {w_steep:.2f} on")
# rules out: a drawn valley that is not the stable fixed point 0.7 (off its line), and an
# x_T = 0.7 curve that leaves the cliff's face where the dashed line is drawn
claims.claim("up to w = 1/sigma'(0.7) the valley follows the fixed point 0.7 (within 0.02 in b "
             "of its line); where the cliff is drawn, x_T = 0.7 lies on the cliff's face "
             "(within 0.01 of its line)", off_valley < 0.02 and off_cliff < 0.01,
             evidence=f"{off_valley:.3f} and {off_cliff:.1e}")
print(f"0.1 below and above the start in b: x_T = {x_sides[0]:.2f} and {x_sides[1]:.2f}, "
      f"L = {loss_below:.1f} and {loss_above:.1f} (a factor {loss_below / loss_above:.1f}); "
      f"with the final sigmoid, L would be {(sig_sides[0] - 0.7) ** 2:.3f} and "
      f"{(sig_sides[1] - 0.7) ** 2:.3f}, and sigma'(x_T) = "
      f"{sig_sides[0] * (1 - sig_sides[0]):.4f} and {sig_sides[1] * (1 - sig_sides[1]):.3f} "
      "would multiply every gradient")
# rules out: a start off the line, a stable fixed point (gain below 1), a gain other than the one
# the text states, and a "cliff" whose two sides are not the two plateaus
claims.claim("the start lies on b = 0.5 - w sigma(0.5) with gain w sigma'(0.5) = 2.36 "
             "(gain^20 about 3e7); across the line x_T goes from below -3 to above 3",
             abs(start[1] - (0.5 - start[0] * sig_half)) < 1e-3 and abs(gain - 2.36) < 5e-3
             and abs(np.log10(gain ** T_cliff / 3e7)) < 0.1 and x_sides[0] < -3 < 3 < x_sides[1],
             evidence=f"gain {gain:.4f}, x_T {x_sides[0]:.2f} / {x_sides[1]:.2f}")
with_sigmoid = (sig_sides[0] - 0.7) ** 2 / (sig_sides[1] - 0.7) ** 2
# rules out: the sigmoid-free loss separating the plateaus by orders of magnitude (the reason
# the text does NOT give), and an output sigmoid that would leave the gradients alone
claims.claim("the two sides' losses differ by less than a factor of 10, with or without the "
             "final sigmoid, and the sigmoid's slope there is below 0.02",
             loss_below / loss_above < 10 and with_sigmoid < 10
             and (sig_sides * (1 - sig_sides)).max() < 0.02,
             evidence=f"{loss_below / loss_above:.1f} and {with_sigmoid:.1f}")
print(f"start (w, b) = ({start[0]:.6f}, {start[1]:.2f}): L = {value:.3g}, "
      f"|dL/d(w, b)| = {np.linalg.norm(grad):.1e}")
print(f"one step with learning rate {lr} moves the parameters by {np.linalg.norm(end - start):.1e} "
      f"to ({end[0]:.3g}, {end[1]:.3g}), where L = {loss_and_grad(*end)[0]:.3g}")
print(f"the clipped step moves by {np.linalg.norm(clipped - start):.2f}, to L = "
      f"{loss_and_grad(*clipped)[0]:.3g}")
plateau = np.linalg.norm(loss_and_grad(ws[col], b0)[1])   # one grid step away, off the cliff
print(f"at the grid point the search started from, w = {ws[col]:.2f}: |dL/d(w, b)| = "
      f"{plateau:.2g}")
# rules out: a gradient beside the cliff no larger than on the plateau, a plain step that stays
# on the map or does no harm, and a clipped step that raises the loss (its length, 0.1, is set
# by the clipping, so only the loss is a test)
claims.claim("beside the cliff the gradient is huge (over 100 times the plateau's one grid step "
             "away), one plain step leaves the map and makes the loss far larger, and the "
             "clipped step stays near the start without raising it",
             np.linalg.norm(grad) > max(1e4, 100 * plateau)
             and not (ws[0] <= end[0] <= ws[-1] and bs[0] <= end[1] <= bs[-1])
             and loss_and_grad(*end)[0] > 100 * value
             and np.linalg.norm(clipped - start) < 1 and loss_and_grad(*clipped)[0] <= value,
             evidence=f"|grad| {np.linalg.norm(grad):.1e}, L {value:.3g} -> "
                      f"{loss_and_grad(*end)[0]:.3g} (plain), {loss_and_grad(*clipped)[0]:.3g} "
                      "(clipped)");

# %% [markdown]
# Why not $T = 50$, as in the paper? The same search at $T = 50$, with the bisection run until
# its two ends are **neighbouring** float64 numbers, and the float64 number after them:

# %%
x_T_paper = single_unit_rnn(W, B, np.full(W.shape, 0.5), 50)
row50, col50 = largest_jump(x_T_paper)
lo50, hi50 = bisect_cliff(row50, col50, 50, x_T_paper)
three = np.array([lo50, hi50, np.nextafter(hi50, np.inf)])
sides = single_unit_rnn(three, bs[row50], 0.5, 50)
for w_float, x_50 in zip(three, sides):
    print(f"T = 50, b = {bs[row50]:.2f}: w = {float(w_float)!r} gives x_50 = {x_50:.4f}")
one_step = float(single_unit_rnn(hi50, bs[row50], 0.5, 1))
print(f"one step from x_0 = 0.5 at the middle w: x_1 = {one_step!r} "
      + ("(exactly 0.5: in float64 this w puts the fixed point on x_0)" if one_step == 0.5
         else "(not 0.5: no float64 w puts the fixed point exactly on x_0 here)"))
# rules out: a cliff with a slope float64 can resolve (the bisection would then end on two
# neighbours whose x_50 differ by little), and a middle value that is neither a plateau nor the
# fixed point itself
claims.claim("at T = 50, x_50 goes from the low plateau (below -3) to the high one (above 3) "
             "within two neighbouring float64 gaps in w; a float in between, if any, keeps x_t "
             "= 0.5 exactly: the unstable fixed point",
             np.nextafter(lo50, hi50) == hi50 and sides[0] < -3 and sides[2] > 3
             and (sides[1] > 3 or (one_step == 0.5 and sides[1] == 0.5)),
             evidence=f"x_50 = {sides[0]:.3f}, {sides[1]:.3f}, {sides[2]:.3f} over "
                      f"{three[2] - lo50:.1e} in w");


def neighbours_across(w_mid, T):
    """x_T at the two neighbouring float64 w where it crosses the middle of its rise, b held on
    the line b = 0.5 - w sigma(0.5) at w_mid: bisection from w_mid -+ 0.01."""
    b_line = 0.5 - w_mid * sig_half
    lo_w, hi_w = w_mid - 0.01, w_mid + 0.01
    low_side = single_unit_rnn(lo_w, b_line, 0.5, T)
    middle = (low_side + single_unit_rnn(hi_w, b_line, 0.5, T)) / 2
    while (w_new := (lo_w + hi_w) / 2) not in (lo_w, hi_w):
        if (single_unit_rnn(w_new, b_line, 0.5, T) > middle) == (low_side > middle):
            lo_w = w_new
        else:
            hi_w = w_new
    return single_unit_rnn(np.array([lo_w, hi_w]), b_line, 0.5, T)


resolution = {}                        # w: (gain^50 times the float64 gap at w, x_50 step)
for w_mid in (7.0, float(lo50)):
    pair = neighbours_across(w_mid, 50)
    resolution[w_mid] = ((w_mid * slope_half) ** 50 * np.spacing(w_mid), abs(pair[1] - pair[0]))
    print(f"w = {w_mid:.2f}: gain^50 = {(w_mid * slope_half) ** 50:.1e}, times the float64 gap "
          f"in w {np.spacing(w_mid):.1e} = {resolution[w_mid][0]:.1e}; neighbouring floats give "
          f"x_50 = {pair[0]:.5f} and {pair[1]:.5f}")
(small, step_small), (large, step_large) = resolution.values()
# rules out: a cliff too narrow for float64 at every w (then no qualification is needed), and one
# float64 resolves at the searched w
claims.claim("float64 resolves the rise at w = 7 (neighbouring floats change x_50 by under "
             "0.01; gain^50 times the gap below 1e-3), not at the searched w (gain^50 times the "
             "gap above 1, a step of more than 3)", small < 1e-3 and step_small < 0.01
             and large > 1 and step_large > 3,
             evidence=f"{step_small:.1e} and {step_large:.2f}");

# %% [markdown]
# Here, at $w$ near the printed value, no grid, bisection or gradient can stand on the side of
# this cliff: the whole rise happens within one or two rounding steps of float64, and a plot at
# $T = 50$ would show a step with no slope. That holds where the gain compounded over the 50
# steps, times the gap between neighbouring floats in $w$, is well above 1 (the printed
# product); at $w = 7$ it is far below 1, and float64 resolves the rise (the first of the two
# lines). Where the printout shows $x_{50} = 0.5000$ for the middle $w$, that is not a third
# plateau but the cliff's edge itself: in float64, $w\,\sigma(0.5) + b$ rounds to exactly $0.5$
# there, so $x_t$ sits on the unstable fixed point for all 50 steps, as it would in exact
# arithmetic only on the line itself; one float further, the gain ($w\,\sigma'(0.5)$ per
# step, over 50 steps) carries the rounding error of a single step up to the high plateau.
#
# Back to $T = 20$ and the plot above. The loss is made of two smooth plateaus, $x_T$ near the
# lower fixed point (high loss) and near the upper one (lower loss; the colour scale's lower
# limit is $L = 1$, all smaller losses are black, so that the two differ in colour), separated by the dashed line, the cliff, where the
# printed gain compounds over the $T$ steps. The line is drawn where the compounded gain is at
# least 100; toward $w = 1/\sigma'(0.5)$, where the gain falls to 1, the rise of $x_T$ across
# it becomes gradual and the cliff fades out. The zero-loss valley is drawn where the fixed
# point 0.7 is stable, up to $w = 1/\sigma'(0.7)$ (printed), and there it follows that fixed
# point's line $b = 0.7 - w\,\sigma(0.7)$; for larger $w$ it bends toward the cliff, and where
# the dashed line is drawn $x_T = 0.7$ lies on the cliff's face only (the printed distances). Across the cliff the loss
# changes by the printed factor, less than a decade: what makes it a cliff is the **gradient**,
# printed beside the plateau's. A learning rate that suits the plateaus throws the parameters
# far off the map in one step (the arrow follows the step's direction up to the edge of the
# plot; the printed distance is how far the step really goes), and the loss where it lands is far larger than where it
# started: any progress made before is undone. Rescaling the step to a bounded length keeps
# its direction and stays near the start (the close-up): that is gradient clipping, the subject
# of notebook 05.
#
# ## 5. Erratic training (≈ 14 min)
#
# *What does training look like in the exploding regime?* The same ReLU RNN, trained with SGD
# (learning rate 0.01, $T = 40$) from $s = 1$ and from $s = 1.3$, 64 seeds each: enough to
# count how often something happens, with an interval. We call a
# step a **jump** when the loss is more than three times the loss of the step before, and we
# log the gradient norm at every step, to see what the gradient was doing at each jump. The
# seeds of a scale train together as one batched computation
# (`helpers.ensembles`; each seed follows the run it would follow alone).

# %%
from helpers import ensembles  # noqa: E402

T, steps, seeds = 40, course.pick(full=100, smoke=20), range(course.pick(full=64, smoke=4))
scales = (1.0, 1.3)
histories = {}
for s in scales:
    ensemble = ensembles.Ensemble(lambda seed, s=s: models.orthogonal_rnn(s, seed=seed), seeds)
    histories[s] = ensembles.train(
        ensemble, lambda i, seed: tasks.adding_problem(64, T, seed=500 + 1000 * seed + i),
        torch.nn.functional.mse_loss, steps=steps, lr=0.01, optimizer="sgd", data="per_seed",
        desc=f"s = {s}, {len(seeds)} seeds").runs


def jumps_of(history):
    """[(step j, loss before, loss at j, grad norm at j - 1, at j, the run's median norm)] for
    every loss more than three times the one before, in a run that stayed finite (a run that
    overflowed is counted as such, not as jumps)."""
    if history.first_nonfinite_step is not None:
        return []
    losses, norms = np.array(history.losses), np.array(history.grad_norms)
    median = np.median(norms)
    return [(j, losses[j - 1], losses[j], norms[j - 1], norms[j], median)
            for j in range(1, len(losses))
            if losses[j] > 3 * losses[j - 1]]


fig, axes = plt.subplots(2, 2, figsize=(12, 6.5), sharex=True)
for column, s in enumerate(scales):
    for seed, history in zip(seeds, histories[s]):
        style = ":" if history.first_nonfinite_step is not None else "-"
        line, = axes[0, column].plot(history.losses, style, linewidth=0.8, alpha=0.6)
        axes[1, column].plot(history.grad_norms, style, linewidth=0.8, alpha=0.6,
                             color=line.get_color())
        for j, _, loss, norm_before, _, _ in jumps_of(history):
            axes[0, column].plot(j, loss, "x", color="red", markersize=10, markeredgewidth=2)
            axes[1, column].plot(j - 1, norm_before, "x", color="red", markersize=10,
                                 markeredgewidth=2)
    calm = [h for h in histories[s] if h.first_nonfinite_step is None]
    for row, key in ((0, "losses"), (1, "grad_norms")):      # runs that overflowed go off the top
        values = np.concatenate([getattr(h, key) for h in calm])
        axes[row, column].set_ylim(values.min() / 2, values.max() * 10)
    plots.labelled(axes[0, column], f"s = {s}: loss (red x: a jump; dotted: overflowed)",
                   "training step", "MSE loss", logy=True)
    plots.labelled(axes[1, column], f"s = {s}: gradient norm (red x: the update before a jump)",
                   "training step", "global gradient norm", logy=True)
    axes[0, column].axhline(1 / 6, color="gray", linestyle="--", linewidth=1)
fig.suptitle(f"{len(seeds)} seeds per scale, one line each", y=1.0)
fig.tight_layout()
plt.show()
events, erratic = {}, {}
for s in scales:
    overflowed = {seed: h.first_nonfinite_step for seed, h in zip(seeds, histories[s])
                  if h.first_nonfinite_step is not None}
    jumped = {seed: jumps_of(h) for seed, h in zip(seeds, histories[s]) if jumps_of(h)}
    events[s] = (overflowed, jumped)
    erratic[s] = np.array([seed in overflowed or seed in jumped for seed in seeds])
    print(f"s = {s}: " + claims.fraction(np.array([seed in jumped for seed in seeds]), "jumped")
          + "; " + claims.fraction(np.array([seed in overflowed for seed in seeds]), "overflowed")
          + "; " + claims.fraction(erratic[s], "either"))
    for seed, found in jumped.items():
        for j, before, loss, norm_before, norm_at, median in found:
            print(f"   seed {seed}, step {j}: loss {before:.3g} -> {loss:.3g}; gradient norm "
                  f"{norm_before:.3g} at step {j - 1} (the update that crossed: "
                  f"{norm_before / median:.1f} times the run's median {median:.3g}) and "
                  f"{norm_at:.3g} at step {j}")
finals = [np.mean(h.losses[-10:]) for h in histories[1.0] if h.first_nonfinite_step is None]
# rules out: runs at s = 1 that stay above the baseline, diverge, or learn the task
claims.claim_seeds("from s = 1 the runs that stay finite descend to the baseline 1/6 (last 10 "
                   "steps between 0.12 and 0.22, below the first loss)",
                   [0.12 < np.mean(h.losses[-10:]) < 0.22 and np.mean(h.losses[-10:]) < h.losses[0]
                    for h in histories[1.0] if h.first_nonfinite_step is None],
                   claims.spread(finals, ".3f", "final MSE"))
one, more = (claims.wilson_interval(int(erratic[s].sum()), len(seeds)) for s in scales)
# rules out: the scale making no difference (at equal rates the intervals overlap)
claims.claim("far more runs jump or overflow from s = 1.3 than from s = 1: the two 95% intervals "
             "do not overlap", one[1] < more[0],
             evidence=f"s = 1: {one[0]:.0%}-{one[1]:.0%}, s = 1.3: {more[0]:.0%}-{more[1]:.0%}")
overflow_steps = list(events[1.3][0].values())
# rules out: s = 1.3 giving only one kind of trouble, or overflows that come late
claims.claim("from s = 1.3 some runs overflow, most of them within their first 10 steps, and "
             "some jump", len(events[1.3][1]) > 0 and len(overflow_steps) > 0
             and np.median(overflow_steps) <= 10,
             evidence=f"{len(events[1.3][1])} jumped, {len(overflow_steps)} overflowed, at steps "
                      + claims.spread(overflow_steps, "d"))
SPIKE, EARLY = 10, 10            # a spike: over 10 times the run's median; steps 1-10
first_jumps, other_early, spikes_free, spikes_jump = [], [], [], []
for history in (h for s in scales for h in histories[s] if h.first_nonfinite_step is None):
    losses, norms = np.array(history.losses), np.array(history.grad_norms)
    spiked = norms[:-1] > SPIKE * np.median(norms)   # at step j - 1: the update that made step j
    jumped = losses[1:] > 3 * losses[:-1]            # index j - 1 for step j
    early = np.arange(1, len(losses)) <= EARLY
    if jumped.any():                                 # a run's first jump (its others depend on it)
        first_jumps.append((int(np.argmax(jumped)) + 1, bool(spiked[np.argmax(jumped)])))
    other_early += list(spiked[early & ~jumped])
    spikes_jump.append(int(np.sum(spiked & jumped)))
    spikes_free.append(int(np.sum(spiked & ~jumped)))
jump_steps = np.array([j for j, _ in first_jumps])
jump_spiked = np.array([spike for _, spike in first_jumps], dtype=bool)
other_early = np.array(other_early, dtype=bool)
print(f"first jumps of the runs that jumped, at steps {sorted(jump_steps.tolist())}")
print(claims.fraction(jump_spiked, f"runs whose first jump follows a gradient spike (over {SPIKE} "
                                   "times the run's median, at the step before):"))
print(claims.fraction(other_early, f"other steps 1-{EARLY} with such a spike before them:"))
with_jump = claims.wilson_interval(int(jump_spiked.sum()), len(jump_spiked))
without = claims.wilson_interval(int(other_early.sum()), len(other_early))
# rules out: jumps that happen late (then steps 1-10 would be the wrong comparison), spikes as
# common before other early steps as before jumps (then a spike says nothing about a jump), and
# too few jumping runs to tell
claims.claim(f"most first jumps come in steps 1-{EARLY}, and the update before a first jump has "
             "a spike far more often than the update before another step of that phase: the "
             "two 95% intervals do not overlap",
             np.mean(jump_steps <= EARLY) > 0.5 and len(first_jumps) >= 6
             and with_jump[0] > without[1],
             evidence=f"{jump_spiked.sum()}/{len(jump_spiked)} runs ({with_jump[0]:.0%}-"
                      f"{with_jump[1]:.0%}), {other_early.sum()}/{len(other_early)} other steps "
                      f"({without[0]:.1%}-{without[1]:.1%})")
# rules out: spikes that always announce a jump (then the gradient norm alone would be a
# reliable alarm)
claims.claim("more spikes come before steps without a jump than before jumps",
             sum(spikes_free) > sum(spikes_jump),
             evidence=f"{sum(spikes_free)} without, {sum(spikes_jump)} with");

# %% [markdown]
# From $s = 1$ the runs descend to the baseline of always answering 1 (the variance of
# $U_1 + U_2$, $1/6$), and few of them jump or overflow (the printed count, with its
# interval). From $s = 1.3$ far more do: the two intervals do not overlap. There the runs split:
# some overflow, most of those within their first steps, as in Section 3; some **jump**.
#
# Do jumps follow gradient spikes? The gradient that matters is the one of the update that made
# the jump, logged at the step before; the norm at the jump itself is large because the jump
# has happened, so it proves nothing. We count each run's first jump only (a run's later jumps
# are not independent of its first), and compare with the other updates of the same phase of
# training, steps 1 to 10, where the jumps happen and the gradient is still large everywhere.
# The update before a first jump has a norm over ten times the run's median far more often than
# the others (the two printed intervals do not overlap), as the one-unit picture of Section 4
# predicts for an update that crosses a cliff, though the count cannot show the cliff itself.
# The evidence is thin: few runs jump (the printed count) and their interval is wide, so the
# count supports "far more often", not a rate of its own. The converse fails: more
# spikes come *without* a jump than with one, so a spike is a warning, not a diagnosis. A training
# curve that looks erratic is worth reading together with the gradient norm, which a training
# loop gets for free (notebook 05 logs it and clips it).

# %% [markdown]
# Where am I? Run this to see which exercises pass their visible checks.

# %% nbgrader={"grade": false, "grade_id": "progress", "locked": true, "schema_version": 3, "solution": false, "task": false}
checks.progress()

# %% [markdown]
# ## What to remember
# - Any activation can make gradients explode once $\gamma\,\sigma_{\max}(W_{hh}) > 1$ is
#   possible ($\gamma$ its largest slope; notebook 04: $\sigma_{\max} > 1/\gamma$ is necessary).
#   A sigmoid unit with $w$ near 10 has a gain of 2.36 per step at its unstable fixed point. ReLU
#   is the case where nothing saturates: on active units the Jacobian is $W_{hh}$ itself.
# - Two things can grow: the forward state $h_t$ (unbounded for ReLU) and the backward product
#   of Jacobians (at most $\sigma_{\max}$ per step for ReLU). $\|dL/dh_1\|$ carries both; measure
#   them apart ($\|h_T\|$, $\|dL/dh_T\|$, and the ratio $\|dL/dh_1\| / \|dL/dh_T\|$).
# - The slope of $\log\|g\|$ against $T$ is the log of the growth factor per step.
# - A run can be lost within one or two updates, whether its first forward pass exploded (the
#   larger the state's growth, the larger the first loss) or its first loss was moderate; in
#   float arithmetic overflow gives `inf` and then `NaN`. Detect the first non-finite step.
# - Loss surfaces of recurrent networks have cliffs where the starting state crosses the boundary
#   between the basins of two attractors (not necessarily a bifurcation: here the fixed points
#   are the same on both sides); one plain step near one can undo training. The update before a
#   jump in a training curve has a spike in the gradient norm far more often than other early
#   updates, but many spikes come without a jump. Clipping the step's
#   length (notebook 05) and careful initialisation (notebook 06) help.
# - The adding problem's baseline, always answering 1, has MSE $\operatorname{Var}(U_1 + U_2) =
#   1/6$: check a paper's number before building on it.
#
# ## References
# - R. Pascanu, T. Mikolov and Y. Bengio, "On the difficulty of training recurrent neural networks", *ICML* 2013 (Section 2.1: the bound on a product of Jacobians and $\sigma_{\max} > 1/\gamma$; Section 2.2: basins of attraction against bifurcations in the one-unit network; Section 2.3: the one-unit network's loss surface and its cliff).
# - K. Doya, "Bifurcations in the learning of recurrent neural networks", *Proc. IEEE ISCAS* 1992 (the hazards of bifurcations for gradient descent in recurrent networks).
# - K. Doya, "Bifurcations of recurrent neural networks in gradient descent learning", manuscript, 1993, as far as we could find never published (the same subject at greater length; its abstract is quoted in Section 4).
# - Y. Bengio, P. Simard and P. Frasconi, "Learning long-term dependencies with gradient descent is difficult", *IEEE Trans. Neural Networks* 5(2), 1994 (the exploding and vanishing gradient problems, cited in the introduction).
# - Q. V. Le, N. Jaitly and G. E. Hinton, "A simple way to initialize recurrent networks of rectified linear units", arXiv:1504.00941, 2015 (the adding problem with ReLU RNNs, and the baseline they quote).
# - S. Hochreiter and J. Schmidhuber, "Long short-term memory", *Neural Computation* 9(8), 1997 (the adding problem).
