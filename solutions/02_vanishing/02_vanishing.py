# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · Vanishing gradients under sigmoid and tanh
#
# <!-- colab-badge: `rnn-course release` puts the Open-in-Colab badge here -->
#
# Notebook 01 showed that the gradient of a recurrent network is a sum of products of Jacobians,
# and that long-range terms shrank in our experiment. **Why do they shrink, how fast, and what
# does it cost?** Here you bound the derivative of sigmoid and tanh, build the Jacobian of one
# recurrent step, multiply many of them, and watch a sigmoid RNN fail a task whose answer sits
# at the start of the sequence.
#
# **You will be able to**
# 1. prove $\sigma'(x) \le 1/4$ and $\tanh'(x) \le 1$, and compute both without overflow;
# 2. write the Jacobian $\partial h_t / \partial h_{t-1} = \operatorname{diag}(\phi'(a_t))\,W_{hh}$
#    and bound the norm of a product of $T - k$ of them by $(\gamma\,\sigma_{\max})^{T-k}$;
# 3. read the vanishing gradient off $\|dL/dh_k\|$ in a real network, during training;
# 4. explain why a sigmoid RNN cannot learn a label given by the first token of a long sequence.
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
import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm.auto import tqdm

from helpers import checks, course, diagnostics, models, plots, tasks, training

rng = course.setup(seed=0)

# %% [markdown]
# ## 1. How steep can an activation be? (≈ 15 min)
#
# *By how much can one activation multiply a gradient?* The logistic sigmoid
# $\sigma(x) = 1/(1 + e^{-x})$ has derivative
#
# $$\sigma'(x) = \frac{e^{-x}}{(1 + e^{-x})^2} = \sigma(x)\,\bigl(1 - \sigma(x)\bigr),$$
#
# because $1 - \sigma(x) = e^{-x}/(1 + e^{-x})$. Write $s = \sigma(x) \in (0, 1)$: then
# $s(1 - s) = \tfrac14 - (s - \tfrac12)^2 \le \tfrac14$, with equality only at $s = \tfrac12$, that
# is at $x = 0$. For $\tanh$, $\tanh'(x) = 1 - \tanh^2(x) \le 1$, again with equality only at
# $x = 0$; and since $\tanh(x) = 2\sigma(2x) - 1$, $\tanh'(x) = 4\sigma'(2x)$: tanh is a sigmoid
# stretched to slope 1. So a sigmoid unit passes back at most a quarter of the gradient it
# receives, a tanh unit at most all of it, and both pass back almost nothing once saturated.
#
# **Computing them safely.** For $x = -1000$, `np.exp(-x)` overflows to `inf` with a
# `RuntimeWarning`. Use only $e^{-|x|} \in (0, 1]$:
# $\sigma(x) = 1/(1 + e^{-|x|})$ for $x \ge 0$ and $e^{-|x|}/(1 + e^{-|x|})$ for $x < 0$
# (multiply numerator and denominator by $e^{x}$). Beware `np.where(x >= 0, f(x), g(x))`: it
# evaluates **both** branches on every entry.
#
# ### Exercises 1–3: `sigmoid`, `sigmoid_grad`, `tanh_grad` (≈ 10 min)

# %% nbgrader={"grade": false, "grade_id": "sigmoid", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sigmoid(x):
    """The logistic function 1 / (1 + exp(-x)), elementwise, for a float64 array x of any shape.

    Returns an array shaped like x; no overflow warning even at x = -1000 or +1000.
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    ### END SOLUTION


# %% nbgrader={"grade": false, "grade_id": "sigmoid_grad", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sigmoid_grad(x):
    """d sigmoid / dx at the PRE-activation x, elementwise; shaped like x, no overflow warning."""
    ### BEGIN SOLUTION
    s = sigmoid(x)
    return s * (1.0 - s)
    ### END SOLUTION


# %% nbgrader={"grade": false, "grade_id": "tanh_grad", "locked": false, "schema_version": 3, "solution": true, "task": false}
def tanh_grad(x):
    """d tanh / dx at the PRE-activation x, elementwise; shaped like x, no overflow warning."""
    ### BEGIN SOLUTION
    return 1.0 - np.tanh(np.asarray(x, dtype=np.float64)) ** 2
    ### END SOLUTION


# %% [markdown]
# ### How your code is checked
#
# The read-only cell below holds the **oracle** (PyTorch: `torch.sigmoid`, `torch.tanh`,
# `torch.relu` and `torch.autograd` for every derivative and Jacobian) and the checks the test
# cells call. Your solutions must not call torch: the graders check that.

# %% nbgrader={"grade": false, "grade_id": "checking_tools", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Checking tools (read-only). PyTorch is the reference; your code never calls it.
ACTIVATIONS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
               "linear": lambda a: a}
EXTREMES = np.array([-1000.0, -50.0, -1.0, 0.0, 1e-3, 2.0, 40.0, 1000.0])
SMALL_W = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7], [-0.2, 0.8, 1.1]])


def reference_derivative(name, x):
    """phi'(x) by autograd, for phi in ACTIVATIONS."""
    xt = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    ACTIVATIONS[name](xt).sum().backward()
    return xt.grad.numpy()


def reference_jacobian(W_hh, a_t, activation):
    """d h_t / d h_{t-1} at pre-activation a_t, by autograd: h_t = phi(W_hh h + c) at h = 0,
    with c = a_t."""
    W = torch.from_numpy(np.asarray(W_hh, dtype=np.float64))
    c = torch.from_numpy(np.asarray(a_t, dtype=np.float64))
    fn = ACTIVATIONS[activation]
    return torch.autograd.functional.jacobian(lambda h: fn(W @ h + c),
                                              torch.zeros(W.shape[1], dtype=torch.float64)).numpy()


def reference_product_norms(W_hh, pre_activations, activation):
    """||J_T ... J_{k+1}||_2 for k = 0..T, with each J from autograd."""
    T, H = np.shape(pre_activations)
    product, norms = torch.eye(H, dtype=torch.float64), [1.0]
    for t in range(T, 0, -1):                      # k = T-1, ..., 0: multiply J_{k+1} on the right
        product = product @ torch.from_numpy(reference_jacobian(W_hh, pre_activations[t - 1],
                                                                activation))
        norms.append(float(torch.linalg.matrix_norm(product, ord=2)))
    return np.array(norms[::-1])


def check_elementwise(name, fn, x, expected, hint):
    """fn(x) must match `expected` in shape and value, without warnings or changing x."""
    checks.expect_elementwise(name, fn, x, expected, hint=hint,
                              warning_hint="compute exp(-|x|) only: it never overflows. "
                                           "np.where evaluates BOTH branches on every entry.")


def check_sigmoid(fn, x):
    check_elementwise("sigmoid", fn, x, torch.sigmoid(torch.tensor(x, dtype=torch.float64)).numpy(),
                      "sigmoid(x) = 1 / (1 + exp(-x)); for x < 0 use exp(x) / (1 + exp(x)), "
                      "written with exp(-|x|).")


def check_sigmoid_grad(fn, x):
    check_elementwise("sigmoid_grad", fn, x, reference_derivative("sigmoid", x),
                      "sigmoid'(x) = s (1 - s) with s = sigmoid(x), the sigmoid of the "
                      "PRE-activation x (not x (1 - x)).")


def check_tanh_grad(fn, x):
    check_elementwise("tanh_grad", fn, x, reference_derivative("tanh", x),
                      "tanh'(x) = 1 - tanh(x)**2: square tanh(x), not x.")


def check_hidden_jacobian(fn, W_hh, a_t, activation, label):
    W_hh, a_t = np.array(W_hh, dtype=np.float64), np.array(a_t, dtype=np.float64)
    inputs = f"{label}, activation={activation!r}, H={a_t.shape[0]}"
    got, _ = checks.call("hidden_jacobian", fn, W_hh, a_t, activation, inputs=inputs)
    checks.expect_close(
        "hidden_jacobian", "J", got, reference_jacobian(W_hh, a_t, activation), inputs=inputs,
        rtol=1e-9, atol=1e-12,
        hint="J[i, j] = phi'(a_t[i]) * W_hh[i, j]: row i is scaled by unit i's derivative "
             "(diag(phi') @ W_hh, not W_hh @ diag(phi')). relu' is 1 where a > 0 and 0 "
             "elsewhere (0 at a = 0, as in PyTorch); linear' is 1.")


def check_jacobian_product_norms(fn, W_hh, pre_activations, activation, label):
    W_hh = np.array(W_hh, dtype=np.float64)
    pre = np.array(pre_activations, dtype=np.float64)
    T = pre.shape[0]
    inputs = f"{label}, activation={activation!r}, T={T}, H={pre.shape[1]}"
    got, _ = checks.call("jacobian_product_norms", fn, W_hh, pre, activation, inputs=inputs)
    expected = reference_product_norms(W_hh, pre, activation)
    got = checks.as_array("jacobian_product_norms", "norms", got, expected.shape, inputs=inputs,
                          hint="one norm per k = 0, 1, ..., T: T + 1 entries, the last one 1.")
    wrong = [k for k in range(T + 1) if not checks.close(got[k], expected[k], rtol=1e-7,
                                                          atol=1e-300)]
    where = (f"the first wrong entry is k = {wrong[-1]} counting down from k = T = {T}: "
             if wrong else "")
    checks.expect_close(
        "jacobian_product_norms", "norms", got, expected, inputs=inputs, rtol=1e-7, atol=1e-300,
        hint=where + "norms[k] is the SPECTRAL norm (np.linalg.norm(M, 2)) of "
             "J_T J_(T-1) ... J_(k+1), with J_t built from a_t = pre_activations[t - 1]; going "
             "from k to k - 1 multiplies J_k on the RIGHT. norms[T] is 1 (the empty product).")


# %% nbgrader={"grade": true, "grade_id": "test_sigmoid", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check: values from -1000 to 1000.
check_sigmoid(sigmoid, EXTREMES)
checks.passed("sigmoid")

# %% nbgrader={"grade": true, "grade_id": "hidden_sigmoid", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for sigmoid run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("sigmoid", sigmoid)
_rng = np.random.default_rng(201)
check_sigmoid(sigmoid, _rng.normal(scale=30.0, size=(3, 4, 5)))
check_sigmoid(sigmoid, np.array([[-745.0, -709.0], [709.0, 745.0]]))
check_sigmoid(sigmoid, -EXTREMES[::-1].reshape(2, 4))
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_sigmoid_grad", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check.
check_sigmoid_grad(sigmoid_grad, EXTREMES)
checks.passed("sigmoid_grad")

# %% nbgrader={"grade": true, "grade_id": "hidden_sigmoid_grad", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for sigmoid_grad run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("sigmoid_grad", sigmoid_grad)
_rng = np.random.default_rng(202)
check_sigmoid_grad(sigmoid_grad, _rng.normal(scale=4.0, size=(6, 7)))
check_sigmoid_grad(sigmoid_grad, np.linspace(-0.5, 0.5, 11))
check_sigmoid_grad(sigmoid_grad, np.array([-745.0, -30.0, 30.0, 745.0]))
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_tanh_grad", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check.
check_tanh_grad(tanh_grad, EXTREMES)
checks.passed("tanh_grad")

# %% nbgrader={"grade": true, "grade_id": "hidden_tanh_grad", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for tanh_grad run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("tanh_grad", tanh_grad)
_rng = np.random.default_rng(203)
check_tanh_grad(tanh_grad, _rng.normal(scale=2.0, size=(2, 3, 4)))
check_tanh_grad(tanh_grad, np.linspace(-0.3, 0.3, 7))
### END HIDDEN TESTS

# %% [markdown]
# Your functions, plotted: the maximum of each derivative and where it is reached.

# %%
x = np.linspace(-6, 6, 1201)
plots.line_plot(x, {"$\\sigma'(x)$": sigmoid_grad(x), "$\\tanh'(x)$": tanh_grad(x)},
                title="Derivatives of sigmoid and tanh", xlabel="pre-activation x",
                ylabel="derivative")
plt.show()
for name, values in (("sigmoid'", sigmoid_grad(x)), ("tanh'", tanh_grad(x))):
    print(f"max {name} = {values.max():.4f} at x = {x[values.argmax()]:+.2f}; "
          f"at |x| = 4 it is {values[np.searchsorted(x, 4.0)]:.4f}")

# %% [markdown]
# The printed maxima are $1/4$ and $1$, both at $x = 0$, and at $|x| = 4$ the derivatives are
# already a few hundredths or less: saturated units pass back almost no gradient.
#
# ## 2. One step back: the Jacobian (≈ 10 min)
#
# *How does a gradient change when it crosses one time step?* With
# $a_t = W_{xh} x_t + W_{hh} h_{t-1} + b$ and $h_t = \phi(a_t)$ applied elementwise, unit $i$
# depends on $h_{t-1}$ only through $a_{t,i} = \sum_j W_{hh}[i, j]\, h_{t-1, j} + \dots$, so by
# the chain rule
#
# $$\frac{\partial h_{t,i}}{\partial h_{t-1,j}} = \phi'(a_{t,i})\, W_{hh}[i, j],
# \qquad\text{that is}\qquad
# J_t = \frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}\bigl(\phi'(a_t)\bigr)\, W_{hh}.$$
#
# Row $i$ of $W_{hh}$ is scaled by unit $i$'s slope. Since the spectral norm is submultiplicative
# and $\|\operatorname{diag}(v)\|_2 = \max_i |v_i|$,
# $\|J_t\|_2 \le \gamma\, \sigma_{\max}(W_{hh})$ with $\gamma = \max_x |\phi'(x)|$: $1/4$ for
# sigmoid, $1$ for tanh, ReLU and the identity ("linear").
#
# ### Exercise 4: `hidden_jacobian` (≈ 5 min)
# Use your derivatives. For ReLU the derivative is 1 where $a > 0$ and 0 elsewhere (also at
# exactly 0, as in PyTorch); for "linear" it is 1. An unknown activation raises a `ValueError`.

# %% nbgrader={"grade": false, "grade_id": "hidden_jacobian", "locked": false, "schema_version": 3, "solution": true, "task": false}
def hidden_jacobian(W_hh, a_t, activation):
    """dh_t/dh_{t-1} = diag(phi'(a_t)) @ W_hh for one example.

    W_hh (H, H), a_t (H,) the pre-activation at step t, activation in "sigmoid", "tanh",
    "relu", "linear"  ->  J (H, H), float64.
    """
    ### BEGIN SOLUTION
    a_t = np.asarray(a_t, dtype=np.float64)
    if activation == "sigmoid":
        slope = sigmoid_grad(a_t)
    elif activation == "tanh":
        slope = tanh_grad(a_t)
    elif activation == "relu":
        slope = (a_t > 0).astype(np.float64)
    elif activation == "linear":
        slope = np.ones_like(a_t)
    else:
        raise ValueError(f"unknown activation {activation!r}")
    return slope[:, None] * np.asarray(W_hh, dtype=np.float64)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_hidden_jacobian", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check: a 3-unit example for each activation.
for _act in ("sigmoid", "tanh", "relu", "linear"):
    check_hidden_jacobian(hidden_jacobian, SMALL_W, np.array([0.7, -1.2, 2.5]), _act,
                          "W_hh = SMALL_W, a_t = [0.7, -1.2, 2.5]")
checks.passed("hidden_jacobian")

# %% nbgrader={"grade": true, "grade_id": "hidden_hidden_jacobian", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for hidden_jacobian run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("hidden_jacobian", hidden_jacobian)
_rng = np.random.default_rng(211)
for _H, _act in ((1, "tanh"), (6, "sigmoid"), (7, "relu"), (5, "linear"), (8, "tanh")):
    _a = _rng.normal(scale=3.0, size=_H)
    if _act == "relu":
        _a[::3] = 0.0                      # exactly zero: relu'(0) is 0, as in PyTorch
    check_hidden_jacobian(hidden_jacobian, _rng.normal(size=(_H, _H)), _a, _act,
                          "random W_hh and a_t (seed 211)")
try:
    hidden_jacobian(np.eye(2), np.zeros(2), "softplus")
    _raised = None
except ValueError:
    _raised = "ValueError"
except Exception as _error:  # the wrong kind of error
    _raised = type(_error).__name__
checks.expect("hidden_jacobian", _raised == "ValueError", "accepted an unknown activation.",
              inputs="activation='softplus'", returned=str(_raised or "a result"),
              expected="ValueError", hint="raise ValueError for any other activation name.")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Many steps back: products of Jacobians (≈ 15 min)
#
# *How fast does the product shrink?* By the chain rule through time, the total derivative of
# $h_T$ with respect to an earlier state is
#
# $$\frac{\partial h_T}{\partial h_k} = J_T\, J_{T-1} \cdots J_{k+1},
# \qquad \Bigl\|\frac{\partial h_T}{\partial h_k}\Bigr\|_2 \le \prod_{t=k+1}^{T} \|J_t\|_2
# \le \bigl(\gamma\,\sigma_{\max}(W_{hh})\bigr)^{T-k},$$
#
# again by submultiplicativity. When $\gamma\,\sigma_{\max} < 1$ the gradient that reaches step
# $k$ from a loss at step $T$ vanishes **at least geometrically** in $T - k$ (Bengio, Simard and
# Frasconi 1994; Pascanu, Mikolov and Bengio 2013). For sigmoid, $\gamma = 1/4$ makes this likely:
# it needs $\sigma_{\max}(W_{hh}) \ge 4$ just to avoid it.
#
# ### Exercise 5: `jacobian_product_norms` (≈ 10 min)
# Given the pre-activations $a_1, \dots, a_T$ of one sequence (row $t - 1$ holds $a_t$), return
# $\|\partial h_T / \partial h_k\|_2$ for $k = 0, 1, \dots, T$. Build the product from the end:
# start from the identity ($k = T$) and multiply $J_k$ on the right to go from $k$ to $k - 1$.

# %% nbgrader={"grade": false, "grade_id": "jacobian_product_norms", "locked": false, "schema_version": 3, "solution": true, "task": false}
def jacobian_product_norms(W_hh, pre_activations, activation):
    """Spectral norms of dh_T/dh_k = J_T J_(T-1) ... J_(k+1) for k = 0, ..., T.

    W_hh (H, H); pre_activations (T, H), row t - 1 holding a_t; activation as in
    hidden_jacobian  ->  norms (T + 1,), float64, norms[T] = 1.
    """
    ### BEGIN SOLUTION
    pre_activations = np.asarray(pre_activations, dtype=np.float64)
    T, H = pre_activations.shape
    norms = np.empty(T + 1)
    norms[T] = 1.0
    product = np.eye(H)
    for k in range(T - 1, -1, -1):
        product = product @ hidden_jacobian(W_hh, pre_activations[k], activation)
        norms[k] = np.linalg.norm(product, 2)
    return norms
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_jacobian_product_norms", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Visible check: T = 4 steps of a 3-unit tanh RNN.
_pre = np.array([[0.3, -0.5, 1.0], [1.2, 0.1, -0.4], [-0.8, 0.9, 0.2], [0.05, -1.5, 0.6]])
check_jacobian_product_norms(jacobian_product_norms, SMALL_W, _pre, "tanh",
                             "W_hh = SMALL_W, pre_activations = _pre")
checks.passed("jacobian_product_norms")

# %% nbgrader={"grade": true, "grade_id": "hidden_jacobian_product_norms", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for jacobian_product_norms run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("jacobian_product_norms", jacobian_product_norms)
_rng = np.random.default_rng(221)
for _T, _H, _act, _scale in ((1, 3, "tanh", 1.0), (9, 5, "sigmoid", 2.0), (6, 4, "relu", 0.9),
                             (12, 6, "tanh", 1.5), (5, 2, "linear", 1.0)):
    check_jacobian_product_norms(jacobian_product_norms, _rng.normal(scale=_scale, size=(_H, _H)),
                                 _rng.normal(scale=2.0, size=(_T, _H)), _act,
                                 "random case (seed 221)")
### END HIDDEN TESTS

# %% [markdown]
# ### The products in a real network
#
# We take a freshly initialised sigmoid RNN and a tanh RNN with PyTorch's default weights
# ($H = 32$), run one sequence of the first-token task through each, recover the
# pre-activations $a_t$ from the states, and apply your `jacobian_product_norms`, next to the
# bound $(\gamma\,\sigma_{\max})^{T-k}$.

# %%
def pre_activations(model, inputs):
    """a_1..a_T of the first sequence in inputs, as a (T, H) float64 array."""
    cell = model.cell
    with torch.no_grad():
        _, hiddens = model(inputs)
        states = [torch.zeros_like(hiddens[0])] + hiddens[:-1]
        pre = [x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
               for x, h in zip(inputs, states)]
    return torch.stack(pre)[:, 0].double().numpy()


T = course.pick(full=60, smoke=20)
torch.manual_seed(0)
inputs, labels = tasks.first_token_task(batch_size=8, seq_len=T, seed=1)
steps_back = np.arange(T, -1, -1)                  # T - k for k = 0..T
products, rates = {}, {}
for name, gamma in (("sigmoid", 0.25), ("tanh", 1.0)):
    net = models.SequenceModel(2, 32, 2, cell=name)
    W_hh = net.cell.weight_hh.detach().double().numpy()
    norms = jacobian_product_norms(W_hh, pre_activations(net, inputs), name)
    sigma_max = np.linalg.norm(W_hh, 2)
    products[f"{name}: $\\|\\partial h_T/\\partial h_k\\|_2$"] = norms
    products[f"{name}: bound $(\\gamma\\sigma_{{\\max}})^{{T-k}}$"] = (gamma * sigma_max) ** steps_back
    rates[name] = (norms[0] / norms[T]) ** (1 / T)
    print(f"{name:>7}: sigma_max(W_hh) = {sigma_max:.2f}, gamma * sigma_max = "
          f"{gamma * sigma_max:.2f}; the product shrinks by {rates[name]:.3f} per step, "
          f"to {norms[0]:.1e} after T = {T} steps")
plots.line_plot(steps_back, products, title="Norm of a product of Jacobians through time",
                xlabel="steps back from the last state, T - k", ylabel="spectral norm", logy=True)
plt.show()

# %% [markdown]
# Both measured curves are straight lines on the log scale, under their bounds: geometric
# decay. The printed factors per step are well below 1, and far smaller for sigmoid, whose slope
# never exceeds 1/4. The tanh bound may lie above 1 (PyTorch's default initialisation can give
# $\sigma_{\max} > 1$) and still the product shrinks: most units are not at $a = 0$, so their
# slopes are below $\gamma$.
#
# ## 4. What the loss sees: $\|dL/dh_k\|$ (≈ 10 min)
#
# *Does training see the same decay?* `helpers.diagnostics.hidden_grad_norms` returns
# $\|dL/dh_k\|$ for $k = 1, \dots, T$ from one backward pass, for a loss on the last output.
# Since $dL/dh_k = (\partial h_T/\partial h_k)^\top\, dL/dh_T$ here, it inherits the decay.

# %%
loss_fn = torch.nn.functional.cross_entropy
T = course.pick(full=60, smoke=20)
inputs, labels = tasks.first_token_task(batch_size=64, seq_len=T, seed=2)
grad_norms = {}
for name in ("sigmoid", "tanh"):
    torch.manual_seed(0)
    net = models.SequenceModel(2, 32, 2, cell=name).double()  # float64: no underflow to 0
    grad_norms[name] = diagnostics.hidden_grad_norms(net, inputs.double(), labels, loss_fn)
    print(f"{name:>7}: ||dL/dh_1|| / ||dL/dh_T|| = {diagnostics.gradient_ratio(grad_norms[name]):.1e}")
plots.line_plot(np.arange(1, T + 1), grad_norms, title="Gradient reaching each hidden state",
                xlabel="time step k", ylabel="$\\|dL/dh_k\\|$", logy=True)
plt.show()

# %% [markdown]
# The gradient reaching the first state is a tiny fraction of the one at the last state (the
# printed ratios), and for sigmoid it is smaller by many more orders of magnitude.
#
# *Does training fix it?* Below, a tanh RNN trains on the first-token task while we record
# $\|dL/dh_k\|$ every few updates: one row of the heat map per record.

# %%
T, steps = course.pick(full=(30, 300), smoke=(10, 30))
torch.manual_seed(0)
net = models.SequenceModel(2, 32, 2, cell="tanh")
probe = tasks.first_token_task(batch_size=256, seq_len=T, seed=3)
history = training.train(
    net, lambda i: tasks.first_token_task(batch_size=64, seq_len=T, seed=100 + i), loss_fn,
    steps=steps, lr=1e-2, record=lambda i, m: diagnostics.hidden_grad_norms(m, *probe, loss_fn),
    record_every=max(1, steps // 30), desc="tanh RNN")
heat = np.log10(np.maximum(np.stack(history.records), 1e-30))
fig, ax = plt.subplots()
image = ax.imshow(heat, aspect="auto", origin="lower", cmap="viridis",
                  extent=(0.5, T + 0.5, 0, steps))
fig.colorbar(image, ax=ax, label="$\\log_{10} \\|dL/dh_k\\|$")
plots.labelled(ax, "Gradient through time during training (tanh RNN)", "time step k",
               "training step")
ax.grid(False)
plt.show()
gap = heat[:, 0] - heat[:, -1]                 # orders of magnitude between step 1 and step T
print(f"in {np.mean(gap < -2):.0%} of the {len(gap)} records the first step receives less than "
      f"1% of the last step's gradient (median: 10^{np.median(gap):.1f} of it); final training "
      f"loss {np.mean(history.losses[-10:]):.3f} (chance: ln 2 = {np.log(2):.3f})")

# %% [markdown]
# Most rows are dark on the left: in most records the earliest steps receive orders of magnitude
# less gradient than the last ones (the printed share and median), and the occasional bright row
# is a short burst, not a cure. The first step is where the label is written, so the weights
# barely move in the direction that would remember it, and the training loss stays near chance
# at this distance. The network "forgets with the time step" not because it cannot store the
# first token, but because the gradient that would teach it to is too weak to be heard.
#
# ## 5. A task a sigmoid RNN cannot learn (≈ 10 min)
#
# *How far back can a sigmoid or tanh RNN reach?* In the first-token task the label is the first
# of $T$ random tokens; the other $T - 1$ are noise. We train each network at several distances
# $T$ with the same budget and measure accuracy on fresh sequences (chance: 0.5).

# %%
distances = course.pick(full=[2, 4, 8, 16, 32], smoke=[2, 8])
steps = course.pick(full=250, smoke=25)
results = {"sigmoid": [], "tanh": []}
for name in results:
    for T in tqdm(distances, desc=f"{name} RNN"):
        torch.manual_seed(0)
        net = models.SequenceModel(2, 32, 2, cell=name)
        training.train(net, lambda i: tasks.first_token_task(64, T, seed=1000 + i), loss_fn,
                       steps=steps, lr=1e-2, progress=False)
        results[name].append(training.accuracy(net, *tasks.first_token_task(1000, T, seed=7)))
print(f"{'distance T':>10} " + " ".join(f"{name:>8}" for name in results))
for i, T in enumerate(distances):
    print(f"{T:>10} " + " ".join(f"{results[name][i]:8.3f}" for name in results))
plots.line_plot(distances, results, title="First-token task: accuracy against distance",
                xlabel="distance to the deciding token, T", ylabel="test accuracy",
                baseline=(0.5, "chance"), marker="o").set_xscale("log", base=2)
plt.show()
for name, accs in results.items():
    failed = [T for T, acc in zip(distances, accs) if acc < 0.6]
    print(f"{name}: " + (f"at chance (accuracy < 0.6) from T = {failed[0]} on" if failed
                         else "above chance at every distance tried"))

# %% [markdown]
# At short distances both networks solve the task; as the distance grows the sigmoid RNN falls
# to chance first (the printed table and the first distance at chance), and the tanh RNN, whose
# slope can reach 1, holds on longer. Nothing about the task changed except the number of steps
# the gradient has to cross: this is the vanishing gradient as a learning failure.
#
# ## What to remember
# - $\sigma' \le 1/4$ and $\tanh' \le 1$, with equality only at 0; saturated units pass back
#   almost nothing. Compute sigmoid with $e^{-|x|}$ to avoid overflow.
# - One step back multiplies the gradient by $J_t^\top$ with
#   $J_t = \operatorname{diag}(\phi'(a_t))\,W_{hh}$, and $\|J_t\|_2 \le \gamma\,\sigma_{\max}(W_{hh})$.
# - $k$ steps back: a product of $k$ Jacobians, bounded by $(\gamma\,\sigma_{\max})^{k}$: geometric
#   decay whenever $\gamma\,\sigma_{\max} < 1$, and often even when the bound is above 1.
# - Early time steps get almost no gradient, so long-range dependencies are not learned: a
#   sigmoid RNN fails the first-token task at modest distances.
# - Notebook 03 looks at the opposite failure, and notebook 04 at the role of $\sigma_{\max}$ and
#   of eigenvalues.
#
# ## References
# - S. Hochreiter, *Untersuchungen zu dynamischen neuronalen Netzen*, diploma thesis, TU München, 1991.
# - Y. Bengio, P. Simard and P. Frasconi, "Learning long-term dependencies with gradient descent is difficult", *IEEE Trans. Neural Networks* 5(2), 1994.
# - R. Pascanu, T. Mikolov and Y. Bengio, "On the difficulty of training recurrent neural networks", *ICML* 2013.
# - I. Goodfellow, Y. Bengio and A. Courville, *Deep Learning*, MIT Press 2016, Section 10.7.
