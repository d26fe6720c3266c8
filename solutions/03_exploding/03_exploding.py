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
# # 03 · Exploding gradients under ReLU
#
# <!-- colab-badge: `rnn-course release` puts the Open-in-Colab badge here -->
#
# Notebook 02 showed gradients shrinking geometrically when each step multiplies them by less
# than one. **What happens when each step multiplies them by more than one?** With ReLU nothing
# squashes the product, so large recurrent weights make gradients grow geometrically instead:
# they overflow, training curves jump, and the loss surface grows "cliffs" where one gradient
# step throws the parameters far away.
#
# **You will be able to**
# 1. say why ReLU's derivative (1 on the positive side) lets $W_{hh}$ alone decide growth;
# 2. measure the gradient's growth rate per step from the slope of a log-scale plot;
# 3. find the first step at which a run overflows to inf or NaN, and explain it;
# 4. draw the loss surface of a one-unit recurrent network and see its cliff.
#
# **Time:** about 50 minutes (each section states its own estimate).
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
# ## 1. ReLU lets the weights decide (≈ 10 min)
#
# *Why does ReLU not protect against growth?* $\operatorname{relu}(x) = \max(x, 0)$ has
# derivative $1$ for $x > 0$ and $0$ for $x < 0$; at $x = 0$ it has none, and PyTorch (like most
# libraries) uses $0$ there. The Jacobian of one step is
# $J_t = \operatorname{diag}(\mathbb 1[a_t > 0])\,W_{hh}$: on the active units it **is** $W_{hh}$.
# So unlike sigmoid ($\gamma = 1/4$) or a saturating tanh, nothing damps the product
# $J_T \cdots J_{k+1}$: if $W_{hh}$ stretches some direction by more than 1 and the units along
# it stay active, the gradient grows like $\sigma_{\max}^{T-k}$.
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
# The read-only cell below holds the oracle (`torch.relu` and autograd, `torch.sigmoid`, and
# `torch.nn.utils.get_total_norm` for gradient norms) and the checks the test cells call.

# %% nbgrader={"grade": false, "grade_id": "checking_tools", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Checking tools (read-only). PyTorch is the reference; your code never calls it.
SAMPLE = np.array([-3.0, -1e-12, 0.0, 1e-12, 0.5, 7.0])


def check_array_function(name, fn, x, expected, hint):
    """fn(x) must equal `expected` (float64, same shape) and leave x unchanged."""
    x = np.array(x, dtype=np.float64)
    before = x.copy()
    inputs = f"x of shape {x.shape}: {checks.preview(x, 6)}"
    got, _ = checks.call(name, fn, x, inputs=inputs)
    checks.expect(name, np.array_equal(x, before), "changed its input x in place.", inputs=inputs,
                  returned=f"x[:3] = {checks.preview(x)}", expected=f"x[:3] = {checks.preview(before)}",
                  hint="return a new array (np.maximum(x, 0.0)); do not write into x.")
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
                         "choice), as floats, not booleans.")


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


def reference_single_unit(w, b, x0, T):
    x = torch.broadcast_tensors(*(torch.as_tensor(v, dtype=torch.float64) for v in (w, b, x0)))
    w, b, x = x
    for _ in range(T):
        x = w * torch.sigmoid(x) + b
    return x.numpy()


def check_single_unit_rnn(fn, w, b, x0, T, label):
    inputs = f"{label}: w = {checks.preview(np.asarray(w))}, b = {checks.preview(np.asarray(b))}, " \
             f"x0 = {checks.preview(np.asarray(x0))}, T = {T}"
    got, caught = checks.call("single_unit_rnn", fn, w, b, x0, T, inputs=inputs)
    warned = [str(m.message) for m in caught if issubclass(m.category, RuntimeWarning)]
    checks.expect("single_unit_rnn", not warned, "raised a warning.", inputs=inputs,
                  returned=f"RuntimeWarning: {warned[0] if warned else ''}", expected="no warning",
                  hint="a sigmoid written as 1 / (1 + exp(-x)) overflows for x << 0; use "
                       "exp(-|x|) (notebook 02).")
    checks.expect_close("single_unit_rnn", "x_T", np.asarray(got, dtype=np.float64)
                        if np.ndim(got) else np.float64(got),
                        reference_single_unit(w, b, x0, T), inputs=inputs, rtol=1e-9, atol=1e-12,
                        hint="apply x <- w * sigmoid(x) + b exactly T times, starting from x0 "
                             "(T = 0 returns x0); w, b and x0 broadcast like numpy arrays.")


# %% nbgrader={"grade": true, "grade_id": "test_relu", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check.
check_relu(relu, SAMPLE)
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
# Visible check: note the entry x = 0.
check_relu_grad(relu_grad, SAMPLE)
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
# ## 2. How fast do gradients grow? (≈ 15 min)
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
# Visible check: a matrix and a vector.
check_global_grad_norm(global_grad_norm, [np.array([[3.0, 0.0], [0.0, 4.0]]),
                                          np.array([12.0])], "two arrays")
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
# ### Gradient norm against sequence length
#
# A ReLU RNN ($H = 32$) gets $W_{hh} = s\,Q$ with $Q$ a random orthogonal matrix, so every
# singular value of $W_{hh}$ is exactly $s$. For each scale $s$ and length $T$ we compute, for the
# adding-problem loss on the last output, the gradient reaching the first state,
# $\|dL/dh_1\|$ (it crosses all $T - 1$ Jacobians), and the global norm of the parameters'
# gradient with your function. On a log scale, geometric growth $\|g\| \approx C\rho^T$ is a
# straight line of slope $\log \rho$.

# %%
def gradient_norms(net, inputs, targets):
    """(||dL/dh_1||, global norm of dL/dparameters by your global_grad_norm), MSE loss."""
    loss_fn = torch.nn.functional.mse_loss
    first = diagnostics.hidden_grad_norms(net, inputs, targets, loss_fn)[0]
    net.zero_grad()
    loss_fn(net(inputs)[0], targets).backward()
    return first, global_grad_norm([p.grad.numpy() for p in net.parameters()])


lengths = np.arange(5, course.pick(full=61, smoke=21), 5)
scales = (1.0, 1.5, 2.0)
to_first, overall = {}, {}
for s in tqdm(scales, desc="weight scale"):
    net = models.orthogonal_rnn(s).double()           # float64: room to grow before overflow
    pairs = [gradient_norms(net, inputs.double(), targets.double())
             for inputs, targets in (tasks.adding_problem(32, int(T), seed=5) for T in lengths)]
    to_first[f"s = {s}"], overall[f"s = {s}"] = map(np.array, zip(*pairs))
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
plots.line_plot(lengths, to_first, title="Gradient reaching the first state", ax=left,
                xlabel="sequence length T", ylabel="$\\|dL/dh_1\\|$", logy=True, marker="o")
plots.line_plot(lengths, overall, title="Global gradient norm of the parameters", ax=right,
                xlabel="sequence length T", ylabel="global_grad_norm", logy=True, marker="o")
plt.show()
for label in to_first:
    rate = np.exp(np.polyfit(lengths, np.log(to_first[label]), 1)[0])
    growth = np.exp(np.polyfit(lengths, np.log(overall[label]), 1)[0])
    print(f"{label}: ||dL/dh_1|| is multiplied by {rate:.2f} per extra step, the global "
          f"gradient norm by {growth:.2f}")

# %% [markdown]
# The printed factors are the slopes made readable. At $s = 1$ the gradient reaching the first
# state still shrinks: units that are switched off ($a < 0$) cut their rows out of the Jacobian,
# so the factor per step is below $s$. Above that, it grows geometrically, faster for larger $s$,
# and the global norm, which the training loop sees, follows: its long-range terms dominate the
# sum once they grow.
#
# ## 3. Overflow: inf and NaN (≈ 10 min)
#
# *What does an explosion look like from the outside?* We train a ReLU RNN on the adding problem
# with plain SGD, from weights a little too large. `training.train` records the loss and the
# gradient norm at every step and stops at the first one that is not finite.

# %%
T, steps = course.pick(full=(50, 200), smoke=(20, 40))
net = models.orthogonal_rnn(1.2, seed=1)
history = training.train(net, lambda i: tasks.adding_problem(64, T, seed=10 + i),
                         torch.nn.functional.mse_loss, steps=steps, lr=0.1, optimizer="sgd",
                         desc="ReLU RNN, SGD")
bad = history.first_nonfinite_step
fig, ax = plt.subplots()
ax.plot(history.losses, label="loss")
ax.plot(history.grad_norms, label="gradient norm")
if bad is not None:
    ax.axvline(bad, color="gray", linestyle="--", label=f"first non-finite step ({bad})")
plots.labelled(ax, "Training that overflows (ReLU RNN, s = 1.2, SGD)", "training step",
               "value (log scale)", logy=True)
ax.legend()
plt.show()
if bad is None:
    print(f"no overflow within {steps} steps")
else:
    for i in range(max(0, bad - 4), bad + 1):
        print(f"step {i}: loss = {history.losses[i]:.3g}, gradient norm = "
              f"{history.grad_norms[i]:.3g}")
print(f"(float32, the training precision, overflows to inf above {np.finfo(np.float32).max:.2e})")

# %% [markdown]
# Read the printout from the top: an update scaled by a large gradient makes the weights much
# larger; larger weights make the next forward pass and gradient larger still, a feedback loop
# that multiplies the numbers by an enormous factor within a step or two. In float32 anything
# above the printed limit becomes `inf`, and the first `inf - inf` or `0 * inf` turns into
# `NaN`, after which every later number is `NaN` too. The run is lost at the step printed; detecting it
# (and stopping, or skipping the update) is the least a training loop should do.
#
# ## 4. The cliff of a one-unit network (≈ 15 min)
#
# *What does the loss surface look like near an explosion?* Pascanu, Mikolov and Bengio (2013)
# studied the smallest recurrent network: one unit,
#
# $$x_t = w\,\sigma(x_{t-1}) + b, \qquad L(w, b) = (x_T - 0.7)^2 .$$
#
# For some $(w, b)$ the map $x \mapsto w\sigma(x) + b$ has two stable fixed points, and which one
# $x_t$ ends up near depends sharply on $(w, b)$: crossing that boundary changes $x_T$ abruptly,
# so $L$ jumps. Near the boundary the gradient is enormous: a **cliff**.
#
# ### Exercise 4: `single_unit_rnn` (≈ 5 min)
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
# Visible check: numbers, then a small grid.
check_single_unit_rnn(single_unit_rnn, 5.0, -2.5, 0.5, 10, "numbers")
check_single_unit_rnn(single_unit_rnn, np.array([[1.0, 6.0], [-3.0, 9.0]]),
                      np.array([[0.0, -3.0], [1.0, -4.5]]), np.full((2, 2), 0.5), 20, "a 2x2 grid")
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
# a cliff; we then walk toward it
# by bisection (again with your function) until the gradient, from autograd, exceeds $10^4$,
# and take one plain gradient step from there. (The cliff narrows exponentially with $T$: at
# $T = 50$ it is thinner than float64 can resolve.)

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


jumps = np.abs(np.diff(x_T, axis=1))                # change of x_T between neighbouring w
jumps[:, (ws[:-1] < 6) | (ws[:-1] > 10)] = 0        # look in the middle of the map
row, col = np.unravel_index(np.argmax(jumps), jumps.shape)
lo, hi, b0 = ws[col], ws[col + 1], bs[row]          # x_T jumps between w = lo and w = hi
middle = (x_T[row, col] + x_T[row, col + 1]) / 2
for _ in range(60):                                 # bisection, keeping lo on its own side
    w_mid = (lo + hi) / 2
    if (single_unit_rnn(w_mid, b0, 0.5, T_cliff) > middle) == (x_T[row, col] > middle):
        lo = w_mid
    else:
        hi = w_mid
    value, grad = loss_and_grad(lo, b0)
    if np.linalg.norm(grad) > 1e4:
        break
start, lr = np.array([lo, b0]), 0.01
end = start - lr * grad
clipped = start - lr * grad * min(1.0, 10 / np.linalg.norm(grad))   # a preview of notebook 05
fig, ax = plt.subplots()
image = ax.pcolormesh(W, B, np.log10(loss + 1e-12), shading="auto", cmap="magma")
fig.colorbar(image, ax=ax, label="$\\log_{10} L(w, b)$")
ax.annotate("", xy=np.clip(end, [ws[0], bs[0]], [ws[-1], bs[-1]]), xytext=start,
            arrowprops={"arrowstyle": "->", "color": "cyan", "lw": 2})
ax.plot(*start, "o", color="cyan", label="start, beside the cliff (arrow: one step)")
ax.plot(*clipped, "s", color="white", label="the step clipped to norm 10")
plots.labelled(ax, f"Loss of the one-unit RNN (T = {T_cliff}) and one gradient step",
               "recurrent weight w", "bias b")
ax.grid(False)
ax.legend(loc="lower left")
plt.show()
print(f"start (w, b) = ({start[0]:.6f}, {start[1]:.2f}): L = {value:.3g}, "
      f"|dL/d(w, b)| = {np.linalg.norm(grad):.1e}")
print(f"one step with learning rate {lr} moves the parameters by {np.linalg.norm(end - start):.1e} "
      f"to ({end[0]:.3g}, {end[1]:.3g}), where L = {loss_and_grad(*end)[0]:.3g}")
print(f"the clipped step moves by {np.linalg.norm(clipped - start):.2f}, to L = "
      f"{loss_and_grad(*clipped)[0]:.3g}")

# %% [markdown]
# The surface is made of smooth plateaus separated by thin curves where the loss changes by orders
# of magnitude: the cliffs. Beside one, the gradient norm printed is huge, so a learning rate that
# suits the plateaus throws the parameters far off the map in one step (the arrow stops at the
# edge of the plot; the printed distance is how far the step really goes), undoing any earlier
# progress. Rescaling the step to a bounded length keeps its direction and stays near the start:
# that is gradient clipping, the subject of notebook 05.
#
# ## 5. Erratic training (≈ 5 min)
#
# *What does training look like in the exploding regime?* The same ReLU RNN, trained with SGD
# from $s = 1$ and from a slightly larger scale, $s = 1.15$.

# %%
T, steps = course.pick(full=(40, 300), smoke=(15, 40))
curves, spikes = {}, {}
for s in (1.0, 1.15):
    net = models.orthogonal_rnn(s, seed=2)
    history = training.train(net, lambda i: tasks.adding_problem(64, T, seed=500 + i),
                             torch.nn.functional.mse_loss, steps=steps, lr=0.01,
                             optimizer="sgd", desc=f"s = {s}")
    losses = np.array(history.losses)
    curves[f"s = {s}"] = np.pad(losses, (0, steps - len(losses)), constant_values=np.nan)
    spikes[s] = int(np.sum(losses[1:] > 3 * losses[:-1]))
plots.line_plot(np.arange(steps), curves, title="Adding problem: training loss of a ReLU RNN",
                xlabel="training step", ylabel="MSE loss", logy=True,
                baseline=(1 / 6, "always answer 1 (MSE 1/6)"))
plt.show()
for s, count in spikes.items():
    finite = curves[f"s = {s}"][np.isfinite(curves[f"s = {s}"])]
    print(f"s = {s}: {count} step(s) where the loss jumped more than threefold; final loss "
          f"{finite[-1]:.3g}" + ("" if len(finite) == steps else " (the run overflowed)"))

# %% [markdown]
# Compare the two printed lines and curves: from $s = 1$ the loss descends smoothly toward the
# baseline of always answering 1 (the variance of $U_1 + U_2$, $1/6$), while from $s = 1.15$
# training is interrupted by jumps (the count of threefold jumps) each time an update lands
# beside a cliff, and the steps after a jump are spent recovering. A little larger scale or
# learning rate and a jump becomes the overflow of Section 3.
#
# ## What to remember
# - ReLU's derivative is 0 or 1, so on active units the Jacobian is $W_{hh}$ itself: with
#   $\sigma_{\max}(W_{hh}) > 1$ gradients can grow geometrically with the distance in time.
# - Measure growth with the global gradient norm; the slope of $\log\|g\|$ against $T$ is the
#   log of the growth factor per step.
# - Growth feeds on itself during training: larger gradients make larger weights, until float
#   overflow gives `inf` and then `NaN`. Detect the first non-finite step.
# - Loss surfaces of recurrent networks have cliffs; one plain step near one can undo training.
#   Clipping the step's length (notebook 05) and careful initialisation (notebook 06) help.
#
# ## References
# - R. Pascanu, T. Mikolov and Y. Bengio, "On the difficulty of training recurrent neural networks", *ICML* 2013 (the one-unit network and its cliff).
# - K. Doya, "Bifurcations in the learning of recurrent neural networks", *IEEE ISCAS* 1992.
# - Y. Bengio, P. Simard and P. Frasconi, "Learning long-term dependencies with gradient descent is difficult", *IEEE Trans. Neural Networks* 5(2), 1994.
# - Q. V. Le, N. Jaitly and G. E. Hinton, "A simple way to initialize recurrent networks of rectified linear units", arXiv:1504.00941, 2015 (the adding problem with ReLU RNNs).
