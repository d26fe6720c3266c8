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
# # 05 · Gradient clipping
#
# <!-- colab-badge: `rnn-course release` puts the Open-in-Colab badge here -->
#
# Notebook 03 ended on a cliff: one gradient step, taken where the gradient is huge, threw the
# parameters far away. **Can we keep the step and lose the explosion?** Gradient clipping
# rescales a gradient that is too long before the update. Done the right way it keeps the
# step's direction and only shortens it; done the wrong way it changes the direction; put in the
# wrong place in a training step it does nothing at all.
#
# **You will be able to**
# 1. clip gradients by their global norm and by value, exactly as PyTorch does, and say why
#    only the first keeps the direction;
# 2. write a training step with clipping in the right place: after `backward`, before `step`;
# 3. show that clipping turns runs that overflow into runs that train;
# 4. choose the threshold from observed gradient norms and see how it interacts with the
#    learning rate.
#
# **Time:** about 55 minutes (each section states its own estimate).
# The exercises are graded: each has a visible check you can run now and hidden tests
# (random shapes, edge cases, PyTorch as the reference) that run when your notebook is graded.
# Only the code inside the exercise cells (the ones that say `# YOUR CODE HERE`) is graded, so
# put any helper function you write in one of those cells.

# %%
# Set-up (≈ 1 min). On Colab this installs the course's `helpers` package from the course
# repository; locally, the README's set-up command already did.
# colab-install: `rnn-course release` puts the Colab install of `helpers` here
import copy
import functools

import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm.auto import tqdm

from helpers import checks, course, models, plots, tasks, training

rng = course.setup(seed=0)

# %% [markdown]
# ## 1. Two ways to clip (≈ 15 min)
#
# *How do we shorten a gradient that is too long?* Write all parameters' gradients as one long
# vector $g$ with global norm $\|g\| = \sqrt{\sum_i g_i^2}$ (notebook 03's `global_grad_norm`).
#
# - **Clip by norm** (Pascanu, Mikolov and Bengio 2013): with a threshold $c$,
#   $g \leftarrow g \cdot \min\bigl(1, \tfrac{c}{\|g\| + \varepsilon}\bigr)$. Every entry is
#   multiplied by the **same** positive number, so the direction $g/\|g\|$ is unchanged and
#   only the length shrinks, to just under $c$. PyTorch's `torch.nn.utils.clip_grad_norm_`
#   uses $\varepsilon = 10^{-6}$, which also avoids dividing by zero when $g = 0$. Note the
#   rule: the factor is applied whenever $c/(\|g\| + \varepsilon) < 1$, so a gradient whose norm
#   is **exactly** $c$ is still scaled, by $c/(c + 10^{-6})$.
# - **Clip by value**: $g_i \leftarrow \max(-c, \min(c, g_i))$ for every entry
#   (`torch.nn.utils.clip_grad_value_`). Large entries are cut to $\pm c$ while small ones stay,
#   so the **direction changes**: the update no longer points where the gradient did.
#
# Both return new arrays here (PyTorch's versions work in place on `.grad`).
#
# ### Exercises 1–2: `clip_grad_norm` and `clip_grad_value` (≈ 10 min)

# %% nbgrader={"grade": false, "grade_id": "clip_grad_norm", "locked": false, "schema_version": 3, "solution": true, "task": false}
def clip_grad_norm(grads, max_norm):
    """Clip a list of float64 arrays (any shapes) by their global norm, as PyTorch does.

    Returns (clipped, total): `clipped` a list of new arrays, each multiplied by
    max_norm / (total + 1e-6) when that factor is < 1 (unchanged otherwise), and `total` the
    global norm BEFORE clipping, as a float. The input arrays are not changed.
    """
    ### BEGIN SOLUTION
    grads = [np.asarray(g, dtype=np.float64) for g in grads]
    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
    factor = min(1.0, max_norm / (total + 1e-6))
    return [g * factor for g in grads], total
    ### END SOLUTION


# %% nbgrader={"grade": false, "grade_id": "clip_grad_value", "locked": false, "schema_version": 3, "solution": true, "task": false}
def clip_grad_value(grads, clip_value):
    """Clip every entry of a list of float64 arrays to [-clip_value, clip_value].

    Returns a list of new arrays; the input arrays are not changed.
    """
    ### BEGIN SOLUTION
    return [np.clip(np.asarray(g, dtype=np.float64), -clip_value, clip_value) for g in grads]
    ### END SOLUTION


# %% [markdown]
# ### How your code is checked
#
# The read-only cell below holds the oracle (`torch.nn.utils.clip_grad_norm_` and
# `clip_grad_value_` on copies of the gradients, and a reference training step) and the checks
# the test cells call.

# %% nbgrader={"grade": false, "grade_id": "checking_tools", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Checking tools (read-only). PyTorch is the reference; your code never calls it.
def as_parameters(grads):
    """Leaf tensors whose .grad holds a copy of each array (what torch.nn.utils clips)."""
    params = []
    for g in grads:
        p = torch.zeros(np.shape(g), dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor(np.asarray(g, dtype=np.float64))
        params.append(p)
    return params


def describe_grads(grads, label):
    return (f"{label}: {len(grads)} arrays of shapes {[np.shape(g) for g in grads]}, global norm "
            f"{float(np.sqrt(sum(np.sum(np.square(g)) for g in grads))):.6g}")


def call_on_grads(name, fn, grads, threshold, label):
    """fn(grads, threshold) on copies; fails if the inputs changed. Returns (result, inputs)."""
    grads = [np.array(g, dtype=np.float64) for g in grads]
    before = [g.copy() for g in grads]
    inputs = f"{describe_grads(grads, label)}; threshold {threshold!r}"
    got, caught = checks.call(name, fn, grads, threshold, inputs=inputs)
    checks.expect_unchanged(name, "grads", before, grads, inputs=inputs)
    warned = [f"{m.category.__name__}: {m.message}" for m in caught]
    checks.expect(name, not warned, "raised a warning.", inputs=inputs,
                  returned=warned[0] if warned else "", expected="no warning",
                  hint="an all-zero gradient has norm 0: PyTorch divides by (norm + 1e-6), "
                       "never by the norm alone.")
    return got, inputs


def expect_array_list(name, got, expected, inputs, hint):
    checks.expect(name, isinstance(got, list | tuple) and len(got) == len(expected),
                  "should return a list with one array per input array.", inputs=inputs,
                  returned=f"{type(got).__name__} of length {len(got) if hasattr(got, '__len__') else '-'}",
                  expected=f"list of {len(expected)} arrays", hint="return a list, not one array.")
    for i, (g, e) in enumerate(zip(got, expected)):
        checks.expect_close(name, f"clipped[{i}]", g, e, inputs=inputs, rtol=1e-12, atol=1e-300,
                            hint=hint)


def check_clip_grad_norm(fn, grads, max_norm, label):
    got, inputs = call_on_grads("clip_grad_norm", fn, grads, max_norm, label)
    params = as_parameters(grads)
    total = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
    checks.expect("clip_grad_norm", isinstance(got, tuple | list) and len(got) == 2,
                  "should return a pair (clipped, total).", inputs=inputs,
                  returned=checks.preview(got), expected="(list of arrays, float)",
                  hint="return clipped_list, total_norm_before_clipping.")
    clipped, norm = got
    norm = checks.as_number("clip_grad_norm", "total", norm, inputs=inputs,
                            hint="the second value is the global norm, one float.")
    checks.expect_close("clip_grad_norm", "total", np.float64(norm), total, inputs=inputs,
                        rtol=1e-12, atol=1e-300,
                        hint="the global norm of ALL the arrays together (one square root of the "
                             "sum of every squared entry), measured BEFORE clipping.")
    expect_array_list("clip_grad_norm", clipped, [p.grad.numpy() for p in params], inputs,
                      "multiply EVERY array by the same factor max_norm / (total + 1e-6), and "
                      "only when that factor is < 1 (so a norm exactly at max_norm is still "
                      "scaled, by max_norm / (max_norm + 1e-6)); never clip array by array.")


def check_clip_grad_value(fn, grads, clip_value, label):
    got, inputs = call_on_grads("clip_grad_value", fn, grads, clip_value, label)
    params = as_parameters(grads)
    torch.nn.utils.clip_grad_value_(params, clip_value)
    expect_array_list("clip_grad_value", got, [p.grad.numpy() for p in params], inputs,
                      "every entry to [-clip_value, clip_value]: entries above clip_value "
                      "become clip_value, entries below -clip_value become -clip_value, the "
                      "others stay as they are (np.clip).")


STALE = 0.5    # the .grad every parameter holds before train_step is called


def training_case(cell, seed):
    """A small float64 model whose gradients are left over from an earlier step, and a batch."""
    torch.manual_seed(seed)
    model = models.SequenceModel(3, 6, 2, cell=cell).double()
    generator = torch.Generator().manual_seed(seed)
    inputs = 2 * torch.randn(7, 4, 3, generator=generator, dtype=torch.float64)
    targets = torch.randn(4, 2, generator=generator, dtype=torch.float64)
    for p in model.parameters():
        p.grad = torch.full_like(p, STALE)
    return model, inputs, targets


def reference_step(model, inputs, targets, lr, max_norm):
    """The oracle's step on a copy: (loss, norm before clipping, grads after, params after)."""
    model = copy.deepcopy(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(model(inputs)[0], targets)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(),
                                          float("inf") if max_norm is None else max_norm)
    grads = [p.grad.detach().clone() for p in model.parameters()]
    optimizer.step()
    return (float(loss.detach()), float(norm), grads,
            [p.detach().clone() for p in model.parameters()])


def _same(tensors, others):
    return all(torch.allclose(a, b, rtol=1e-9, atol=1e-12) for a, b in zip(tensors, others))


def check_train_step(fn, cell, max_norm, lr, seed, label):
    model, inputs, targets = training_case(cell, seed)
    before = [p.detach().clone() for p in model.parameters()]
    loss, norm, grads, params = reference_step(model, inputs, targets, lr, max_norm)
    raw = reference_step(model, inputs, targets, lr, None)[2]        # the unclipped gradients
    inputs_text = (f"{label}: a {cell} SequenceModel (float64) whose .grad holds {STALE} "
                   f"everywhere, SGD(lr={lr}), MSELoss, max_norm={max_norm!r}")
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    args = (model, inputs, targets, torch.nn.MSELoss(), optimizer)
    got, _ = checks.call("train_step", fn, *args, inputs=inputs_text,
                         **({} if max_norm is None else {"max_norm": max_norm}))
    checks.expect("train_step", isinstance(got, tuple | list) and len(got) == 2,
                  "should return a pair (loss, norm).", inputs=inputs_text,
                  returned=checks.preview(got), expected="(float, float)",
                  hint="return float(loss), float(norm_before_clipping).")
    got_loss = checks.as_number("train_step", "loss", got[0], inputs=inputs_text,
                                hint="return floats, not tensors: float(loss) or loss.item().")
    got_norm = checks.as_number("train_step", "norm", got[1], inputs=inputs_text,
                                hint="return floats, not tensors (clip_grad_norm_ returns a "
                                     "tensor: float(...) it).")
    checks.expect_close("train_step", "loss", np.float64(got_loss), loss, inputs=inputs_text,
                        rtol=1e-9, hint="the loss of this batch, computed BEFORE the update "
                                        "(loss_fn(model(inputs)[0], targets)).")
    checks.expect_close("train_step", "norm", np.float64(got_norm), norm, inputs=inputs_text,
                        rtol=1e-9, hint="the global gradient norm BEFORE clipping (what "
                                        "clip_grad_norm_ returns), also when max_norm is None; "
                                        "measured after zero_grad and backward.")
    after = [torch.zeros_like(p) if p.grad is None else p.grad.detach() for p in
             model.parameters()]
    if not _same(after, grads):
        if _same(after, [g + STALE for g in raw]) or _same(after, [g + STALE for g in grads]):
            hint = ("the gradients left over from before the call were added to: call "
                    "optimizer.zero_grad() BEFORE loss.backward().")
        elif max_norm is not None and _same(after, raw):
            hint = "the gradients were not clipped: clip after backward when max_norm is set."
        else:
            hint = ("after the step, .grad should hold this batch's gradients clipped by their "
                    "GLOBAL norm (one clip_grad_norm_ call over all parameters), not zeroed.")
        checks.fail("train_step", "the gradients after the step are wrong.", inputs=inputs_text,
                    returned=f"grad of the first parameter, first entries: "
                             f"{checks.preview(after[0].numpy())}",
                    expected=f"{checks.preview(grads[0].numpy())}", hint=hint)
    now = [p.detach() for p in model.parameters()]
    if not _same(now, params):
        if _same(now, before):
            hint = "the parameters did not change: call optimizer.step() after clipping."
        elif _same(now, [b - lr * g for b, g in zip(before, raw)]):
            hint = ("the update used the UNCLIPPED gradients: clip after backward and BEFORE "
                    "optimizer.step().")
        else:
            hint = ("one SGD step with the clipped gradients: zero_grad, forward, backward, "
                    "clip, step, in that order, once.")
        checks.fail("train_step", "the parameters after the step are wrong.",
                    inputs=inputs_text,
                    returned=f"first parameter, first entries: {checks.preview(now[0].numpy())}",
                    expected=f"{checks.preview(params[0].numpy())}", hint=hint)


# %% nbgrader={"grade": true, "grade_id": "test_clip_grad_norm", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check: norm 13 clipped to 5, then a gradient already short enough.
check_clip_grad_norm(clip_grad_norm, [np.array([[3.0, 0.0], [0.0, 4.0]]), np.array([12.0])],
                     5.0, "norm 13")
check_clip_grad_norm(clip_grad_norm, [np.array([0.3, -0.4])], 1.0, "norm 0.5")
checks.passed("clip_grad_norm")

# %% nbgrader={"grade": true, "grade_id": "hidden_clip_grad_norm", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for clip_grad_norm run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("clip_grad_norm", clip_grad_norm)
_rng = np.random.default_rng(501)
check_clip_grad_norm(clip_grad_norm, [_rng.normal(size=s) for s in ((4, 3), (3,), (2, 2, 2))],
                     0.7, "random")
check_clip_grad_norm(clip_grad_norm, [np.array([3.0, 4.0])], 5.0, "norm exactly max_norm")
check_clip_grad_norm(clip_grad_norm, [np.zeros((2, 3)), np.zeros(4)], 1.0, "all zeros")
check_clip_grad_norm(clip_grad_norm, [_rng.normal(size=(5, 5)) * 100], 2.5, "a single array")
check_clip_grad_norm(clip_grad_norm, [_rng.normal(size=(3, 2)), np.array([50.0])], 1e-3,
                     "one huge entry, tiny threshold")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_clip_grad_value", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check.
check_clip_grad_value(clip_grad_value, [np.array([[3.0, -0.5], [-4.0, 0.2]]), np.array([12.0])],
                      1.0, "small example")
checks.passed("clip_grad_value")

# %% nbgrader={"grade": true, "grade_id": "hidden_clip_grad_value", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for clip_grad_value run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("clip_grad_value", clip_grad_value)
_rng = np.random.default_rng(502)
check_clip_grad_value(clip_grad_value, [_rng.normal(size=s) * 3 for s in ((4, 3), (5,))], 0.8,
                      "random")
check_clip_grad_value(clip_grad_value, [np.array([-2.0, -1.0, 0.0, 1.0, 2.0])], 1.0,
                      "entries exactly at +-clip_value")
check_clip_grad_value(clip_grad_value, [np.zeros((2, 2))], 0.5, "all zeros")
### END HIDDEN TESTS

# %% [markdown]
# ### Which way keeps the direction?
#
# We take the gradient of a ReLU RNN in the exploding regime (notebook 03: $W_{hh} = sQ$,
# $s = 1.3$) and clip it both ways with thresholds that are a fraction $f$ of its scale: by norm
# with $c = f\,\|g\|$, by value with $c = f \max_i |g_i|$. The **cosine similarity**
# $\cos(g, \tilde g) = g\cdot\tilde g / (\|g\|\,\|\tilde g\|)$ is 1 when the clipped gradient
# $\tilde g$ points the same way.

# %%
def cosine(a, b):
    """Cosine similarity of two lists of arrays, read as two long vectors."""
    a, b = np.concatenate([x.ravel() for x in a]), np.concatenate([x.ravel() for x in b])
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


net = models.orthogonal_rnn(1.3)
inputs, targets = tasks.adding_problem(64, 30, seed=1)
torch.nn.functional.mse_loss(net(inputs)[0], targets).backward()
grads = [p.grad.double().numpy() for p in net.parameters()]
norm = clip_grad_norm(grads, np.inf)[1]
largest = max(np.abs(g).max() for g in grads)
fractions = np.logspace(-3, 0, 25)
by_norm = [cosine(grads, clip_grad_norm(grads, f * norm)[0]) for f in fractions]
by_value = [cosine(grads, clip_grad_value(grads, f * largest)) for f in fractions]
ax = plots.line_plot(fractions, {"clip by norm, c = f·‖g‖": by_norm,
                                 "clip by value, c = f·max|g_i|": by_value},
                     title="Does the clipped gradient point the same way?",
                     xlabel="threshold as a fraction f of the gradient's scale",
                     ylabel="cosine similarity to the unclipped gradient")
ax.set_xscale("log")
plt.show()
i = int(np.argmin(np.abs(fractions - 0.01)))
share = np.mean(np.concatenate([np.abs(g).ravel() for g in grads]) > fractions[i] * largest)
print(f"global norm {norm:.3g}; at f = {fractions[i]:.3f}: cosine {by_norm[i]:.6f} by norm, "
      f"{by_value[i]:.3f} by value ({share:.0%} of the entries are cut)")
print("largest |entry| of each parameter's gradient: " + ", ".join(
    f"{name} {np.abs(g).max():.2g}" for (name, _), g in zip(net.named_parameters(), grads)))
from helpers import claims  # noqa: E402  (checks the prose's claims right after each experiment)

claims.claim("clipping by norm keeps the direction (cosine 1 up to rounding) at every threshold; "
             "clipping by value bends it more and more as the threshold drops",
             min(by_norm) > 1 - 1e-12 and bool(np.all(np.diff(by_value) >= -1e-12))
             and by_value[0] < 0.9,
             evidence=f"by value: cosine {by_value[0]:.3f} at f = {fractions[0]:.3g}");

# %% [markdown]
# Clipping by norm gives cosine 1 at every threshold (up to rounding): the direction is kept.
# Clipping by value bends the gradient more and more as the threshold drops, because it cuts
# the large entries down to $\pm c$ and keeps the small ones, so the small ones weigh more in
# the clipped vector than they did in the gradient. Here the large entries sit in the biases
# and the readout (the last line printed); most of $W_{hh}$'s are small. That is why clipping
# by the global norm is the default.
#
# ## 2. Where clipping goes in a training step (≈ 10 min)
#
# *When in a step do we clip?* A PyTorch step is: `optimizer.zero_grad()` (forget the last
# step's gradients: `backward` **adds** into `.grad`), forward pass and loss, `loss.backward()`
# (fills `.grad`), then `optimizer.step()` (reads `.grad`). Clipping rewrites `.grad`, so it must
# come after `backward` has filled it and before `step` reads it. Clipping earlier changes
# nothing the step uses; clipping later is too late.
#
# ### Exercise 3: `train_step` (≈ 10 min)
# Use `torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)` (it clips in place and
# returns the norm before clipping; with `max_norm=None` measure the norm without clipping,
# e.g. with `torch.nn.utils.get_total_norm`). Every model in `helpers.models` returns
# `(output, hidden_states)`.

# %% nbgrader={"grade": false, "grade_id": "train_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_step(model, inputs, targets, loss_fn, optimizer, max_norm=None):
    """One training step: zero grads, forward, backward, clip (when max_norm is set), step.

    model(inputs) returns (output, hidden_states); loss_fn(output, targets) is a scalar tensor.
    Returns (loss, norm) as floats: the loss before the update and the global gradient norm
    before clipping.
    """
    ### BEGIN SOLUTION
    optimizer.zero_grad()
    output, _ = model(inputs)
    loss = loss_fn(output, targets)
    loss.backward()
    params = [p for p in model.parameters() if p.grad is not None]
    limit = float("inf") if max_norm is None else max_norm
    norm = torch.nn.utils.clip_grad_norm_(params, limit)
    optimizer.step()
    return float(loss.detach()), float(norm)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_train_step", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Visible check: a tanh RNN whose gradient norm is far above max_norm = 0.05.
check_train_step(train_step, "tanh", 0.05, 0.1, 0, "clipping active")
checks.passed("train_step")

# %% nbgrader={"grade": true, "grade_id": "hidden_train_step", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for train_step run when your notebook is graded.
### BEGIN HIDDEN TESTS
check_train_step(train_step, "tanh", None, 0.1, 1, "max_norm left out")
check_train_step(train_step, "relu", 1e6, 0.05, 2, "max_norm far above the norm")
check_train_step(train_step, "lstm", 0.01, 0.3, 3, "an LSTM, clipping active")
check_train_step(train_step, "gru", 0.2, 1.0, 4, "a GRU, clipping active")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Training in the exploding regime, with and without clipping (≈ 10 min)
#
# *Does clipping rescue training?* Five ReLU RNNs ($s = 1.3$, different seeds) learn the
# adding problem ($T = 30$) with plain SGD, learning rate 0.05: once with your `train_step`
# alone, once with `max_norm = 1`. A run **hits NaN** when its loss becomes inf or NaN
# (`training.train` stops it there); it **diverges** when its final loss is above 1 (six times
# the MSE of always answering 1).

# %%
T, steps, seeds = 30, course.pick(full=150, smoke=30), range(course.pick(full=5, smoke=3))
runs = {None: [], 1.0: []}
for max_norm in runs:
    for seed in tqdm(seeds, desc=f"max_norm = {max_norm}"):
        runs[max_norm].append(training.train(
            models.orthogonal_rnn(1.3, seed=seed),
            lambda i, seed=seed: tasks.adding_problem(64, T, seed=1000 * seed + i),
            torch.nn.functional.mse_loss, steps=steps, lr=0.05, optimizer="sgd",
            step=functools.partial(train_step, max_norm=max_norm), progress=False))
fig, ax = plt.subplots()
for max_norm, color in ((None, "tab:red"), (1.0, "tab:blue")):
    for k, history in enumerate(runs[max_norm]):
        ax.plot(history.losses, color=color, alpha=0.7,
                label=("no clipping" if max_norm is None else f"clipped, max_norm = {max_norm}")
                if k == 0 else None)
        if history.first_nonfinite_step is not None:
            ax.plot(history.first_nonfinite_step - 1, history.losses[-2] if len(history.losses) > 1
                    else 1.0, "x", color=color, markersize=10)
ax.axhline(1 / 6, color="gray", linestyle="--", linewidth=1.2, label="always answer 1 (MSE 1/6)")
plots.labelled(ax, f"Adding problem, ReLU RNN (s = 1.3), {len(seeds)} seeds", "training step",
               "MSE loss (x: last finite loss before inf/NaN)", logy=True)
ax.legend()
plt.show()
for max_norm, histories in runs.items():
    nan = [h.first_nonfinite_step for h in histories if h.first_nonfinite_step is not None]
    finals = [h.losses[-1] for h in histories if h.first_nonfinite_step is None]
    diverged = sum(loss > 1 for loss in finals)
    print(f"max_norm = {max_norm}: {len(nan)} of {len(histories)} runs hit inf/NaN"
          + (f" (at steps {sorted(nan)})" if nan else "")
          + f", {diverged} diverged; final losses of the others: "
          + ", ".join(f"{loss:.3f}" for loss in finals))
unclipped_nan = [h.first_nonfinite_step for h in runs[None]]
settled = [np.mean(h.losses[-10:]) for h in runs[1.0]]
# rules out: the exploding regime being harmless without clipping (no run overflowing)
claims.claim("without clipping some runs hit inf/NaN, within 10 steps",
             any(b is not None and b <= 10 for b in unclipped_nan),
             evidence=f"first non-finite steps {unclipped_nan}")
claims.claim_seeds("with clipping every run stays finite and comes down from its first loss "
                   "to within a factor 2 of the baseline 1/6 (mean of its last 10 losses), "
                   "but not more than a fifth below it",
                   [h.first_nonfinite_step is None and 0.8 / 6 < m < 1 / 3 and h.losses[0] > 2 * m
                    for h, m in zip(runs[1.0], settled)],
                   spread=claims.spread([h.losses[0] for h in runs[1.0]], ".2f", "first MSE")
                   + "; " + claims.spread(settled, ".3f", "final MSE"));

# %% [markdown]
# Without clipping, runs overflow within a few steps in some seeds (the printout gives the
# steps; how many of the five varies with the seeds and the machine), as in notebook 03; with
# clipping every run stays finite, sheds its large first loss and settles
# near the baseline, none of them clearly below it in 150 steps. Clipping does not make the
# problem easy, and it does not make these runs learn the task: it makes training survive the
# steps where the gradient explodes, which is all it promises. (Learning the adding problem
# takes more: notebooks 06 to 08.)
#
# ## 4. Choosing the threshold, and the learning rate (≈ 10 min)
#
# *How large should `max_norm` be?* Pascanu et al. (2013, Section 3.2): "One good heuristic for
# setting this threshold is to look at statistics on the average norm over a sufficiently large
# number of updates", adding that training "is not very sensitive to this hyperparameter and
# the algorithm behaves well even for rather small thresholds". Your `train_step` returns the norm before clipping, so the clipped runs above
# already logged it.

# %%
observed = np.concatenate([h.grad_norms for h in runs[1.0]])
average = float(np.mean(observed))
fig, ax = plt.subplots()
ax.hist(observed, bins=np.logspace(np.log10(observed.min()), np.log10(observed.max()), 40),
        label="norms before clipping (clipped runs)")
ax.axvline(average, color="black", linestyle="--", label=f"average, {average:.3g}")
ax.set_xscale("log")
plots.labelled(ax, "Gradient norms observed during training", "global gradient norm",
               "number of steps")
ax.legend()
plt.show()
print(f"average observed gradient norm: {average:.3g} (median {np.median(observed):.3g}, "
      f"largest {observed.max():.3g})")

# rules out: norms of one size (a narrow spread) and a symmetric spread (average = median)
claims.claim("the norms spread over orders of magnitude, with a tail that pulls the average "
             "above the median (by more than half)",
             observed.max() > 100 * observed.min() and average > 1.5 * np.median(observed),
             evidence=f"average {average:.3g}, median {np.median(observed):.3g}");

# %% [markdown]
# The norms spread over orders of magnitude, with a long tail of explosive steps: the average
# is pulled up by that tail, the median is not. Now the interplay with the learning rate: for
# each learning rate and threshold (multiples of the average), runs from five starts
# ($T = 30$, seeds 0 to 4, at most 60 steps). Each cell counts the steps until the loss first
# drops to 0.25, one number per seed, or says that a run hit inf/NaN. That level is one and a
# half times the baseline: as Section 3 showed, these runs do not get clearly below it this
# early, so the table measures how fast a run *recovers* from its large start (the printout
# gives the first losses), and whether it survives, not how fast it learns the task.

# %%
steps_grid, good_enough = course.pick(full=60, smoke=15), 0.25
learning_rates = (0.01, 0.05, 0.2)
multiples = (0.1, 0.5, 1.0, 10.0, None)              # None: no clipping
grid_seeds = course.pick(full=(0, 1, 2, 3, 4), smoke=(0,))
reached = np.full((len(grid_seeds), len(learning_rates), len(multiples)), np.inf)  # inf: never
overflowed = np.zeros(reached.shape, dtype=bool)
starts = []
for r, lr in enumerate(tqdm(learning_rates, desc="learning rates")):
    for c, multiple in enumerate(multiples):
        for k, seed in enumerate(grid_seeds):
            history = training.train(
                models.orthogonal_rnn(1.3, seed=seed),
                lambda i, seed=seed: tasks.adding_problem(64, T, seed=7000 + 1000 * seed + i),
                torch.nn.functional.mse_loss, steps=steps_grid, lr=lr, optimizer="sgd",
                step=functools.partial(train_step, max_norm=None if multiple is None
                                       else multiple * average),
                stop_below=good_enough, window=1, progress=False)
            starts.append(history.losses[0])
            overflowed[k, r, c] = history.first_nonfinite_step is not None
            if history.stopped_early:
                reached[k, r, c] = len(history.losses) - 1
labels = np.array([[" ".join("NaN" if overflowed[k, r, c] else
                             f">{steps_grid}" if np.isinf(reached[k, r, c]) else
                             f"{reached[k, r, c]:.0f}" for k in range(len(grid_seeds)))
                    for c in range(len(multiples))] for r in range(len(learning_rates))])
fig, ax = plt.subplots(figsize=(9, 3.4))
shown = np.where(overflowed | np.isinf(reached), np.nan, reached)
finite = ~np.isnan(shown)                                   # runs that reached the loss
median = np.full(shown.shape[1:], np.nan)                   # blank where no run did
median[finite.any(axis=0)] = np.nanmedian(shown[:, finite.any(axis=0)], axis=0)
image = ax.imshow(median, cmap="viridis", aspect="auto", vmin=0)
for (r, c), text in np.ndenumerate(labels):
    ax.text(c, r, text, ha="center", va="center", fontsize=8,
            color="red" if "NaN" in text else "black",
            bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none"})
ax.set_xticks(range(len(multiples)), [("none" if m is None else f"{m:g}×") for m in multiples])
ax.set_yticks(range(len(learning_rates)), [str(lr) for lr in learning_rates])
ax.grid(False)
fig.colorbar(image, ax=ax, label=f"median steps until loss ≤ {good_enough}")
plots.labelled(ax, f"Steps to a loss of {good_enough}, by learning rate and threshold "
               f"(seeds {', '.join(map(str, grid_seeds))})",
               "max_norm, as a multiple of the average observed norm", "learning rate")
plt.show()
print(f"starting losses: {claims.spread(starts, '.2f')}")
print("\n".join(f"lr = {lr}: " + ", ".join(f"{('none' if m is None else f'{m:g}x')} -> {text}"
                                            for m, text in zip(multiples, labels[r]))
                for r, lr in enumerate(learning_rates)))
none, slow, one = multiples.index(None), multiples.index(0.1), multiples.index(1.0)
safe = [multiples.index(0.5), one]
# rules out: large steps being safe without clipping (no overflow at either larger rate)
claims.claim("without clipping both larger learning rates hit NaN in some seeds",
             bool(overflowed[:, 1, none].any() and overflowed[:, 2, none].any()),
             evidence=f"lr = {learning_rates[1]}: {overflowed[:, 1, none].sum()} of "
                      f"{len(grid_seeds)}, lr = {learning_rates[2]}: "
                      f"{overflowed[:, 2, none].sum()} of {len(grid_seeds)}")
# rules out: a tiny threshold costing nothing when steps are small (0.1x as fast as 1x)
claims.claim("at the smallest learning rate a threshold of 0.1x the average is slower than 1x "
             "in the median over the seeds",
             bool(np.median(reached[:, 0, slow]) > np.median(reached[:, 0, one])),
             f"median steps {np.median(reached[:, 0, slow]):g} at 0.1x, "
             f"{np.median(reached[:, 0, one]):g} at 1x")
claims.claim_seeds("thresholds of 0.5x and 1x never overflow, and reach the loss at every "
                   "learning rate", [not overflowed[k][:, safe].any()
                                     and bool(np.all(np.isfinite(reached[k][:, safe])))
                                     for k in range(len(grid_seeds))], spread="the table above")
print(f"runs that overflowed at the largest learning rate: 10x the average "
      f"{overflowed[:, -1, multiples.index(10.0)].sum()} of {len(grid_seeds)}, no clipping "
      f"{overflowed[:, -1, none].sum()} of {len(grid_seeds)}")

# %% [markdown]
# Read the table by rows, one number per seed in each cell. The length of an update is at most
# learning rate × `max_norm`, so the two act together. A threshold far below the average
# (0.1×) makes every step short: at the smallest learning rate it is slower than a threshold
# at the average (1×) in the median over the seeds. Not in every seed: the average is pulled
# up by the tail, so 1× lets through steps long enough to throw the loss up again, where 0.1×
# descends smoothly. Without
# clipping both larger learning rates overflow in some seeds (the printed counts).
# Thresholds of half to once the average never overflow and recover at every learning rate.
# Ten times the average is the upper end of the range Pascanu et al. found safe: a threshold
# far above the typical norm clips only the most extreme steps, so it protects less the larger
# the learning rate. Count the overflows at the largest rate in the printout, and compare them
# with no clipping. (The colour is the median over the seeds; cells whose runs hit NaN or never
# reached the loss count only their other seeds, and a cell with none left is blank.)
#
# ## 5. Clipped steps on the cliff (≈ 5 min)
#
# *What does clipping do on notebook 03's cliff?* The one-unit network
# $x_t = w\,\sigma(x_{t-1}) + b$, $L = (x_{20} - 0.7)^2$, trained by gradient descent from the
# same start, without clipping and clipped by norm (your `clip_grad_norm` on the gradient
# $(\partial L/\partial w, \partial L/\partial b)$). The loss and its gradient come from
# autograd through the same recurrence (for the surface, on a whole grid at once).

# %%
def one_unit_loss(w, b, T=20, x0=0.5, target=0.7):
    """L(w, b) and its gradient (dL/dw, dL/db) by autograd, for arrays w, b of one shape."""
    w = torch.tensor(np.asarray(w, dtype=np.float64), requires_grad=True)
    b = torch.tensor(np.asarray(b, dtype=np.float64), requires_grad=True)
    x = torch.full_like(w, x0)
    for _ in range(T):
        x = w * torch.sigmoid(x) + b
    loss = (x - target) ** 2
    loss.sum().backward()                      # each grid point's gradient, in one pass
    return loss.detach().numpy(), w.grad.numpy(), b.grad.numpy()


def descend(start, lr, max_norm, steps=60):
    """Gradient descent on L(w, b); returns the path, shape (steps + 1, 2)."""
    path = [np.array(start, dtype=np.float64)]
    for _ in range(steps):
        _, dw, db = one_unit_loss(*path[-1])
        grad = [np.array([float(dw), float(db)])]
        if max_norm is not None:
            grad = clip_grad_norm(grad, max_norm)[0]
        path.append(path[-1] - lr * grad[0])
    return np.array(path)


ws, bs = np.linspace(-2, 12, course.pick(full=281, smoke=71)), np.linspace(-8, 3, course.pick(full=221, smoke=56))
W, B = np.meshgrid(ws, bs)
surface = one_unit_loss(W, B)[0]
start, lr = (7.0, -4.0), 0.1
paths = {"no clipping": descend(start, lr, None), "clipped, max_norm = 1": descend(start, lr, 1.0),
         "clipped, max_norm = 10": descend(start, lr, 10.0)}
fig, ax = plt.subplots(figsize=(7.5, 5))
image = ax.pcolormesh(W, B, np.log10(surface + 1e-12), shading="auto", cmap="magma")
fig.colorbar(image, ax=ax, label="$\\log_{10} L(w, b)$")
for (label, path), color in zip(paths.items(), ("cyan", "white", "lime")):
    ax.plot(path[:, 0], path[:, 1], "-o", markersize=2.5, color=color, label=label)
ax.plot(*start, "s", color="yellow", markersize=8, label="start")
ax.set_xlim(ws[0], ws[-1])
ax.set_ylim(bs[0], bs[-1])
ax.grid(False)
plots.labelled(ax, "Gradient descent on the one-unit network's loss (T = 20)",
               "recurrent weight w", "bias b")
ax.legend(loc="lower left", fontsize=8)
plt.show()
longest, final, turn = {}, {}, {}
for label, path in paths.items():
    steps = np.diff(path, axis=0)
    jumps = np.linalg.norm(steps, axis=1)
    # the median of the last 10 losses: a path that zigzags is not judged by one snapshot
    longest[label] = jumps.max()
    final[label] = float(np.median(one_unit_loss(path[-10:, 0], path[-10:, 1])[0]))
    last = steps[-10:] / np.maximum(jumps[-10:, None], 1e-300)
    turn[label] = float(np.median(np.sum(last[1:] * last[:-1], axis=1)))  # cosine of turns
    print(f"{label}: longest step {jumps.max():.3g} (step {int(np.argmax(jumps))}), median L "
          f"of the last 10 steps {final[label]:.3g}, median cosine between its last steps "
          f"{turn[label]:+.2f}")
claims.claim("the unclipped path takes one step longer than any clipped step can be (more than "
             "lr x 10); clipped steps never exceed lr x max_norm; the smaller threshold ends "
             "higher on the loss after the same number of steps (median of the last 10), its "
             "last steps reversing direction (a zigzag)",
             longest["no clipping"] > lr * 10
             and longest["clipped, max_norm = 1"] <= lr * 1 * (1 + 1e-9)
             and longest["clipped, max_norm = 10"] <= lr * 10 * (1 + 1e-9)
             and final["clipped, max_norm = 1"] > final["clipped, max_norm = 10"]
             and turn["clipped, max_norm = 1"] < 0,
             evidence=", ".join(f"{k}: {v:.3g}" for k, v in longest.items()));

# %% [markdown]
# Without clipping the path takes one enormous step where it meets the cliff (the printed
# longest step), landing wherever the cliff's gradient happens to send it. From this start it
# happens to land well (the printed final loss); nothing in a gradient of that size says it
# will, and notebook 03 showed a step from beside a cliff that multiplied the loss instead.
# Clipped, no step is longer than learning rate × `max_norm`, so the path walks over the cliff
# edge. With the small threshold every step has the same length, learning rate × `max_norm`,
# however narrow the valley it crosses: the path reaches the valley and then zigzags across it
# (its consecutive steps point in nearly opposite directions, the printed cosine), its loss
# jumping up and down instead of settling (the printed median of the last 10 losses). A
# threshold that clips every step turns gradient descent into steps of fixed length, which
# cannot shrink as the minimum comes near.
#
# ## What to remember
# - Clip by the **global norm**: one factor for all gradients, $\min(1, c/(\|g\| + 10^{-6}))$,
#   keeps the direction; clipping by value changes it.
# - In a training step clipping goes after `backward` and before `step`; `clip_grad_norm_`
#   returns the norm before clipping: log it.
# - Clipping lets runs in the exploding regime survive; it does not fix vanishing gradients.
# - Choose the threshold from observed norms (around their average); the step length is at most
#   learning rate × threshold, so tune them together.
#
# ## References
# - R. Pascanu, T. Mikolov and Y. Bengio, "On the difficulty of training recurrent neural networks", *ICML* 2013 (clipping by norm, Algorithm 1; the threshold from the average norm, Section 3.2).
# - T. Mikolov, *Statistical Language Models Based on Neural Networks*, PhD thesis, Brno University of Technology, 2012 (clipping gradients by value).
# - PyTorch documentation: `torch.nn.utils.clip_grad_norm_`, `torch.nn.utils.clip_grad_value_`, `torch.nn.utils.get_total_norm`.
# - I. Goodfellow, Y. Bengio and A. Courville, *Deep Learning*, MIT Press, 2016, Section 10.11.1 (clipping gradients).
