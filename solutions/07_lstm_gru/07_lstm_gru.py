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
# # 07 · LSTM and GRU
#
# <!-- colab-badge: `rnn-course release` puts the Open-in-Colab badge here -->
#
# Notebook 06 chose a better start; the gradient through a tanh RNN still passes through
# $\operatorname{diag}(\tanh'(a_t))\,W_{hh}$ at every step, and still fades. Hochreiter and
# Schmidhuber (1997) changed the architecture instead: the LSTM adds a **cell state** whose
# update is a sum, not a matrix product squashed by an activation. **Does a path without
# matrix products carry the gradient across 100 steps?**
#
# **You will be able to**
# 1. write an LSTM cell and a GRU cell from scratch, in PyTorch's layout and gate order, and
#    match `torch.nn.LSTMCell` and `torch.nn.GRUCell` to machine precision;
# 2. derive that the gradient along the cell-state path is a product of forget gates, and
#    compute it;
# 3. explain why the forget-gate bias is set to 1, and what the GRU simplifies;
# 4. measure gradient flow through time in a tanh RNN, an LSTM and a GRU, and train all three on
#    the adding problem at $T = 100$.
#
# **Time:** about 60 minutes (each section states its own estimate).
# The exercises are graded: each has a visible check you can run now and hidden tests (other
# shapes, large inputs, PyTorch's cells as the reference) that run when your notebook is
# graded. Only the code inside the exercise cells (the ones that say `# YOUR CODE HERE`) is
# graded, so put any helper function you write in one of those cells.

# %%
# Set-up (≈ 1 min). On Colab this installs the course's `helpers` package from the course
# repository; locally, the README's set-up command already did.
# colab-install: `rnn-course release` puts the Colab install of `helpers` here
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm.auto import tqdm

from helpers import checks, course, diagnostics, models, plots, tasks, training

rng = course.setup(seed=0)

# %% [markdown]
# ## 1. The LSTM cell (≈ 20 min)
#
# *What does an LSTM compute in one step?* From the input $x_t$ (shape (B, D)) and the previous
# hidden and cell states $h_{t-1}, c_{t-1}$ (each (B, H)), PyTorch's `nn.LSTMCell` forms four
# pre-activations at once,
# $$z = x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh}, \qquad W_{ih}: (4H, D),\;
# W_{hh}: (4H, H),\; b_{ih}, b_{hh}: (4H,),$$
# and splits $z$ (shape (B, 4H)) into four blocks of H columns, **in the order i, f, g, o**:
# $$i = \sigma(z_{[0:H]}),\quad f = \sigma(z_{[H:2H]}),\quad g = \tanh(z_{[2H:3H]}),\quad
# o = \sigma(z_{[3H:4H]}),$$
# $$c_t = f \odot c_{t-1} + i \odot g, \qquad h_t = o \odot \tanh(c_t).$$
# The **input gate** $i$ decides how much of the candidate $g$ is written, the **forget gate**
# $f$ how much of the old cell is kept, the **output gate** $o$ how much of the squashed cell
# is shown as $h_t$. Every gate is a sigmoid, so it lies in (0, 1) and acts as a soft switch.
#
# For a sigmoid that never overflows, use $\sigma(z) = \tfrac12\bigl(1 + \tanh(z/2)\bigr)$, an
# exact identity (multiply numerator and denominator of $1/(1 + e^{-z})$ by $e^{z/2}$), or
# notebook 02's `exp(-|z|)` trick: the checks try pre-activations of size 1000.
#
# ### Exercise 1: `lstm_cell_forward` (≈ 10 min)

# %% nbgrader={"grade": false, "grade_id": "lstm_cell_forward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def lstm_cell_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step in torch.nn.LSTMCell's layout (gates i, f, g, o stacked in W's rows).

    x (B, D), h_prev (B, H), c_prev (B, H), W_ih (4H, D), W_hh (4H, H), b_ih (4H,), b_hh (4H,).
    Returns (h, c), each (B, H).
    """
    ### BEGIN SOLUTION
    H = h_prev.shape[1]
    z = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    gate = lambda a: 0.5 * (1.0 + np.tanh(0.5 * a))  # noqa: E731  (the sigmoid, overflow-free)
    i, f, o = gate(z[:, :H]), gate(z[:, H:2 * H]), gate(z[:, 3 * H:])
    g = np.tanh(z[:, 2 * H:3 * H])
    c = f * c_prev + i * g
    return o * np.tanh(c), c
    ### END SOLUTION


# %% [markdown]
# ### How your code is checked
#
# The read-only cell below builds `torch.nn.LSTMCell` and `torch.nn.GRUCell` in float64, copies
# the same weights into them, and compares their outputs with yours; the cell-path products
# are checked against autograd.

# %% nbgrader={"grade": false, "grade_id": "checking_tools", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Checking tools (read-only). torch.nn's cells and autograd are the reference.
def cell_case(kind, B, D, H, seed, scale):
    """Random float64 inputs and weights for an LSTM ('lstm', 4 gates) or GRU ('gru', 3)."""
    local = np.random.default_rng(seed)
    gates = 4 if kind == "lstm" else 3
    case = {"x": local.normal(size=(B, D)) * scale, "h_prev": np.tanh(local.normal(size=(B, H))),
            "W_ih": local.normal(size=(gates * H, D)) * scale,
            "W_hh": local.normal(size=(gates * H, H)) * scale,
            "b_ih": local.normal(size=gates * H) * scale, "b_hh": local.normal(size=gates * H)}
    if kind == "lstm":
        case["c_prev"] = local.normal(size=(B, H)) * 2
    return case


def torch_cell(kind, case):
    """torch.nn.LSTMCell / GRUCell with the case's weights: (h, c) or h, as numpy arrays."""
    D, H = case["x"].shape[1], case["h_prev"].shape[1]
    cell = (torch.nn.LSTMCell if kind == "lstm" else torch.nn.GRUCell)(D, H).double()
    with torch.no_grad():
        for name in ("W_ih", "W_hh", "b_ih", "b_hh"):
            torch_name = {"W_ih": "weight_ih", "W_hh": "weight_hh", "b_ih": "bias_ih",
                          "b_hh": "bias_hh"}[name]
            getattr(cell, torch_name).copy_(torch.from_numpy(case[name]))
        x, h = torch.from_numpy(case["x"]), torch.from_numpy(case["h_prev"])
        if kind == "lstm":
            h, c = cell(x, (h, torch.from_numpy(case["c_prev"])))
            return h.numpy(), c.numpy()
        return cell(x, h).numpy()


def call_cell(name, fn, case, order, label):
    """fn(*case[order]) on copies; fails on warnings or inputs changed in place."""
    args = [np.array(case[k]) for k in order]
    B, D = case["x"].shape
    H = case["h_prev"].shape[1]
    inputs = (f"{label}: B={B}, D={D}, H={H}; W_ih {case['W_ih'].shape}, W_hh "
              f"{case['W_hh'].shape}")
    got, caught = checks.call(name, fn, *args, inputs=inputs)
    warned = [f"{w.category.__name__}: {w.message}" for w in caught]
    checks.expect(name, not warned, "raised a warning.", inputs=inputs,
                  returned=warned[0] if warned else "", expected="no warning",
                  hint="a sigmoid written as 1 / (1 + exp(-z)) overflows for z = -1000: use "
                       "0.5 * (1 + np.tanh(0.5 * z)) or exp(-|z|).")
    for key, arg in zip(order, args):
        checks.expect_unchanged(name, key, np.asarray(case[key]), arg, inputs=inputs)
    return got, inputs


LSTM_HINT = ("z = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh, split into H columns each in the "
             "order i, f, g, o; i, f, o are sigmoids and g a tanh; c = f * c_prev + i * g.")


def check_lstm_cell(fn, B, D, H, seed, scale=0.5, label="random"):
    case = cell_case("lstm", B, D, H, seed, scale)
    order = ("x", "h_prev", "c_prev", "W_ih", "W_hh", "b_ih", "b_hh")
    got, inputs = call_cell("lstm_cell_forward", fn, case, order, label)
    h, c = torch_cell("lstm", case)
    checks.expect("lstm_cell_forward", isinstance(got, tuple | list) and len(got) == 2,
                  "should return a pair (h, c).", inputs=inputs, returned=checks.preview(got),
                  expected="(h, c), two arrays of shape (B, H)", hint="return h, c")
    checks.expect_close("lstm_cell_forward", "c", got[1], c, inputs=inputs, rtol=1e-9,
                        atol=1e-12, hint=LSTM_HINT)
    checks.expect_close("lstm_cell_forward", "h", got[0], h, inputs=inputs, rtol=1e-9,
                        atol=1e-12, hint="h = o * tanh(c) with the NEW cell state c (the tanh "
                                         "is easy to forget); o is the LAST block of H.")


GRU_HINT = ("PyTorch's GRU: r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr), z likewise, in the "
            "order r, z, n; n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)) (r multiplies the "
            "hidden part INCLUDING b_hn); h_new = (1 - z) * n + z * h_prev (not the other way "
            "round).")


def check_gru_cell(fn, B, D, H, seed, scale=0.5, label="random"):
    case = cell_case("gru", B, D, H, seed, scale)
    order = ("x", "h_prev", "W_ih", "W_hh", "b_ih", "b_hh")
    got, inputs = call_cell("gru_cell_forward", fn, case, order, label)
    checks.expect_close("gru_cell_forward", "h", got, torch_cell("gru", case), inputs=inputs,
                        rtol=1e-9, atol=1e-12, hint=GRU_HINT)


def reference_cell_path(forget_gates):
    """dc_T/dc_k for k = 0..T by autograd through c_t = f_t * c_(t-1) + u_t (u random)."""
    f = torch.from_numpy(np.asarray(forget_gates, dtype=np.float64))
    cells = [torch.ones(f.shape[1], dtype=torch.float64, requires_grad=True)]
    for t in range(f.shape[0]):
        cells.append(f[t] * cells[-1] + torch.rand(f.shape[1], dtype=torch.float64))
        cells[-1].retain_grad()
    cells[-1].sum().backward()
    return np.stack([c.grad.numpy() for c in cells])


def check_cell_state_gradient(fn, forget_gates, label):
    forget_gates = np.array(forget_gates, dtype=np.float64)
    T, H = forget_gates.shape
    before = forget_gates.copy()
    inputs = f"{label}: forget gates of shape (T={T}, H={H})"
    got, _ = checks.call("cell_state_gradient", fn, forget_gates, inputs=inputs)
    checks.expect_unchanged("cell_state_gradient", "forget_gates", before, forget_gates,
                            inputs=inputs)
    expected = reference_cell_path(before)
    got = checks.as_array("cell_state_gradient", "the products", got, expected.shape,
                          inputs=inputs, hint="one row per k = 0..T: shape (T + 1, H).")
    wrong = [k for k in range(T, -1, -1) if not checks.close(got[k], expected[k], rtol=1e-9,
                                                             atol=1e-300)]
    if wrong:
        k = wrong[0]
        checks.fail("cell_state_gradient", f"row k = {k} is the first wrong one, counting down "
                    f"from k = T = {T}.", inputs=inputs,
                    returned=f"row {k}: {checks.preview(got[k])}",
                    expected=f"row {k}: {checks.preview(expected[k])}",
                    hint="row k is dc_T/dc_k = f_(k+1) * ... * f_T, the product of "
                         "forget_gates[k:], so row T (no steps) is all ones and row T-1 is "
                         "forget_gates[T-1]; multiply, do not add.")


# %% nbgrader={"grade": true, "grade_id": "test_lstm_cell_forward", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Visible check: B=2, D=3, H=4.
check_lstm_cell(lstm_cell_forward, 2, 3, 4, seed=0)
checks.passed("lstm_cell_forward")

# %% nbgrader={"grade": true, "grade_id": "hidden_lstm_cell_forward", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for lstm_cell_forward run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("lstm_cell_forward", lstm_cell_forward)
check_lstm_cell(lstm_cell_forward, 5, 7, 3, seed=71)
check_lstm_cell(lstm_cell_forward, 1, 2, 6, seed=72)
check_lstm_cell(lstm_cell_forward, 3, 4, 5, seed=73, scale=300.0, label="saturated gates")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The constant error carousel (≈ 10 min)
#
# *How does the gradient travel along the cell state?* Follow only the cell path: hold the
# gates fixed and differentiate $c_t = f_t \odot c_{t-1} + i_t \odot g_t$ with respect to
# $c_{t-1}$. The second term does not contain $c_{t-1}$, so
# $\partial c_t/\partial c_{t-1} = \operatorname{diag}(f_t)$: **no weight matrix, no activation
# derivative**, only the forget gate. By the chain rule the Jacobians multiply, and diagonal
# matrices multiply entry by entry:
# $$\frac{\partial c_T}{\partial c_k} = \prod_{t=k+1}^{T}\operatorname{diag}(f_t)
# = \operatorname{diag}\Bigl(\prod_{t=k+1}^{T} f_t\Bigr).$$
# (The full gradient has more paths, since the gates depend on $h_{t-1}$, but this one needs
# nothing else.) When the network keeps $f_t \approx 1$, the product stays near 1 for as long
# as it likes: Hochreiter and Schmidhuber's **constant error carousel**. The original LSTM had
# no forget gate at all ($f = 1$); Gers, Schmidhuber and Cummins (2000) added it so that the
# cell can also be reset.
#
# ### Exercise 2: `cell_state_gradient` (≈ 5 min)
# Row $k$ of the result is $\partial c_T/\partial c_k$ for $k = 0, \dots, T$; `forget_gates[t - 1]`
# holds $f_t$. Row $T$ multiplies no gate at all.

# %% nbgrader={"grade": false, "grade_id": "cell_state_gradient", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cell_state_gradient(forget_gates):
    """dc_T/dc_k along the cell path for k = 0..T, from forget gates f_1..f_T of shape (T, H).

    Returns an array of shape (T + 1, H): row k is f_(k+1) * ... * f_T (row T is all ones).
    """
    ### BEGIN SOLUTION
    f = np.asarray(forget_gates, dtype=np.float64)
    ones = np.ones((1, f.shape[1]))
    suffix = np.cumprod(f[::-1], axis=0)[::-1]      # row k: f_(k+1) * ... * f_T
    return np.concatenate([suffix, ones])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_cell_state_gradient", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check: T=4, H=3.
check_cell_state_gradient(cell_state_gradient, np.random.default_rng(0).uniform(0.2, 1.0, (4, 3)),
                          "random gates")
checks.passed("cell_state_gradient")

# %% nbgrader={"grade": true, "grade_id": "hidden_cell_state_gradient", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for cell_state_gradient run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("cell_state_gradient", cell_state_gradient)
check_cell_state_gradient(cell_state_gradient, np.random.default_rng(74).uniform(0, 1, (30, 5)),
                          "T=30")
check_cell_state_gradient(cell_state_gradient, np.array([[0.5]]), "T=1, H=1")
check_cell_state_gradient(cell_state_gradient, np.full((200, 2), 0.01), "tiny gates, T=200")
### END HIDDEN TESTS

# %% [markdown]
# ### The forget-gate bias (≈ 5 min)
#
# *What is the carousel's gain at initialisation?* With small weights, $f_t \approx
# \sigma(b_f)$, so the cell path's gain over $T - k$ steps is about $\sigma(b_f)^{T-k}$.
# PyTorch initialises every bias from $\mathcal U(-1/\sqrt H, 1/\sqrt H)$, so $b_f \approx 0$,
# $f \approx 1/2$, and the carousel halves the gradient at every step: $2^{-100}$ over 100
# steps. Gers et al. (2000) and Jozefowicz, Zaremba and Sutskever (2015) set the forget bias to
# 1. PyTorch has **two** biases, $b_{ih}$ and $b_{hh}$, that add up, so setting the forget
# slice $[H:2H]$ of both to 1 gives $b_f = 2$ and $\sigma(2)^{100} \approx 3\cdot 10^{-6}$.
#
# We run an LSTM ($H = 32$) over adding-problem inputs of length 100, read its forget gates at
# every step, and feed them to your `cell_state_gradient`.

# %%
H, T_LONG = 32, course.pick(full=100, smoke=20)
inputs_long, targets_long = tasks.adding_problem(64, T_LONG, seed=1)


def set_forget_bias(rnn, value, suffix=""):
    """Set the forget slice [H:2H] of both LSTM biases (bias_ih and bias_hh) to `value`."""
    with torch.no_grad():
        for name in ("bias_ih", "bias_hh"):
            getattr(rnn, name + suffix)[rnn.hidden_size:2 * rnn.hidden_size] = value


@torch.no_grad()
def forget_gates_of(cell, inputs):
    """The forget gates f_1..f_T of an nn.LSTMCell on inputs (T, B, D): shape (T, B, H)."""
    h = c = torch.zeros(inputs.shape[1], cell.hidden_size)
    gates = []
    for x in inputs:
        z = x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
        gates.append(torch.sigmoid(z[:, cell.hidden_size:2 * cell.hidden_size]))
        h, c = cell(x, (h, c))
    return torch.stack(gates)


carousel = {}
for bias in (None, 1.0):
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(2, H)
    if bias is not None:
        set_forget_bias(cell, bias)
    f = forget_gates_of(cell, inputs_long)
    paths = np.stack([cell_state_gradient(f[:, b].double().numpy()) for b in range(f.shape[1])])
    label = "PyTorch's default biases" if bias is None else "forget slice of both biases = 1"
    carousel[label] = (float(f.mean()), paths.mean(axis=(0, 2)))

distance = T_LONG - np.arange(T_LONG + 1)
ax = plots.line_plot(distance, {f"{k} (mean f = {m:.2f})": v for k, (m, v) in carousel.items()},
                     title="Gain along the cell path at initialisation",
                     xlabel="distance T − k", ylabel="mean of dc_T/dc_k", logy=True)
for label, (mean_f, _) in carousel.items():
    ax.plot(distance, mean_f ** distance.astype(float), ":", color="gray")
ax.plot([], [], ":", color="gray", label="(mean f)^(T−k)")
ax.legend()
plt.show()
for label, (mean_f, path) in carousel.items():
    print(f"{label}: mean forget gate {mean_f:.3f}; cell-path gain over {T_LONG} steps "
          f"{path[0]:.2g} (mean f ** {T_LONG} = {mean_f ** T_LONG:.2g})")
print(f"sigmoid(2) ** {T_LONG} = {torch.sigmoid(torch.tensor(2.0)).item() ** T_LONG:.2g}")

# %% [markdown]
# With PyTorch's default biases the forget gates average about one half and the cell path loses
# about 25 orders of magnitude over 100 steps; with the forget bias at 2 they average 0.88 and
# it loses about 5, close to $\sigma(2)^{100} \approx 3\cdot 10^{-6}$. (The mean of the
# products is larger than the product of the mean gate, the dotted line, because units whose
# gates happen to be larger dominate the average.) Either way the decay is set by one number
# per unit that the network can **learn** to push toward 1, not by a product of weight matrices
# and slopes as in a tanh RNN.
#
# ## 3. The GRU (≈ 10 min)
#
# *Can we do with fewer gates?* Cho et al. (2014) merge the cell and hidden states and the input
# and forget gates. PyTorch's `nn.GRUCell` stacks three blocks **in the order r, z, n** in
# $W_{ih}$ (3H, D), $W_{hh}$ (3H, H), $b_{ih}$, $b_{hh}$ (3H,):
# $$r = \sigma(x W_{ir}^\top + b_{ir} + h W_{hr}^\top + b_{hr}), \qquad
# z = \sigma(x W_{iz}^\top + b_{iz} + h W_{hz}^\top + b_{hz}),$$
# $$n = \tanh\bigl(x W_{in}^\top + b_{in} + r \odot (h W_{hn}^\top + b_{hn})\bigr), \qquad
# h_t = (1 - z) \odot n + z \odot h_{t-1}.$$
# The **reset gate** $r$ multiplies the whole hidden part of the candidate, its bias
# $b_{hn}$ included (this is where PyTorch differs from the original paper, which applied $r$
# before the matrix). The **update gate** $z$ interpolates: $z \to 1$ keeps the old state, and
# along that path $\partial h_t/\partial h_{t-1} \approx \operatorname{diag}(z)$, the GRU's
# carousel. Mind the direction: in PyTorch $z$ weights the **old** state.
#
# ### Exercise 3: `gru_cell_forward` (≈ 10 min)

# %% nbgrader={"grade": false, "grade_id": "gru_cell_forward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gru_cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One GRU step in torch.nn.GRUCell's layout and formula (gates r, z, n stacked in W's rows).

    x (B, D), h_prev (B, H), W_ih (3H, D), W_hh (3H, H), b_ih (3H,), b_hh (3H,). Returns h (B, H).
    """
    ### BEGIN SOLUTION
    H = h_prev.shape[1]
    gi = x @ W_ih.T + b_ih
    gh = h_prev @ W_hh.T + b_hh
    gate = lambda a: 0.5 * (1.0 + np.tanh(0.5 * a))  # noqa: E731  (the sigmoid, overflow-free)
    r = gate(gi[:, :H] + gh[:, :H])
    z = gate(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    return (1.0 - z) * n + z * h_prev
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gru_cell_forward", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Visible check: B=2, D=3, H=4.
check_gru_cell(gru_cell_forward, 2, 3, 4, seed=0)
checks.passed("gru_cell_forward")

# %% nbgrader={"grade": true, "grade_id": "hidden_gru_cell_forward", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for gru_cell_forward run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("gru_cell_forward", gru_cell_forward)
check_gru_cell(gru_cell_forward, 5, 7, 3, seed=75)
check_gru_cell(gru_cell_forward, 1, 2, 6, seed=76)
check_gru_cell(gru_cell_forward, 3, 4, 5, seed=77, scale=300.0, label="saturated gates")
### END HIDDEN TESTS

# %% [markdown]
# ### Your cells over a whole sequence (≈ 2 min)
#
# One step right does not yet prove a sequence right (a state passed in the wrong order would
# show only here). We run your two cells over 100 steps with the weights of PyTorch's fused
# `nn.LSTM` and `nn.GRU` and compare every hidden state.

# %%
torch.manual_seed(0)
fused = {"lstm": torch.nn.LSTM(2, H).double(), "gru": torch.nn.GRU(2, H).double()}
xs = inputs_long.double()
for kind, rnn in fused.items():
    w = {k: getattr(rnn, f"{name}_l0").detach().numpy() for k, name in
         (("W_ih", "weight_ih"), ("W_hh", "weight_hh"), ("b_ih", "bias_ih"), ("b_hh", "bias_hh"))}
    h = c = np.zeros((xs.shape[1], H))
    ours = []
    for x in xs.numpy():
        if kind == "lstm":
            h, c = lstm_cell_forward(x, h, c, w["W_ih"], w["W_hh"], w["b_ih"], w["b_hh"])
        else:
            h = gru_cell_forward(x, h, w["W_ih"], w["W_hh"], w["b_ih"], w["b_hh"])
        ours.append(h)
    with torch.no_grad():
        theirs = rnn(xs)[0].numpy()
    print(f"{kind}: largest |your h_t - PyTorch's h_t| over {len(ours)} steps and the batch: "
          f"{np.abs(np.stack(ours) - theirs).max():.1e}")

# %% [markdown]
# ## 4. Gradient flow and the adding problem at $T = 100$ (≈ 15 min)
#
# *Do the gates carry the gradient where a tanh RNN cannot?* First at initialisation:
# $\|\partial L/\partial h_k\|$ at every step of the adding problem ($T = 100$, $H = 32$, one
# backward pass, `helpers.diagnostics.hidden_grad_norms`), for a tanh RNN, an LSTM with the
# forget bias at 1 and a GRU, all in float64 with PyTorch's default initialisation otherwise.
#
# Then training: Adam, batches of 64, gradient clipping at norm 1 (notebook 05), a fresh
# batch at every step, and each run stopped as soon as its MSE averaged over 10 steps is below
# 0.01; the tanh RNN runs for a fixed number of steps. Always answering 1 scores
# $1/6 \approx 0.167$. Training uses the fused modules
# (`helpers.models.FusedSequenceModel`, several times faster on a CPU); their `.unrolled()`
# copies, with the same weights, expose the hidden states for the gradient diagnostics.

# %%
CELLS = {"tanh RNN": "tanh", "LSTM": "lstm", "GRU": "gru"}
LR = {"tanh RNN": 0.01, "LSTM": 0.02, "GRU": 0.02}
MAX_STEPS = {"tanh RNN": course.pick(full=300, smoke=15), "LSTM": course.pick(full=1000, smoke=20),
             "GRU": course.pick(full=1000, smoke=20)}


def fresh(name, seed=0):
    """A FusedSequenceModel for `name`, PyTorch's init, the LSTM's forget bias set to 1."""
    torch.manual_seed(seed)
    net = models.FusedSequenceModel(2, H, 1, cell=CELLS[name])
    if CELLS[name] == "lstm":
        set_forget_bias(net.rnn, 1.0, suffix="_l0")
    return net


def flow(net):
    """||dL/dh_k|| for k = 1..T on the fixed batch, in float64, through the unrolled copy."""
    return diagnostics.hidden_grad_norms(net.unrolled().double(), inputs_long.double(),
                                         targets_long.double(), torch.nn.functional.mse_loss)


def clipped_step(model, inputs, targets, loss_fn, optimizer, max_norm=1.0):
    """zero_grad, forward, backward, clip by the global norm, step: notebook 05's train_step."""
    optimizer.zero_grad()
    loss = loss_fn(model(inputs)[0], targets)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return float(loss.detach()), float(norm)


nets = {name: fresh(name) for name in CELLS}
flow_before = {name: flow(net) for name, net in nets.items()}
runs, seconds = {}, {}
for name, net in tqdm(nets.items(), desc="three networks"):
    start = time.perf_counter()
    runs[name] = training.train(
        net, lambda i: tasks.adding_problem(64, T_LONG, seed=1000 + i),
        torch.nn.functional.mse_loss, steps=MAX_STEPS[name], lr=LR[name], step=clipped_step,
        stop_below=None if name == "tanh RNN" else 0.01, window=10, desc=name)
    seconds[name] = time.perf_counter() - start
flow_after = {name: flow(net) for name, net in nets.items()}

# %%
fig, axes = plt.subplots(1, 3, figsize=(17, 4.2))
steps_axis = np.arange(1, T_LONG + 1)
plots.line_plot(steps_axis, flow_before, title="‖dL/dh_k‖ at initialisation",
                xlabel="time step k", ylabel="‖dL/dh_k‖", logy=True, ax=axes[0])
plots.line_plot(steps_axis, flow_after, title="‖dL/dh_k‖ after training",
                xlabel="time step k", ylabel="‖dL/dh_k‖", logy=True, ax=axes[1])
window = 10
curves = {name: np.convolve(h.losses, np.ones(window) / window, mode="valid")
          for name, h in runs.items()}
ax = axes[2]
for name, curve in curves.items():
    ax.plot(np.arange(window, window + len(curve)), curve, label=name)
ax.axhline(1 / 6, linestyle="--", color="gray", label="always answer 1: 1/6")
ax.axhline(0.01, linestyle=":", color="black", label="target 0.01")
plots.labelled(ax, f"Adding problem, T = {T_LONG}", "training step",
               f"MSE (mean of {window} steps)", logy=True)
ax.legend(loc="lower left")
plt.show()
for name, history in runs.items():
    recent = np.mean(history.losses[-window:])
    outcome = (f"reached {recent:.4f} < 0.01 after {len(history.losses)} steps"
               if history.stopped_early else
               f"{recent:.4f} after {len(history.losses)} steps (did not reach 0.01)")
    print(f"{name:>9}: {outcome}, {seconds[name]:.1f} s; ||dL/dh_1|| / ||dL/dh_T|| "
          f"{flow_before[name][0] / flow_before[name][-1]:.1e} at initialisation, "
          f"{flow_after[name][0] / flow_after[name][-1]:.1e} after training")

# %% [markdown]
# At initialisation the tanh RNN's gradient falls by about 20 orders of magnitude before it
# reaches the first steps, where the first marked number sits half of the time. The LSTM's,
# riding the carousel with forget gates near $\sigma(2)$, falls by about two. The GRU, with
# PyTorch's default initialisation, starts no better than the tanh RNN: its update gates sit
# near 1/2, so its carousel halves the gradient at every step. In training the tanh RNN stays
# on the $1/6$ baseline, while the GRU and the LSTM leave it and reach an MSE below 0.01 (the
# lines above give the steps and seconds on this machine). After training both gated networks
# carry the gradient across all 100 steps (a ratio of about 0.1 to 0.2 from the first step to
# the last): they have learnt to keep their gates open where the task needs memory, which the
# tanh RNN has no way to do.
#
# ## What to remember
# - LSTM: $c_t = f_t \odot c_{t-1} + i_t \odot g_t$, $h_t = o_t \odot \tanh(c_t)$, gates stacked
#   **i, f, g, o** in PyTorch; GRU: **r, z, n**, $h_t = (1 - z)\odot n + z \odot h_{t-1}$, with
#   $r$ applied to the hidden part including $b_{hn}$.
# - Along the cell path $\partial c_T/\partial c_k = \prod_{t=k+1}^{T} f_t$: no weight matrix,
#   no activation slope; forget gates near 1 keep the gradient (the constant error carousel).
# - Set the forget bias to 1 (in PyTorch, in both biases: $b_f = 2$); PyTorch's default gives
#   $f \approx 1/2$ and a gain of $2^{-T}$ at initialisation.
# - On the adding problem at $T = 100$ the gated networks learn what the tanh RNN cannot.
#
# ## References
# - S. Hochreiter and J. Schmidhuber, "Long short-term memory", *Neural Computation* 9(8), 1997 (the constant error carousel, the adding problem).
# - F. A. Gers, J. Schmidhuber and F. Cummins, "Learning to forget: continual prediction with LSTM", *Neural Computation* 12(10), 2000 (the forget gate).
# - K. Cho, B. van Merriënboer, C. Gulcehre, D. Bahdanau, F. Bougares, H. Schwenk and Y. Bengio, "Learning phrase representations using RNN encoder–decoder for statistical machine translation", *EMNLP* 2014 (the GRU).
# - R. Jozefowicz, W. Zaremba and I. Sutskever, "An empirical exploration of recurrent network architectures", *ICML* 2015 (the forget-gate bias of 1).
# - PyTorch documentation, `torch.nn.LSTMCell`, `torch.nn.GRUCell`, `torch.nn.LSTM`, `torch.nn.GRU` (layouts, gate order, the GRU's $r \odot (W_{hn}h + b_{hn})$).
