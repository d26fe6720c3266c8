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
# # 01 · Backpropagation through time, from scratch
#
# <!-- colab-badge: `rnn-course release` puts the Open-in-Colab badge here -->
#
# **Why are recurrent networks hard to train?** Every answer in this course starts from one
# formula: the gradient of a recurrent network's loss is a *sum over time of products of
# Jacobians*. In this notebook you derive that formula (backpropagation through time, BPTT;
# Werbos 1990), implement it with numpy, and check it against finite differences and against
# PyTorch's autograd.
#
# **You will be able to**
# 1. draw an RNN unrolled in time and say which weights are shared;
# 2. derive $\partial L/\partial W_{hh}$ step by step, keeping *partial* and *total* derivatives apart;
# 3. implement the forward and backward pass of a tanh RNN and gradient-check them;
# 4. measure how much each time step contributes to the gradient, and explain why truncated BPTT
#    is biased toward short dependencies.
#
# **Time:** about 80 minutes (each section states its own estimate).
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

from helpers import checks, claims, course, plots

rng = course.setup(seed=0)

# %% [markdown]
# ## 1. The unrolled graph (≈ 12 min)
#
# *What does an RNN compute, and which parameters does the gradient have to flow through?*
#
# A vanilla RNN reads inputs $x_1, \dots, x_T$ and updates a hidden state with the **same**
# weights at every step:
#
# $$a_t = W_{xh} x_t + W_{hh} h_{t-1} + b_h, \qquad h_t = \tanh(a_t), \qquad t = 1, \dots, T.$$
#
# We process a batch of $B$ sequences at once, with vectors stored as rows, so in code the
# update reads `h_t = tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)` with shapes `x_t` (B, D),
# `h_prev` (B, H), `W_xh` (H, D), `W_hh` (H, H), `b_h` (H,). This is PyTorch's layout, which
# lets us compare every result with `torch.nn.RNN` given the same weights. Sequences are
# *time-major*: `xs` has shape (T, B, D).
#
# Unrolling the loop turns the network into a deep feed-forward graph with one layer per time
# step, all layers sharing $W_{xh}$, $W_{hh}$ and $b_h$. A loss $L = \sum_t \ell_t(h_t)$ sits on
# top of the states.

# %%
plots.draw_unrolled_rnn(4)
plt.show()

# %% [markdown]
# ### Exercise 1: one step (≈ 5 min)
# Implement one step of the recurrence.

# %% nbgrader={"grade": false, "grade_id": "rnn_step_forward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):
    """One step of a tanh RNN.

    x_t (B, D), h_prev (B, H), W_xh (H, D), W_hh (H, H), b_h (H,)  ->  h_t (B, H), float64:
    h_t = tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h).
    """
    ### BEGIN SOLUTION
    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)
    ### END SOLUTION


# %% [markdown]
# ### How your code is checked
#
# Every check compares your numpy code with an **independent oracle**: PyTorch's own
# `torch.nn.RNN`, loaded with the same weights, and `torch.autograd` for gradients. The cell
# below builds that oracle and the checks the test cells call. It is read-only, and collapsed in
# your copy (click it to expand); reading it is a good way to learn PyTorch's weight layout
# (`weight_ih_l0` is our $W_{xh}$, `weight_hh_l0` is $W_{hh}$, and PyTorch carries two biases
# whose sum plays our $b_h$). Your solutions must not call it, nor torch: the graders check that.

# %% nbgrader={"grade": false, "grade_id": "checking_tools", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Checking tools (read-only). PyTorch is the reference; your code never calls it.
def _torch_rnn(xs, h0, W_xh, W_hh, b_h):
    """torch.nn.RNN with our weights; returns (rnn, h0 as a leaf tensor, outputs (T, B, H))."""
    rnn = torch.nn.RNN(W_xh.shape[1], W_xh.shape[0], nonlinearity="tanh", dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(W_xh))
        rnn.weight_hh_l0.copy_(torch.from_numpy(W_hh))
        rnn.bias_ih_l0.copy_(torch.from_numpy(b_h))
        rnn.bias_hh_l0.zero_()
    h0_t = torch.tensor(h0, dtype=torch.float64, requires_grad=True)
    out, _ = rnn(torch.from_numpy(np.asarray(xs, dtype=np.float64)), h0_t.unsqueeze(0))
    return rnn, h0_t, out


def reference_rnn_forward(xs, h0, W_xh, W_hh, b_h):
    """The oracle's hidden states h_1..h_T, shape (T, B, H)."""
    return _torch_rnn(xs, h0, W_xh, W_hh, b_h)[2].detach().numpy()


def reference_rnn_backward(dhs, xs, h0, W_xh, W_hh, b_h):
    """The oracle's gradients of L = sum_t <dhs[t], h_t> by torch.autograd."""
    rnn, h0_t, out = _torch_rnn(xs, h0, W_xh, W_hh, b_h)
    out.backward(torch.from_numpy(np.asarray(dhs, dtype=np.float64)))
    return {"W_xh": rnn.weight_ih_l0.grad.numpy(), "W_hh": rnn.weight_hh_l0.grad.numpy(),
            "b_h": rnn.bias_ih_l0.grad.numpy(), "h0": h0_t.grad.numpy()}


def expect_float64(exercise, name, value, inputs):
    """value, already checked for shape and values, must be a float64 array."""
    checks.expect(exercise, np.asarray(value).dtype == np.float64, f"{name} is not float64.",
                  inputs=inputs, returned=f"dtype {np.asarray(value).dtype}",
                  expected="dtype float64",
                  hint="the docstring asks for float64: a float32 result loses precision the "
                       "gradient check needs.")


def check_rnn_step_forward(fn, case):
    inputs = f"x_t = xs[0], h_prev = h0 of {case.describe()}"
    h_t, _ = checks.call("rnn_step_forward", fn, case.xs[0], case.h0, *case.params, inputs=inputs)
    checks.expect_close(
        "rnn_step_forward", "h_t", h_t, reference_rnn_forward(case.xs[:1], case.h0, *case.params)[0],
        inputs=inputs, hint="h_t = tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h): check each "
                            "transpose, the bias, and that tanh is applied to the whole sum.")
    expect_float64("rnn_step_forward", "h_t", h_t, inputs)


def check_rnn_forward(fn, case):
    inputs = case.describe()
    hs, _ = checks.call("rnn_forward", fn, case.xs, case.h0, *case.params, inputs=inputs)
    expected = reference_rnn_forward(case.xs, case.h0, *case.params)
    checks.as_array("rnn_forward", "hs", hs, expected.shape, inputs=inputs,
                    hint="hs holds h_1..h_T, one (B, H) state per input step, without h0.")
    bad = checks.first_bad_step(case.T, lambda t: checks.close(hs[t - 1], expected[t - 1]))
    before = [case.h0, *expected[:-1]]                     # h_0, ..., h_(T-1)
    last_input_first = reference_rnn_forward(case.xs[-1:], case.h0, *case.params)[0]
    if all(checks.close(hs[t], before[t]) for t in range(case.T)):
        why = ("each hs[t - 1] holds h_(t-1), the state BEFORE step t (hs[0] is h0): store the "
               "state the step returns, after the update, so that hs[t - 1] is h_t.")
    elif case.T > 1 and checks.close(hs[0], last_input_first):
        why = ("hs[0] is the step on the LAST input, xs[T - 1], from h0: run the steps in time "
               "order, xs[0] first.")
    elif bad == 1:
        why = "check rnn_step_forward and that the first step starts from h0."
    else:
        why = "each step must start from the state the previous step returned."
    checks.expect_close(
        "rnn_forward", "hs", hs, expected, inputs=inputs,
        hint=f"hs[{(bad or 1) - 1}] (the state h_{bad}) is the first wrong one: " + why)
    expect_float64("rnn_forward", "hs", hs, inputs)


def call_leaving_inputs(exercise, fn, *args, inputs, problem, hint, **kwargs):
    """checks.call, with this exercise's own words when fn changes an input array in place."""
    try:
        return checks.call(exercise, fn, *args, inputs=inputs, **kwargs)
    except checks.CheckFailure as failure:
        lines = str(failure).split("\n")
        if "in place" not in lines[0]:
            raise
        part = {line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip() for line in lines[1:]}
        checks.fail(exercise, problem, inputs=inputs, returned=part["returned"],
                    expected=part["expected"], hint=hint)


def check_rnn_backward(fn, case, hs=None):
    """Compare every gradient with autograd. On a failure, report the gradients wrong on the
    shortest prefix of the sequence that fails, and what that pattern points at."""
    hs = reference_rnn_forward(case.xs, case.h0, *case.params) if hs is None else hs
    order = ("W_xh", "W_hh", "b_h", "h0")

    def run(t):
        """(gradients returned, gradients expected, wrong keys) on the first t steps."""
        cut = case.prefix(t)
        inputs = (case.describe() if t == case.T else
                  f"the first {'step' if t == 1 else f'{t} steps'} of {case.describe()}")
        grads, _ = call_leaving_inputs(
            "rnn_backward", fn, cut.dhs, cut.xs, hs[:t], cut.h0, *cut.params, inputs=inputs,
            problem="changed one of its input arrays in place.",
            hint="`dh = dhs[t]; dh += dh_next` adds into dhs itself (dh is a view of it): "
                 "write `dh = dhs[t] + dh_next`.")
        checks.expect("rnn_backward", isinstance(grads, dict) and set(grads) == set(order),
                      "should return a dict of four gradients.", inputs=inputs,
                      returned=checks.preview(sorted(grads) if isinstance(grads, dict) else grads),
                      expected=str(sorted(order)), hint="return {'W_xh': ..., 'W_hh': ..., "
                                                        "'b_h': ..., 'h0': ...}, each shaped like "
                                                        "its parameter.")
        expected = reference_rnn_backward(cut.dhs, cut.xs, cut.h0, *cut.params)
        wrong = [k for k in order if not checks.close(grads[k], expected[k], rtol=1e-6, atol=1e-9)]
        return grads, expected, wrong, inputs

    length, (grads, expected, wrong, inputs) = 0, (None, None, [], "")
    while not wrong and length < case.T:   # the shortest prefix on which a gradient is wrong
        length += 1
        grads, expected, wrong, inputs = run(length)
    if not wrong:
        for k in order:
            expect_float64("rnn_backward", f"d{k}", grads[k], inputs)
        return
    later = run(length + 1)[2] if length < case.T else []
    # on one step, da_1 = dhs[0] * (1 - h_1**2): what two common mistakes in the carry return
    cut, h1 = case.prefix(1), hs[0]
    da1 = cut.dhs[0] * (1 - h1 ** 2)
    if length == 1 and checks.close(grads["h0"], da1 @ case.W_hh.T, rtol=1e-6, atol=1e-9):
        fault = "it is da_t @ W_hh, without a transpose (yours is da_t @ W_hh.T)."
    elif length == 1 and checks.close(grads["h0"], (da1 @ case.W_hh) * (1 - cut.h0 ** 2),
                                      rtol=1e-6, atol=1e-9):
        fault = ("it is da_t @ W_hh, with no tanh derivative of its own (yours is multiplied by "
                 "1 - h_(t-1)**2 too): that derivative is applied once, at the next step back, "
                 "where dh_next joins dhs[t] before the factor (1 - h_t**2).")
    else:
        fault = ("it is exactly da_t @ W_hh: check for a transpose of W_hh, or an extra factor "
                 "such as a second tanh derivative.")
    carried = ("the gradient carried back from a step into the state before it (dh_next, and "
               "dh0 after the first step) is the suspect: a_t = x_t @ W_xh.T + h_(t-1) @ "
               "W_hh.T + b_h, so " + fault)
    if wrong == ["h0"] and set(later) - {"h0"}:
        where = ("For a sequence of length 1, dh0 is the only gradient wrong, and the only one "
                 "that goes through the carry between steps; from length 2 on, "
                 + ", ".join("d" + k for k in later if k != "h0")
                 + " go wrong too: they add the carried gradient. So " + carried)
    elif wrong == ["h0"]:
        where = ("dh0 is the only gradient wrong" + (", at every length" if later else "")
                 + ": it is the gradient carried out of the first step, da_1 @ W_hh, what "
                   "dh_next holds when the loop ends.")
    elif length == 1:
        where = ("It is wrong already for a sequence of length 1, where nothing is carried "
                 "between steps: check the derivative through tanh, (1 - h_t**2), and the "
                 "outer products.")
    else:
        where = (f"The gradients are right for sequences of length {length - 1} but wrong from "
                 f"length {length}: the gradient carried back from step t + 1 into h_t is the "
                 "suspect. It is dh_next = da_(t+1) @ W_hh, and it joins dhs[t] before the tanh "
                 "derivative: da_t = (dhs[t] + dh_next) * (1 - h_t**2).")
    w_hh = ("dW_hh sums da_t^T @ h_(t-1) over time: check that it uses the PREVIOUS hidden "
            "state h_(t-1) (h0 at the first step), and the order of the outer product, "
            "da.T @ h_prev.")
    if length == 1 and checks.close(grads["W_hh"], expected["W_hh"].T, rtol=1e-6, atol=1e-9):
        w_hh = ("dW_hh is the transpose of the right one: it sums da_t^T @ h_(t-1) (row i belongs "
                "to unit i's pre-activation), da.T @ h_prev, not h_prev.T @ da.")
    elif length == 1 and checks.close(grads["W_hh"], da1.T @ h1, rtol=1e-6, atol=1e-9):
        w_hh = ("at step 1 yours multiplies da_1 by h_1, the state the step produced: dW_hh sums "
                "da_t^T @ h_(t-1), with the PREVIOUS hidden state, which at the first step is h0 "
                "(hs[t - 1] at t = 0 is hs[-1], the last state, not h0).")
    hints = {
        "W_hh": w_hh,
        "W_xh": "dW_xh sums da_t^T @ x_t over time, with da_t = (1 - h_t**2) * dL/dh_t.",
        "b_h": "db_h sums da_t over time AND over the batch.",
        "h0": "dh0 is the gradient carried out of the first step: da_1 @ W_hh.",
    }
    key = wrong[0]
    hint = where if wrong == ["h0"] else f"{hints[key]} {where}"
    if key == "W_hh" and w_hh.startswith(("dW_hh is the transpose", "at step 1")):
        hint = w_hh                   # the cause is known: no list of places to look
    others = [f"d{k}" for k in wrong[1:]]
    also = f" ({', '.join(others)} {'is' if len(others) == 1 else 'are'} wrong too.)" if others else ""
    checks.expect_close("rnn_backward", f"d{key}", grads[key], expected[key], inputs=inputs,
                        hint=hint + also)


def check_numerical_gradient(fn, x, f, grad_f, eps=1e-5, rtol=1e-6, label="f", hint=""):
    """Compare fn(f, x, eps) with an exact gradient; x must be as it was on return. hint: what
    this input tests, said first when the gradient is wrong."""
    x = np.array(x, dtype=np.float64)
    inputs = f"{label} at x of shape {x.shape}, eps={eps}"
    lead = f"{hint} In general: " if hint else ""
    got, _ = call_leaving_inputs(
        "numerical_gradient", fn, f, x, eps=eps, inputs=inputs, problem="did not restore x.",
        hint="after evaluating f at x + eps and x - eps, put the original entry back by "
             "assignment (x[idx] = old) before moving to the next one: undoing the steps by "
             "arithmetic (x[idx] += eps) can miss the original in its last digit.")
    checks.expect_close("numerical_gradient", "grad", got, grad_f(x), inputs=inputs, rtol=rtol,
                        atol=1e-8, hint=lead + "use the CENTRAL difference (f(x + eps) - "
                                        "f(x - eps)) / (2 * eps), one entry at a time, with the "
                                        "eps passed in: a one-sided difference is off by about "
                                        "eps |f''| / 2.")


def check_relative_error(fn, a, b, label, hint=""):
    """fn(a, b) must be the course's relative error; hint: what this input tests, said first
    when the value is wrong."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    inputs = f"{label}: a = {checks.preview(a, 4)}, b = {checks.preview(b, 4)}"
    lead = f"{hint} In general: " if hint else ""
    got, _ = checks.call("relative_error", fn, a, b, inputs=inputs)
    expected = np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))
    checks.expect("relative_error", np.ndim(got) == 0, "should return one number.", inputs=inputs,
                  returned=checks.preview(got), expected="a scalar",
                  hint="take the MAXIMUM over all entries.")
    checks.expect("relative_error", bool(np.isfinite(np.float64(got))), "returned NaN or inf.",
                  inputs=inputs, returned=repr(float(got)), expected=f"{float(expected):.6g}",
                  hint=lead + "an entry where a and b are both 0 divides 0 by 0: the floor "
                              "max(1e-8, |a| + |b|) keeps the denominator away from 0, so two "
                              "zeros agree (relative error 0).")
    near = abs(float(got) - expected) <= 1e-6 * abs(expected)
    checks.expect(
        "relative_error", checks.close(np.float64(got), expected, rtol=1e-9, atol=1e-15),
        "relative error is wrong.", inputs=inputs, returned=repr(float(got)),
        expected=repr(float(expected)),
        hint=lead + ("yours is within 1e-6 of it, not within 1e-9: the 1e-8 is a floor, "
                     "max(1e-8, |a| + |b|), which leaves every ratio with |a| + |b| > 1e-8 "
                     "exactly as it is; adding it, |a| + |b| + 1e-8, changes each one a little."
                     if near else
                     "max over entries of |a - b| / max(1e-8, |a| + |b|): the maximum, not the "
                     "mean; |a| + |b| in the denominator; the 1e-8 floor avoids 0/0."))


# %% nbgrader={"grade": true, "grade_id": "test_rnn_step_forward", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check: run this cell after writing rnn_step_forward.
check_rnn_step_forward(rnn_step_forward, checks.small_rnn_case())
checks.expect_from_scratch("rnn_step_forward", rnn_step_forward)
checks.passed("rnn_step_forward")

# %% nbgrader={"grade": true, "grade_id": "hidden_rnn_step_forward", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for rnn_step_forward run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("rnn_step_forward", rnn_step_forward)
for _seed, (_B, _D, _H) in enumerate([(1, 1, 1), (3, 7, 2), (4, 2, 6), (2, 5, 5)], start=11):
    check_rnn_step_forward(rnn_step_forward, checks.small_rnn_case(1, _B, _D, _H, seed=_seed,
                                                                    scale=1.5))
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2: the whole sequence (≈ 5 min)
# Run the step over a sequence. `hs[t - 1]` holds $h_t$ for $t = 1, \dots, T$; $h_0$ is given,
# not returned. Call your `rnn_step_forward`.

# %% nbgrader={"grade": false, "grade_id": "rnn_forward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rnn_forward(xs, h0, W_xh, W_hh, b_h):
    """Run a tanh RNN over a sequence.

    xs (T, B, D), h0 (B, H), weights as in rnn_step_forward  ->  hs (T, B, H), float64,
    where hs[t - 1] is h_t (h0 itself is not included).
    """
    ### BEGIN SOLUTION
    hs = np.empty((xs.shape[0],) + h0.shape)
    h = h0
    for t, x_t in enumerate(xs):
        h = rnn_step_forward(x_t, h, W_xh, W_hh, b_h)
        hs[t] = h
    return hs
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_rnn_forward", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check: run this cell after writing rnn_forward.
check_rnn_forward(rnn_forward, checks.small_rnn_case())
checks.expect_from_scratch("rnn_forward", rnn_forward)
checks.passed("rnn_forward")

# %% nbgrader={"grade": true, "grade_id": "hidden_rnn_forward", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for rnn_forward run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("rnn_forward", rnn_forward)
for _seed, (_T, _B, _D, _H) in enumerate([(1, 2, 3, 4), (9, 1, 2, 3), (6, 4, 3, 3)], start=21):
    check_rnn_forward(rnn_forward, checks.small_rnn_case(_T, _B, _D, _H, seed=_seed, scale=1.0))
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Deriving backpropagation through time (≈ 28 min)
#
# *How does a change of $W_{hh}$ at one step reach a loss many steps later?*
#
# Let the loss be $L = \sum_{t=1}^{T} \ell_t(h_t)$, and write $g_t = \partial \ell_t / \partial h_t$
# for the gradient each loss term sends **directly** into $h_t$ (in code: `dhs[t - 1]`).
#
# **Step 1: partial versus total derivatives.** $h_t$ influences $L$ in two ways: directly through
# $\ell_t$, and indirectly through $h_{t+1}$, which depends on $h_t$. The *total* derivative
# $\delta_t = dL/dh_t$ adds both. By the chain rule, since $h_t$ reaches the later losses only
# through $h_{t+1}$,
#
# $$\delta_t = g_t + \left(\frac{\partial h_{t+1}}{\partial h_t}\right)^{\!\top} \delta_{t+1},
# \qquad \delta_{T+1} = 0 .$$
#
# **Step 2: one Jacobian.** From $h_{t+1} = \tanh(W_{xh} x_{t+1} + W_{hh} h_t + b_h)$ and
# $\tanh'(a) = 1 - \tanh(a)^2$,
#
# $$J_{t+1} := \frac{\partial h_{t+1}}{\partial h_t} = \operatorname{diag}\!\left(1 - h_{t+1}^2\right) W_{hh}.$$
#
# **Step 3: through the nonlinearity.** With $\delta^a_t = dL/da_t$ and $h_t = \tanh(a_t)$
# elementwise, $\delta^a_t = (1 - h_t^2) \odot \delta_t$. Then Step 1 becomes
# $\delta_t = g_t + W_{hh}^\top \delta^a_{t+1}$: in row-vector code, `dh_next = da @ W_hh`.
#
# **Step 4: the weights.** $W_{hh}$ enters *every* step. Its **immediate** partial derivative at
# step $t$, written $\partial^+ h_t / \partial W_{hh}$, treats $h_{t-1}$ as a constant; the
# total derivative $dh_t/dW_{hh}$ would also follow $W_{hh}$'s effect on $h_{t-1}$, and using
# *that* together with $\delta_t$ counts a path more than once: $\delta_t$ already carries the
# steps after $t$ and $dh_t/dW_{hh}$ the steps before, so the path from $W_{hh}$'s use at step
# $k$ to the loss at step $t$ would be counted once for every step from $k$ to $t$, $t - k + 1$
# times instead of once. Goodfellow, Bengio and Courville (2016, sec. 10.2.2) keep the
# two apart the same way, with a copy $W^{(t)}$ of the weights used only at step $t$. Summing
# the immediate contributions:
#
# $$\frac{dL}{dW_{hh}} = \sum_{t=1}^{T} \delta^a_t\, h_{t-1}^\top, \qquad
# \frac{dL}{dW_{xh}} = \sum_{t=1}^{T} \delta^a_t\, x_t^\top, \qquad
# \frac{dL}{db_h} = \sum_{t=1}^{T} \delta^a_t, \qquad
# \frac{dL}{dh_0} = W_{hh}^\top \delta^a_1 .$$
#
# With a batch, each sum also runs over the $B$ rows: `da.T @ h_prev` has shape (H, H).
#
# **Step 5: the sum of products.** Unrolling Step 1 gives
# $\delta_k = \sum_{t \ge k} \left(\partial h_t / \partial h_k\right)^\top g_t$ with
# $\partial h_t / \partial h_k = J_t J_{t-1} \cdots J_{k+1}$ (the identity when $t = k$), so
#
# $$\frac{dL}{dW_{hh}} = \sum_{t=1}^{T} \sum_{k=1}^{t}
# \frac{\partial \ell_t}{\partial h_t}\,
# \underbrace{J_t J_{t-1} \cdots J_{k+1}}_{t-k \text{ Jacobians}}\,
# \frac{\partial^+ h_k}{\partial W_{hh}}
# \qquad \text{(Pascanu, Mikolov and Bengio 2013, eqs. 3-5).}$$
#
# The term linking a loss at time $t$ to what happened at time $k$ carries a product of $t - k$
# Jacobians. If their norms are mostly below 1 the long-range terms **vanish**; above 1 they can
# **explode** (Bengio, Simard and Frasconi 1994; Pascanu, Mikolov and Bengio 2013). The rest
# of the course is about that product.
#
# ### Exercise 3: `rnn_backward` (≈ 20 min)
# Walk backwards from $t = T$ to $1$, carrying `dh_next` (the gradient arriving at $h_t$ from
# step $t + 1$). `hs` are the states your forward pass returned.

# %% nbgrader={"grade": false, "grade_id": "rnn_backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rnn_backward(dhs, xs, hs, h0, W_xh, W_hh, b_h):
    """Backpropagation through time for a tanh RNN.

    dhs (T, B, H): dhs[t - 1] is the loss's DIRECT gradient with respect to h_t.
    xs (T, B, D), hs (T, B, H) from rnn_forward, h0 (B, H), weights as in rnn_step_forward.
    Returns {"W_xh": (H, D), "W_hh": (H, H), "b_h": (H,), "h0": (B, H)}: the gradients of L.
    Leaves every input array unchanged.
    """
    ### BEGIN SOLUTION
    grads = {"W_xh": np.zeros_like(W_xh), "W_hh": np.zeros_like(W_hh), "b_h": np.zeros_like(b_h)}
    dh_next = np.zeros_like(h0)
    for t in reversed(range(xs.shape[0])):
        h_prev = hs[t - 1] if t > 0 else h0
        da = (dhs[t] + dh_next) * (1.0 - hs[t] ** 2)
        grads["W_xh"] += da.T @ xs[t]
        grads["W_hh"] += da.T @ h_prev
        grads["b_h"] += da.sum(axis=0)
        dh_next = da @ W_hh
    grads["h0"] = dh_next
    return grads
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_rnn_backward", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Visible check: run this cell after writing rnn_backward.
check_rnn_backward(rnn_backward, checks.small_rnn_case())
checks.expect_from_scratch("rnn_backward", rnn_backward)
checks.passed("rnn_backward")

# %% nbgrader={"grade": true, "grade_id": "hidden_rnn_backward", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for rnn_backward run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("rnn_backward", rnn_backward)
for _seed, (_T, _B, _D, _H) in enumerate([(1, 1, 2, 3), (7, 3, 4, 6), (5, 1, 6, 2), (12, 2, 3, 3)],
                                          start=31):
    check_rnn_backward(rnn_backward, checks.small_rnn_case(_T, _B, _D, _H, seed=_seed, scale=0.8))
_case = checks.small_rnn_case(6, 2, 3, 4, seed=41)
_case = checks.RNNCase(**{**_case.__dict__, "dhs": np.zeros_like(_case.dhs)})
_case.dhs[-1] = 1.0  # a loss on the last state only: everything must flow back through time
check_rnn_backward(rnn_backward, _case)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Gradient checking (≈ 20 min)
#
# *How do we know a hand-written gradient is right?* Compare it with a **numerical** gradient:
# for each entry $x_i$, the central difference
# $\frac{f(x + \epsilon e_i) - f(x - \epsilon e_i)}{2\epsilon}$ has error $O(\epsilon^2)$
# (the $\epsilon^2$ terms of the two Taylor expansions cancel), while the one-sided
# $\frac{f(x + \epsilon e_i) - f(x)}{\epsilon}$ has error $O(\epsilon)$. The comparison uses the
# relative error $\max_i |a_i - b_i| / \max(10^{-8}, |a_i| + |b_i|)$, which is scale-free. Below,
# a correct gradient scores under $10^{-7}$ in float64 and a typical wrong one over $10^{-3}$
# (the code checks both in your run: here and below, `helpers.claims` checks each sentence of
# the text that states a result against this run, with a ✔ line when it holds and a warning box
# when it does not).
#
# ### Exercise 4: `numerical_gradient` and Exercise 5: `relative_error` (≈ 10 min)

# %% nbgrader={"grade": false, "grade_id": "numerical_gradient", "locked": false, "schema_version": 3, "solution": true, "task": false}
def numerical_gradient(f, x, eps=1e-5):
    """Central-difference gradient of a scalar function f at the float64 array x (any shape).

    Changes one entry of x at a time, calls f(x), and restores the entry afterwards, so x is
    unchanged on return. Returns an array shaped like x.
    """
    ### BEGIN SOLUTION
    grad = np.zeros(x.shape, dtype=np.float64)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        f_plus = f(x)
        x[idx] = old - eps
        f_minus = f(x)
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad
    ### END SOLUTION


# %% nbgrader={"grade": false, "grade_id": "relative_error", "locked": false, "schema_version": 3, "solution": true, "task": false}
def relative_error(a, b):
    """max over entries of |a - b| / max(1e-8, |a| + |b|), as a Python float."""
    ### BEGIN SOLUTION
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_numerical_gradient", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check: f(x) = sum(x**3) has gradient 3 x**2; then x as a matrix, then eps = 0.1,
# where the central difference of a cubic is off by exactly eps**2.
check_numerical_gradient(numerical_gradient, np.linspace(-1.0, 2.0, 5),
                         lambda x: np.sum(x ** 3), lambda x: 3 * x ** 2, label="f(x) = sum(x**3)")
check_numerical_gradient(numerical_gradient, np.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.7]]),
                         lambda x: np.sum(x ** 3), lambda x: 3 * x ** 2,
                         label="f(x) = sum(x**3), x a matrix",
                         hint="x is a matrix here: perturb one ENTRY at a time, for an x of any "
                              "shape (np.ndindex(x.shape) visits them all), not one row.")
check_numerical_gradient(numerical_gradient, np.array([0.5, -1.0, 2.0]),
                         lambda x: np.sum(x ** 3), lambda x: 3 * x ** 2 + 0.1 ** 2, eps=0.1,
                         rtol=1e-9,
                         label="f(x) = sum(x**3), whose central difference is 3 x**2 + eps**2",
                         hint="with eps = 0.1 the central difference of x**3 is exactly 3 x**2 + "
                              "eps**2 = 3 x**2 + 0.01: step by the eps the caller passes, not a "
                              "fixed one.")
checks.passed("numerical_gradient")

# %% nbgrader={"grade": true, "grade_id": "hidden_numerical_gradient", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for numerical_gradient run when your notebook is graded.
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(51)
_M = _rng.normal(size=(3, 4))
# a matrix argument, with the exact gradient from torch.autograd
def _f(x):
    return float(np.sum(np.sin(3 * x) * x ** 2) + np.sum(_M * x) ** 2)
def _grad_f(x):
    xt = torch.tensor(x, requires_grad=True)
    (torch.sum(torch.sin(3 * xt) * xt ** 2) + torch.sum(torch.from_numpy(_M) * xt) ** 2).backward()
    return xt.grad.numpy()
check_numerical_gradient(numerical_gradient, _rng.normal(size=(3, 4)), _f, _grad_f,
                         label="f(x) = sum(sin(3x) x^2) + (sum(M x))^2")
# a 3-D argument
check_numerical_gradient(numerical_gradient, _rng.normal(size=(2, 2, 3)),
                         lambda x: float(np.sum(np.exp(x))), np.exp, label="f(x) = sum(exp(x))")
# the eps argument is used: for a cubic, the central difference is off by exactly eps**2
check_numerical_gradient(numerical_gradient, np.array([0.5, -1.0, 2.0]),
                         lambda x: float(np.sum(x ** 3)), lambda x: 3 * x ** 2 + 0.01, eps=0.1,
                         rtol=1e-9, label="f(x) = sum(x**3) with eps = 0.1")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_relative_error", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check: one differing entry, two zeros (0/0), and a pair of opposite signs.
check_relative_error(relative_error, [1.0, 2.0, 3.0], [1.0, 2.5, 3.0], "one differing entry")
check_relative_error(relative_error, [0.0, 2.0], [0.0, 2.5], "an entry where both are 0")
check_relative_error(relative_error, [-1.0, 4.0], [1.0, 4.0], "opposite signs",
                     hint="-1 and 1 are as far apart as two numbers of size 1 can be (relative "
                          "error 1), yet a + b = 0: divide by |a| + |b|, the sum of the sizes, "
                          "not |a + b|.")
checks.passed("relative_error")

# %% nbgrader={"grade": true, "grade_id": "hidden_relative_error", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for relative_error run when your notebook is graded.
### BEGIN HIDDEN TESTS
check_relative_error(relative_error, np.zeros((2, 3)), np.zeros((2, 3)), "both zero (0/0)")
check_relative_error(relative_error, [1e-12, 5.0], [0.0, 5.0], "tiny values (the 1e-8 floor)")
check_relative_error(relative_error, [[1.0, -2.0], [3.0, 1e-3]], [[1.1, -2.0], [3.0, 2e-3]],
                     "the worst entry is the smallest")
check_relative_error(relative_error, [-1.0, 4.0], [1.0, 4.0], "opposite signs")
_a = np.random.default_rng(61).normal(size=(4, 5))
check_relative_error(relative_error, _a, _a + 1e-3 * np.arange(20).reshape(4, 5), "random")
check_relative_error(relative_error, 2.0, 3.0, "two scalars")
### END HIDDEN TESTS

# %% [markdown]
# ### Your gradients against finite differences and against autograd
#
# A loss $L = \sum_t \langle g_t, h_t \rangle$ with random $g_t$ exercises every path of the
# graph. We compare your `rnn_backward` with your `numerical_gradient` (through your
# `rnn_forward`) and with PyTorch's autograd, in float64. For contrast, the last line is a
# gradient with a classic bug of a first BPTT: each step's gradient computed as if nothing
# arrived from step $t + 1$ (`dh_next` forgotten), which we get from your `rnn_backward` run on
# one step at a time.

# %%
case = checks.small_rnn_case(T=6, B=3, D=4, H=5, seed=course.shifted(7))   # a random problem
params = {"W_xh": case.W_xh.copy(), "W_hh": case.W_hh.copy(), "b_h": case.b_h.copy(),
          "h0": case.h0.copy()}


def loss_of(p):
    """L = sum_t <dhs[t], h_t> for the parameters in p (a dict of arrays)."""
    return float(np.sum(case.dhs * rnn_forward(case.xs, p["h0"], p["W_xh"], p["W_hh"], p["b_h"])))


def one_step_at_a_time(dhs, xs, hs, h0, W_xh, W_hh, b_h):
    """dL/dW_hh with dh_next forgotten: rnn_backward on each step alone, summed."""
    starts = [h0] + list(hs[:-1])
    return sum(rnn_backward(dhs[t:t + 1], xs[t:t + 1], hs[t:t + 1], starts[t], W_xh, W_hh,
                            b_h)["W_hh"] for t in range(xs.shape[0]))


hs = rnn_forward(case.xs, case.h0, *case.params)
ours = rnn_backward(case.dhs, case.xs, hs, case.h0, *case.params)
autograd = reference_rnn_backward(case.dhs, case.xs, case.h0, *case.params)
print(f"{'parameter':>10} {'vs numerical':>14} {'vs autograd':>13}")
errors = {}
for name in ("W_xh", "W_hh", "b_h", "h0"):
    numerical = numerical_gradient(lambda _: loss_of(params), params[name])
    errors[name] = relative_error(ours[name], numerical), relative_error(ours[name], autograd[name])
    print(f"{name:>10} {errors[name][0]:14.1e} {errors[name][1]:13.1e}")
worst = max(max(e) for e in errors.values())
forgetful = relative_error(one_step_at_a_time(case.dhs, case.xs, hs, case.h0, *case.params),
                           autograd["W_hh"])
print(f"largest relative error of your gradients: {worst:.1e}\n"
      f"dW_hh with dh_next forgotten, vs autograd:  {forgetful:.1e}")
# rules out: a correct gradient failing the 1e-7 test (finite differences too coarse for it)
claims.claim("a correct gradient scores under 1e-7", worst < 1e-7, f"largest {worst:.1e}")
# rules out: a classic bug passing the test
claims.claim("a wrong one scores over 1e-3", forgetful > 1e-3,
             f"dh_next forgotten: {forgetful:.1e}")
vs_autograd = max(e[1] for e in errors.values())
# rules out: autograd being no more exact than finite differences (so that the gap is not theirs)
claims.claim("your gradients agree with autograd over 100 times more closely than with the "
             "finite differences", 100 * vs_autograd < min(e[0] for e in errors.values()),
             f"largest {vs_autograd:.1e} against autograd, smallest "
             f"{min(e[0] for e in errors.values()):.1e} against finite differences");

# %% [markdown]
# Your gradients agree with autograd far more closely than with the finite differences (the
# table). Where does that gap come from?
#
# ### How small should $\epsilon$ be? (≈ 5 min)
#
# The central difference makes two errors. **Truncation:** by Taylor's theorem
# $f(x \pm \epsilon) = f \pm \epsilon f' + \frac{\epsilon^2}{2} f'' \pm \frac{\epsilon^3}{6} f''' + \dots$,
# so the difference quotient is $f' + \frac{\epsilon^2}{6} f''' + O(\epsilon^4)$: an error of
# about $|f'''|\,\epsilon^2/6$. **Rounding:** $f(x + \epsilon)$ and $f(x - \epsilon)$ are each
# computed with a relative error of order $\epsilon_{\text{mach}} = 2^{-52}$ (float64), so with
# an absolute error of order $\epsilon_{\text{mach}} |f|$ that does not shrink with $\epsilon$.
# Subtracting the two nearly equal values keeps that error while the difference itself shrinks,
# and dividing by $2\epsilon$ turns it into an error of order $\epsilon_{\text{mach}} |f| / \epsilon$
# in the derivative. The total,
#
# $$\text{error}(\epsilon) \approx \frac{|f'''|\,\epsilon^2}{6} + \frac{\epsilon_{\text{mach}}\,|f|}{\epsilon},$$
#
# is smallest where the two terms balance, at $\epsilon^\ast = (3\,\epsilon_{\text{mach}} |f| / |f'''|)^{1/3}$,
# which for $f$ and $f'''$ of order 1 is about the default `eps=1e-5` of `numerical_gradient`.
# Below: your `numerical_gradient` at one entry of $W_{hh}$, for $\epsilon$ from $10^{-1}$ down to
# $10^{-13}$, against the exact derivative from your `rnn_backward`, with $|f'''|$ estimated by a
# five-point difference of step $10^{-2}$.

# %%
entry = (0, 1)                                    # the entry of W_hh we differentiate along


def loss_at(w):
    """L as a function of W_hh[entry] alone, the other parameters fixed."""
    W = case.W_hh.copy()
    W[entry] = w
    return loss_of({**params, "W_hh": W})


w0, exact, f0 = case.W_hh[entry], ours["W_hh"][entry], abs(loss_at(case.W_hh[entry]))
step = 1e-2
third = abs(loss_at(w0 + 2 * step) - 2 * loss_at(w0 + step) + 2 * loss_at(w0 - step)
            - loss_at(w0 - 2 * step)) / (2 * step ** 3)
eps_mach = np.finfo(np.float64).eps
epsilons = np.logspace(-1, -13, 25)
measured = np.array([abs(numerical_gradient(loss_at, np.array(w0), eps=e) - exact)
                     for e in epsilons])
estimate = third * epsilons ** 2 / 6 + eps_mach * f0 / epsilons
best = (3 * eps_mach * f0 / third) ** (1 / 3)
_, ax = plt.subplots()
ax.loglog(epsilons, measured, "o-", color="tab:blue", label="measured |numerical - exact|")
ax.loglog(epsilons, estimate, "--", color="tab:blue",
          label=r"estimate $|f'''|\epsilon^2/6 + \epsilon_{mach}|f|/\epsilon$")
ax.axvline(best, color="gray", linestyle=":", label=r"$\epsilon^\ast$, where the terms balance")
plots.labelled(ax, "Error of the central difference against its step", "step $\\epsilon$",
               "absolute error of the derivative")
ax.invert_xaxis()                                 # from large steps (left) to tiny ones (right)
ax.legend()
plt.show()
ratio = measured / estimate
large = epsilons >= 1e-4
observed_best = epsilons[np.argmin(measured)]
print(f"|f| = {f0:.2f}, |f'''| = {third:.2f}: predicted best eps {best:.1e}, measured best "
      f"{observed_best:.0e}; measured / estimate from {ratio.min():.2f} to {ratio.max():.2f}, "
      f"for eps >= 1e-4 from {ratio[large].min():.3f} to {ratio[large].max():.3f}")
# rules out: large steps whose error is something else than the truncation term
claims.claim("for large steps the error is the truncation term (within 10 %)",
             bool(np.all(abs(ratio[large] - 1) < 0.1)),
             f"ratio {ratio[large].min():.3f} to {ratio[large].max():.3f} for eps >= 1e-4")
# rules out: a best step set by something else than the balance of the two terms
claims.claim("the best step is within a factor of 10 of eps*",
             1 / 10 < observed_best / best < 10, f"{observed_best:.0e} against {best:.1e}")
small = epsilons < best / 10                      # where rounding dominates
slope = np.polyfit(np.log(epsilons[small]), np.log(measured[small]), 1)[0]
# rules out: a smaller step being at least as accurate (an error that stays flat or falls)
claims.claim("below eps* the error grows as the step shrinks, like 1/eps (log-log slope between "
             "-1.5 and -0.5; the smallest step's error is over 1000 times the best)",
             -1.5 < slope < -0.5 and measured[-1] > 1e3 * measured.min(),
             f"slope {slope:.2f}; {measured[-1]:.1e} against {measured.min():.1e}")
# rules out: an error whose level has nothing to do with rounding (orders of magnitude off).
# Not "below it": when |f| is small because f's terms cancel, the error sits above it
claims.claim("there its level matches the rounding estimate only roughly (median ratio between "
             "1/30 and 30)", bool(1 / 30 < np.median(ratio[small]) < 30),
             f"median ratio {np.median(ratio[small]):.2f}");

# %% [markdown]
# Left of $\epsilon^\ast$ the error is the truncation term almost exactly (the printed ratios).
# Right of it the error follows the rounding term's slope: it *grows* as the step shrinks, like
# $1/\epsilon$. Its level matches the estimate only roughly (the printed ratios): rounding
# errors partly cancel, which puts it below; and when $f$ is a sum of terms that cancel ($|f|$
# small), each term is rounded relative to its own size, not to $|f|$, which puts it above. A
# smaller step is not a more accurate one. In float32 ($\epsilon_{\text{mach}} = 2^{-23}$) the rounding term is
# about $2^{29}$ times larger, which moves $\epsilon^\ast$ up and the best attainable error up
# far more: gradient checks run in float64.
#
# ## 4. Which time steps does the gradient come from? (≈ 10 min)
#
# *How much does each step $k$ contribute to $dL/dW_{hh}$ when the loss sits at the end?*
#
# Take a loss on the last state only ($g_T \ne 0$, $g_t = 0$ otherwise). Then
# $dL/dW_{hh} = \sum_k C_k$ with $C_k = \delta^a_k h_{k-1}^\top$, and by Step 5 the term
# $C_k$ carries $T - k$ Jacobians. Your `rnn_backward` gives us each $C_k$ without new code:
# run it on the **last $K$ steps only**, starting from $h_{T-K}$ as if it were a constant
# initial state. That returns $S_K = \sum_{k > T-K} C_k$, and $C_k = S_{T-k+1} - S_{T-k}$.
# We try three recurrent matrices: a random one rescaled to largest singular value
# $\sigma_{\max} \in \{0.5, 1, 2\}$, each for three random draws of the weights and inputs (the
# plot shows the first draw).

# %%
def last_steps(xs, hs, h0, W_xh, W_hh, b_h, dhs, K):
    """rnn_backward on the last K steps only, with h_{T-K} treated as a constant start state:
    its "W_hh" is S_K, and its "h0" is delta_{T-K} = dL/dh_{T-K}."""
    T = xs.shape[0]
    start = hs[T - K - 1] if K < T else h0
    return rnn_backward(dhs[T - K:], xs[T - K:], hs[T - K:], start, W_xh, W_hh, b_h)


def partial_sums(draw, sigma):
    """For random draw `draw` at sigma_max: S[K] = dL/dW_hh from the last K steps, K = 0..T,
    and direct[T - k] = C_k computed on its own, k = T, ..., 1."""
    r = course.rng(draw)
    xs = r.normal(size=(T, B, D))
    W_xh = r.normal(scale=1 / np.sqrt(D), size=(H, D))
    W_raw = r.normal(size=(H, H))
    W_hh = W_raw * sigma / np.linalg.norm(W_raw, 2)
    dhs = np.zeros((T, B, H))
    dhs[-1] = r.normal(size=(B, H))               # a loss on h_T only
    h0, b_h = np.zeros((B, H)), np.zeros(H)
    hs = rnn_forward(xs, h0, W_xh, W_hh, b_h)
    runs = [last_steps(xs, hs, h0, W_xh, W_hh, b_h, dhs, K) for K in range(1, T + 1)]
    S = np.stack([np.zeros((H, H))] + [run["W_hh"] for run in runs])
    deltas = [dhs[-1]] + [run["h0"] for run in runs[:-1]]   # delta_k for k = T, T-1, ..., 1
    starts = [h0] + list(hs[:-1])                           # h_{k-1} for k = 1, ..., T
    direct = np.stack([rnn_backward(delta[None], xs[k - 1:k], hs[k - 1:k], starts[k - 1], W_xh,
                                    W_hh, b_h)["W_hh"]
                       for k, delta in zip(range(T, 0, -1), deltas)])
    return S, direct


def decay_fit(c, floor):
    """(factor per step back, R^2) of a straight line through log ||C_k||, k < T, fitted on the
    steps before the contribution first falls below 1000 floors (rounding under 0.1 %)."""
    above = c > 1e3 * floor
    stop = int(np.argmin(above)) if not above.all() else len(c)
    x, y = steps_back[1:stop], np.log(c[1:stop])
    slope, intercept = np.polyfit(x, y, 1)
    return float(np.exp(slope)), float(1 - np.var(y - slope * x - intercept) / np.var(y))


T, B, D, H = course.pick(full=(60, 16, 4, 32), smoke=(12, 4, 4, 8))
sigmas, draws = (0.5, 1.0, 2.0), (0, 1, 2)
steps_back = np.arange(T)                         # T - k for k = T, ..., 1
results = {(d, s): partial_sums(d, s) for d in tqdm(draws, desc="random draws") for s in sigmas}
S = {key: sums for key, (sums, _) in results.items()}
contributions = {key: np.linalg.norm(v[1:] - v[:-1], axis=(1, 2)) for key, v in S.items()}
direct = {key: np.linalg.norm(c, axis=(1, 2)) for key, (_, c) in results.items()}
floors = {key: eps_mach * np.linalg.norm(v[-1]) for key, v in S.items()}
fits = {key: decay_fit(contributions[key], floors[key]) for key in S}

_, ax = plt.subplots(figsize=(10, 4.5), layout="constrained")
for sigma, color in zip(sigmas, ("tab:blue", "tab:orange", "tab:green")):
    ax.semilogy(steps_back, np.where(direct[0, sigma] > 0, direct[0, sigma], np.nan), color=color,
                linewidth=1, label=rf"$\sigma_{{\max}}(W_{{hh}})$ = {sigma}: $C_k$ computed alone")
    c = contributions[0, sigma]
    ax.semilogy(steps_back, np.where(c > 0, c, np.nan), "o", color=color, markersize=3,
                label=rf"$\sigma_{{\max}}$ = {sigma}: $S_K - S_{{K-1}}$")
floor_range = [floors[0, s] for s in sigmas]
ax.axhline(max(floor_range), color="gray", linestyle="--", linewidth=1,
           label=rf"$\epsilon_{{mach}}\,\|S_T\|_F$ ({min(floor_range):.1e} to "
                 f"{max(floor_range):.1e}; drawn at the largest)")
plots.labelled(ax, "Contribution of each time step to dL/dW_hh (loss at the last step)",
               "steps back from the loss, T - k", r"$\|C_k\|_F$")
ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
plt.show()
back = min(10, T - 1)
print(f"over draws {draws}:\n{'sigma_max':>9}  {'factor per step back':>20}  {'R^2 of the fit':>14}"
      f"  {f'term {back} back / last':>19}")
for sigma in sigmas:
    rates = [fits[d, sigma][0] for d in draws]
    r2 = [fits[d, sigma][1] for d in draws]
    ratios = [contributions[d, sigma][back] / contributions[d, sigma][0] for d in draws]
    print(f"{sigma:>9}  {claims.spread(rates, '.2f'):>20}  {claims.spread(r2, '.3f'):>14}  "
          f"{claims.spread(ratios, '.1e'):>19}")
# rules out: a decay that is not geometric (a curved line on the log scale), or no decay
claims.claim_seeds("each step back multiplies a contribution by a roughly constant factor "
                   "below 1 (a straight line on the log scale: R^2 > 0.98 at every sigma_max)",
                   [all(fits[d, s][0] < 1 and fits[d, s][1] > 0.98 for s in sigmas)
                    for d in draws],
                   claims.spread([fits[key][0] for key in S], ".2f", "factors") + "; "
                   + claims.spread([fits[key][1] for key in S], ".3f", "R^2"))
# rules out: a decay rate that does not depend on the weights' scale
claims.claim_seeds("larger weights slow the decay (the factor grows with sigma_max)",
                   [fits[d, 0.5][0] < fits[d, 1.0][0] < fits[d, 2.0][0] for d in draws])
# rules out: distant steps contributing about as much as the last one
claims.claim_seeds(f"the term {back} steps back is over 10 times smaller than the last one",
                   [all(contributions[d, s][back] < contributions[d, s][0] / 10 for s in sigmas)
                    for d in draws])
zero_from = [int(np.argmax(contributions[d, 0.5] == 0)) for d in draws]
last_nonzero = [contributions[d, 0.5][z - 1] / floors[d, 0.5] for d, z in zip(draws, zero_from)]
# rules out: contributions that stay nonzero, or that reach 0 by underflow (far below the floor,
# near float64's smallest number) rather than by cancellation at the rounding floor
claims.claim_seeds("at sigma_max = 0.5 the differences become exactly 0 soon after "
                   "they cross the rounding floor, not by underflow (the last nonzero one "
                   "between 1e-10 and 1 floor)",
                   [bool((contributions[d, 0.5] == 0).any()) and 1e-10 < r < 1
                    for d, r in zip(draws, last_nonzero)],
                   f"from {min(zero_from)} to {max(zero_from)} steps back on; the last nonzero "
                   + claims.spread(last_nonzero, ".2g") + " floors")


def matched_down_to(key):
    """In floors: the smallest C_k down to which every difference is within 10 % of C_k
    computed alone (k = 1 left out: h_0 = 0 makes C_1 exactly 0)."""
    c, d = contributions[key][:-1], direct[key][:-1]
    ok = np.abs(c - d) <= 0.1 * d
    last = (int(np.argmin(ok)) if not ok.all() else len(ok)) - 1
    return d[last] / floors[key]


crossing = [(d, s) for d in draws for s in (0.5, 1.0)]   # the curves that reach the floor
levels = {key: matched_down_to(key) for key in crossing}
print("differences within 10 % of C_k computed alone, down to (in floors): "
      + ", ".join(f"sigma_max {s}: {claims.spread([levels[d, s] for d in draws], '.2f')}"
                  for s in (0.5, 1.0)))
tail = [direct[d, 0.5][-2] / floors[d, 0.5] for d in draws]
print(f"C_2 computed alone at sigma_max = 0.5: {claims.spread(tail, '.0e')} floors")
# rules out: differences that are mostly rounding already at the dashed line (or above it)
claims.claim_seeds("the differences follow C_k computed alone (within 10 %) down to the "
                   "dashed line (under 2 floors)",
                   [all(levels[d, s] < 2 for s in (0.5, 1.0)) for d in draws],
                   claims.spread(list(levels.values()), ".2f", "floors"))
# rules out: a line that marks where rounding takes over (then they would stop above it)
claims.claim("in most curves that reach it, they follow it below the line (under 1 floor)",
             sum(v < 1 for v in levels.values()) > len(levels) / 2,
             f"{sum(v < 1 for v in levels.values())} of {len(levels)}")
# rules out: contributions that themselves stop near the floor (rather than their differences)
claims.claim_seeds("computed alone, the contributions at sigma_max = 0.5 keep shrinking far "
                   "below the line (C_2 under 1e-6 floors)", [t < 1e-6 for t in tail]);

# %% [markdown]
# Each step back multiplies a contribution by a roughly constant factor below 1 (the printed
# factors and fits), so the contribution of step $k$ shrinks **geometrically** in $T - k$, and
# ten steps back it is more than ten times smaller than the last step's, far more for small
# weights. Larger weights slow the decay, but tanh's derivative ($\le 1$, and small once units
# saturate) still pulls the product down. Notebook 02 turns this observation into a bound;
# notebook 04 explains the role of $\sigma_{\max}$.
#
# Computed alone, each $C_k = \delta^a_k h_{k-1}^\top$ (one step of your `rnn_backward` from
# $\delta_k$, which the run over the last $T - k$ steps returns as its `"h0"` gradient) keeps
# shrinking geometrically far below the dashed line (the lines). The differences
# $S_K - S_{K-1}$ (the dots) follow it within 10 % down to about that line, in most curves
# below it (the printed levels), then turn ragged and, a few steps later, are exactly 0. That
# is not underflow (float64 holds numbers down to $2^{-1074}$): it is **cancellation**. $S_K$ is
# $S_{K-1}$ plus $C_k$, rounded entry by entry, so the difference carries each entry's rounding
# error, at most half a unit in the last place of that entry of $S_{K-1}$. The line
# $\epsilon_{\text{mach}} \|S_T\|_F$ is the size of such errors if every entry were as large
# as the norm suggests; many entries of $S$ are far smaller, so the differences stay accurate a
# little below it (Higham 2002 treats such rounding and cancellation errors at length). Once
# every entry of $C_k$ is below half a unit in the last place of its entry of $S_{K-1}$,
# adding it changes nothing and the difference is 0. So the fits use only
# differences far above the line; the long-range terms are still there, only too small to
# change the sum.
#
# ## 5. Truncated BPTT and its bias (≈ 9 min)
#
# *What do we lose by back-propagating only $K$ steps?* Long sequences are often trained with
# **truncated BPTT** (Williams and Peng 1990; Williams and Zipser 1995): the backward pass stops
# $K$ steps back, which costs $O(K)$ instead of $O(T)$ per update. For our loss at the last step
# that keeps exactly the terms with $T - k < K$ of the double sum of Step 5 and sets all others
# to **zero**, whatever their size: $S_K$ above is that truncated gradient. (The common recipe,
# "detach the hidden state every $K$ steps", truncates less evenly: a loss at the $j$-th step of
# a chunk is back-propagated $j$ steps, so its windows range from 1 to $K$.)
#
# How well does the truncated gradient approximate the full one? The plot shows how far the
# cosine between the truncated and the full gradient is from 1, on a log scale (values under
# $10^{-14}$, the cosine's own rounding, are left out).

# %%
Ks = np.arange(1, T + 1)
cosines = {}
for key, sums in S.items():
    full = sums[-1].ravel()
    cosines[key] = np.array([sums[K].ravel() @ full
                             / (np.linalg.norm(sums[K]) * np.linalg.norm(full)) for K in Ks])
shown_Ks = Ks <= min(30, T)
plots.line_plot(Ks[shown_Ks], {f"$\\sigma_{{\\max}}$ = {s}": np.where(   # < 1e-14: rounding
                    1 - cosines[0, s] > 1e-14, 1 - cosines[0, s], np.nan)[shown_Ks]
                               for s in sigmas},
                title="Truncated BPTT: how far K steps are from the full gradient's direction",
                xlabel="truncation length K (steps back-propagated)",
                ylabel="1 - cosine(truncated, full dL/dW_hh)", logy=True, marker=".",
                baseline=(0.01, "cosine 0.99"))
plt.show()
K99 = {key: int(Ks[np.argmax(cos >= 0.99)]) for key, cos in cosines.items()}
for sigma in sigmas:
    print(f"sigma_max = {sigma}: cosine >= 0.99 from K = "
          f"{claims.spread([K99[d, sigma] for d in draws], 'd')}; K = 1 gives "
          f"{claims.spread([cosines[d, sigma][0] for d in draws], '.3f')}")
# rules out: a truncated gradient that points elsewhere until K is large
claims.claim_seeds("a few steps already give a cosine of 0.99 (K <= 10)",
                   [all(K99[d, s] <= 10 for s in sigmas) for d in draws]);

# %% [markdown]
# Truncation looks harmless by this measure, and that is the trap: the terms it drops are the
# ones that were already tiny, so the truncated gradient points almost the same way as the full
# one (a few steps reach a cosine of 0.99). But a task whose answer depends on an input $K$ or
# more steps back, like the first-token task of notebook 02, gets exactly zero gradient through
# the dropped terms: nothing in the truncated gradient rewards keeping information for more than
# $K$ steps. That is a **bias**, not noise: averaging many updates does not remove it. It does
# not make longer dependencies impossible, since the forward pass still carries whatever the
# state holds, and a network that learned to keep information over shorter lags may keep it
# longer; but the gradient never asks for it. Truncating at a *random* length and reweighting
# the terms that survive removes the bias in expectation (Tallec and Ollivier 2017). Vanishing
# gradients and truncation fail long dependencies alike: one shrinks their terms
# geometrically, the other cuts them off.

# %% [markdown]
# Where am I? Run this to see which exercises pass their visible checks.

# %% nbgrader={"grade": false, "grade_id": "progress", "locked": true, "schema_version": 3, "solution": false, "task": false}
checks.progress()

# %% [markdown]
# ## What to remember
# - An unrolled RNN is a deep network with shared weights; BPTT is backpropagation on it.
# - Keep partial and total derivatives apart: $\delta_t = g_t + J_{t+1}^\top \delta_{t+1}$, and
#   $dL/dW_{hh} = \sum_t \delta^a_t h_{t-1}^\top$ with the **previous** state.
# - $dL/dW_{hh}$ is a sum over pairs $(k, t)$ of terms carrying $t - k$ Jacobians
#   $J_t = \operatorname{diag}(1 - h_t^2)\, W_{hh}$ (for another activation $\phi$,
#   $\operatorname{diag}(\phi'(a_t))\, W_{hh}$); long-range terms are products of many of them.
# - Check every hand-written gradient: central differences and a relative error, or autograd.
#   The central difference's error is truncation, $|f'''|\epsilon^2/6$, plus rounding,
#   $\epsilon_{\text{mach}}|f|/\epsilon$: a smaller step is not always a better one.
# - Truncated BPTT sets the long-range terms to zero: a biased gradient that never asks the
#   network to remember for more than $K$ steps (truncating at random lengths removes the bias).
#
# ## References
# - P. J. Werbos, "Backpropagation through time: what it does and how to do it", *Proc. IEEE* 78(10), 1990.
# - R. J. Williams and J. Peng, "An efficient gradient-based algorithm for on-line training of recurrent network trajectories", *Neural Computation* 2(4), 1990.
# - R. J. Williams and D. Zipser, "Gradient-based learning algorithms for recurrent networks and their computational complexity", in *Backpropagation: Theory, Architectures and Applications*, 1995.
# - Y. Bengio, P. Simard and P. Frasconi, "Learning long-term dependencies with gradient descent is difficult", *IEEE Trans. Neural Networks* 5(2), 1994.
# - R. Pascanu, T. Mikolov and Y. Bengio, "On the difficulty of training recurrent neural networks", *ICML* 2013.
# - I. Goodfellow, Y. Bengio and A. Courville, *Deep Learning*, MIT Press 2016, chapter 10 (sec. 10.2.2: BPTT with a copy of the weights per step).
# - C. Tallec and Y. Ollivier, "Unbiasing truncated backpropagation through time", arXiv:1705.08209, 2017.
# - N. J. Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., SIAM 2002 (rounding errors, cancellation, finite differences).
