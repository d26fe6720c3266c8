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
# **Time:** about 60 minutes (each section states its own estimate).
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

import matplotlib.patheffects as patheffects
import matplotlib.pyplot as plt
import matplotlib.transforms as transforms
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
# Pascanu et al.'s own rule (Section 3.2, Algorithm 1) rescales by $c/\|g\|$ when
# $\|g\| \ge c$, without $\varepsilon$; the exercises follow PyTorch. Both return new arrays
# here (PyTorch's versions work in place on `.grad`).
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
# The read-only cell below (collapsed in your copy: click it to expand) holds the oracle
# (`torch.nn.utils.clip_grad_norm_` and
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
    inputs = f"{describe_grads(grads, label)}; threshold {threshold!r}"
    got, caught = checks.call(name, fn, grads, threshold, inputs=inputs)   # fails on in-place
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
        dtype = getattr(g, "dtype", None)
        narrow = isinstance(dtype, np.dtype) and dtype.kind == "f" and dtype.itemsize < 8
        checks.expect(name, not narrow,
                      f"clipped[{i}] is {dtype}, not float64.", inputs=inputs,
                      returned=f"dtype {dtype}", expected="dtype float64",
                      hint="the arrays come in as float64 and must go out as float64: a float32 "
                           "result keeps only about 7 digits (no astype(np.float32), no "
                           "np.float32 factor).")
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
    expected = [p.grad.numpy() for p in params]
    # max_norm / total without the epsilon; at total = max_norm that is no clipping at all, which
    # the threshold's own hint below covers
    no_epsilon = ([np.asarray(g) * (max_norm / norm) for g in grads] if norm > max_norm
                  else None)
    if (no_epsilon is not None and isinstance(clipped, list | tuple) and len(clipped) == len(grads)
            and not all(checks.close(c, e, rtol=1e-12, atol=1e-300)
                        for c, e in zip(clipped, expected))
            and all(checks.close(c, e, rtol=1e-12, atol=1e-300)
                    for c, e in zip(clipped, no_epsilon))):
        checks.fail("clip_grad_norm",
                    "the factor is max_norm / total, without PyTorch's epsilon.", inputs=inputs,
                    returned=f"factor {max_norm / norm!r} (max_norm / total)",
                    expected=f"factor {max_norm / (norm + 1e-6)!r} (max_norm / (total + 1e-6))",
                    hint="Pascanu et al.'s Algorithm 1 divides by the norm alone; PyTorch, the "
                         "reference here, divides by total + 1e-6. The two differ by a relative "
                         f"1e-6 / total (here {1e-6 / norm:.1e}), too little to see in the first "
                         "digits but more than this check's tolerance (1e-12): add the 1e-6.")
    on_factor = ([np.asarray(g) * (max_norm / norm + 1e-6) for g in grads] if norm > max_norm
                 else None)
    if (on_factor is not None and isinstance(clipped, list | tuple) and len(clipped) == len(grads)
            and all(checks.close(c, e, rtol=1e-12, atol=1e-300)
                    for c, e in zip(clipped, on_factor))):
        checks.fail("clip_grad_norm",
                    "the 1e-6 is added to the factor, not to the norm.", inputs=inputs,
                    returned=f"factor {max_norm / norm + 1e-6!r} (max_norm / total + 1e-6)",
                    expected=f"factor {max_norm / (norm + 1e-6)!r} (max_norm / (total + 1e-6))",
                    hint="PyTorch adds the epsilon to the norm in the denominator, "
                         "max_norm / (total + 1e-6), so that an all-zero gradient does not "
                         "divide by zero; mind the brackets.")
    at_max_norm = ("the global norm is exactly max_norm here, and PyTorch still scales, by "
                   "max_norm / (total + 1e-6) < 1: compare that factor with 1, not total with "
                   "max_norm. In general: " if total == max_norm else "")
    expect_array_list("clip_grad_norm", clipped, expected, inputs,
                      at_max_norm +
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


class RaisedOnNone:
    """What check_train_step sees when train_step raised a TypeError about None with
    max_norm=None (None handed on to clip_grad_norm_, which wants a number)."""

    def __init__(self, error):
        self.text = f"{type(error).__name__}: {error}"


def refusing_none(fn):
    """fn, with a TypeError about None returned as RaisedOnNone (so the check can name it)."""
    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except TypeError as error:
            if "NoneType" not in str(error):
                raise
            return RaisedOnNone(error)
    return wrapped


def check_train_step(fn, cell, max_norm, lr, seed, label):
    model, inputs, targets = training_case(cell, seed)
    before = [p.detach().clone() for p in model.parameters()]
    loss, norm, grads, params = reference_step(model, inputs, targets, lr, max_norm)
    raw = reference_step(model, inputs, targets, lr, None)[2]        # the unclipped gradients
    inputs_text = (f"{label}: a {cell} SequenceModel (float64) whose .grad holds {STALE} "
                   f"everywhere, SGD(lr={lr}), MSELoss, max_norm={max_norm!r}")
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    args = (model, inputs, targets, torch.nn.MSELoss(), optimizer)
    if max_norm is None:
        got, _ = checks.call("train_step", refusing_none(fn), *args, inputs=inputs_text)
        if isinstance(got, RaisedOnNone):
            checks.fail("train_step", "raised TypeError with max_norm=None.", inputs=inputs_text,
                        returned=got.text, expected=f"(loss, norm) = ({loss!r}, {norm!r})",
                        hint="max_norm=None means no clipping, not clip_grad_norm_(params, "
                             "None) (it needs a number): measure the norm with an infinite "
                             "limit, clip_grad_norm_(params, float('inf')), or "
                             "torch.nn.utils.get_total_norm.")
    else:
        got, _ = checks.call("train_step", fn, *args, inputs=inputs_text, max_norm=max_norm)
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
    after = [torch.zeros_like(p) if p.grad is None else p.grad.detach() for p in
             model.parameters()]
    if got_norm == 0 and norm > 0:     # a norm measured on no gradients: when, .grad tells
        erased = all(not torch.any(a) for a in after)
        if erased:
            problem = "returned norm 0, and .grad is empty after the step."
            hint = ("optimizer.zero_grad() ran after loss.backward() and erased what it "
                    "computed (the norm measured nothing, the step had nothing to apply): "
                    "call zero_grad() BEFORE backward.")
        elif max_norm is None:      # nothing to clip: the norm was not measured, or too early
            problem = ("returned norm 0 with max_norm=None, and .grad holds this batch's "
                       "gradients.")
            hint = ("with max_norm=None nothing is clipped, but the norm must still be measured, "
                    "after loss.backward() has filled .grad: clip with an infinite limit, "
                    "clip_grad_norm_(params, float('inf')), or use "
                    "torch.nn.utils.get_total_norm, and return that norm, not 0.")
        else:
            problem = "returned norm 0, and .grad holds this batch's unclipped gradients."
            hint = ("the norm was measured, and the clipping done, before loss.backward() "
                    "filled .grad (so the step used unclipped gradients): clip after "
                    "backward and before optimizer.step().")
        if erased or _same(after, raw):
            checks.fail("train_step", problem, inputs=inputs_text,
                        returned=f"norm 0.0; grad of the first parameter, first entries: "
                                 f"{checks.preview(after[0].numpy())}",
                        expected=f"norm {norm!r}; {checks.preview(grads[0].numpy())}",
                        hint=hint)
    stale_norm = float(torch.sqrt(sum(torch.sum((g + STALE) ** 2) for g in raw)))
    checks.expect_close("train_step", "norm", np.float64(got_norm), norm, inputs=inputs_text,
                        rtol=1e-9, hint=(
                            "this is the norm of this batch's gradients PLUS those left over "
                            "from before the call (backward adds into .grad): call "
                            "optimizer.zero_grad() BEFORE loss.backward()."
                            if checks.close(got_norm, stale_norm, rtol=1e-9, atol=0) else
                            "the global gradient norm BEFORE clipping (what clip_grad_norm_ "
                            "returns), also when max_norm is None; measured after zero_grad "
                            "and backward."))
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
# Visible check: norm 13 clipped to 5, a gradient already short enough, and one whose norm is
# exactly max_norm (still scaled, by 10 / (10 + 1e-6)).
check_clip_grad_norm(clip_grad_norm, [np.array([[3.0, 0.0], [0.0, 4.0]]), np.array([12.0])],
                     5.0, "norm 13")
check_clip_grad_norm(clip_grad_norm, [np.array([0.3, -0.4])], 1.0, "norm 0.5")
check_clip_grad_norm(clip_grad_norm, [np.array([6.0, 0.0]), np.array([[8.0]])], 10.0,
                     "norm exactly max_norm")
checks.expect_from_scratch("clip_grad_norm", clip_grad_norm)
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
checks.expect_from_scratch("clip_grad_value", clip_grad_value)
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
# From here on, the cell after each experiment checks the sentences that state its result with
# `helpers.claims`: a ✔ line when a claim holds in this run, a warning box when it does not.
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
names = [name.split(".")[-1] for name, _ in net.named_parameters()]
medians = {n: float(np.median(np.abs(g))) for n, g in zip(names, grads)}
print("median |entry| of each parameter's gradient, and the share of its entries cut at f = "
      f"{fractions[i]:.3f}: " + ", ".join(
          f"{n} ({g.size}) {medians[n]:.2g}, {np.mean(np.abs(g) > fractions[i] * largest):.0%}"
          for n, g in zip(names, grads)))
clipped = clip_grad_value(grads, fractions[i] * largest)
w_hh_share = [float(np.sum(gs[names.index("weight_hh")] ** 2) / sum(np.sum(g ** 2) for g in gs))
              for gs in (grads, clipped)]
print(f"W_hh's share of the squared norm: {w_hh_share[0]:.0%} unclipped, {w_hh_share[1]:.0%} "
      f"clipped by value at f = {fractions[i]:.3f}")
from helpers import claims  # noqa: E402  (checks the prose's claims right after each experiment)

claims.claim("clipping by norm keeps the direction (cosine 1 up to rounding) at every threshold; "
             "clipping by value bends it more and more as the threshold drops",
             min(by_norm) > 1 - 1e-12 and bool(np.all(np.diff(by_value) >= -1e-12))
             and by_value[0] < 0.9,
             evidence=f"by value: cosine {by_value[0]:.3f} at f = {fractions[0]:.3g}")
cut = {n: float(np.mean(np.abs(g) > fractions[i] * largest)) for n, g in zip(names, grads)}
others = ("bias_ih", "bias_hh", "weight")               # the recurrent biases and the readout
# rules out: value clipping acting on every parameter alike (W_hh's entries no smaller in median
# than the biases' and the readout's, no smaller a share of them cut), and W_hh a minority of
# the clipped vector
claims.claim("W_hh's entries are smaller in median than the recurrent biases' and the readout "
             "weights', a smaller share of them is cut at f = 0.01, and clipped by value W_hh "
             "holds more than half of the squared norm",
             all(medians["weight_hh"] < medians[n] and cut["weight_hh"] < cut[n] for n in others)
             and w_hh_share[1] > 0.5,
             evidence=f"share {w_hh_share[0]:.0%} -> {w_hh_share[1]:.0%}");

# %% [markdown]
# Clipping by norm gives cosine 1 at every threshold (up to rounding): the direction is kept.
# Clipping by value bends the gradient more and more as the threshold drops, because it cuts
# the large entries down to $\pm c$ and keeps the small ones, so the small ones weigh more in
# the clipped vector than they did in the gradient. Which entries are small is not random:
# $W_{hh}$'s, most of the gradient's entries, are smaller in the median than the recurrent
# biases' and the readout's, so the cut spares more of them (printed per parameter, with its
# number of entries in brackets). Every cut entry becomes $\pm c$, so clipped by value the
# parameters weigh roughly by how many entries they have: $W_{hh}$ ends with more than half of
# the squared norm, whatever its share of the gradient was (printed): the clipped update's
# direction is set as much by the parameters' sizes as by the gradient. That is why clipping by
# the global norm is the default.
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
# `(output, hidden_states)`. After the call, `.grad` must still hold the (clipped) gradients the
# step used: the check reads them, so call `optimizer.zero_grad()` at the start, not at the end.

# %% nbgrader={"grade": false, "grade_id": "train_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_step(model, inputs, targets, loss_fn, optimizer, max_norm=None):
    """One training step: zero grads, forward, backward, clip (when max_norm is set), step.

    model(inputs) returns (output, hidden_states); loss_fn(output, targets) is a scalar tensor.
    Returns (loss, norm) as floats: the loss before the update and the global gradient norm
    before clipping. Afterwards each parameter's .grad holds this batch's gradient as the step
    used it (clipped when max_norm is set): zero the gradients before backward, not after step.
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
# Visible check: a tanh RNN whose gradient norm is far above max_norm = 0.05, then max_norm
# left out (no clipping: the norm is still measured), then another learning rate.
check_train_step(train_step, "tanh", 0.05, 0.1, 0, "clipping active")
check_train_step(train_step, "tanh", None, 0.1, 5, "max_norm left out")
check_train_step(train_step, "tanh", 0.05, 0.3, 6, "clipping active, lr = 0.3")
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
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
top = 1e3                                  # losses above this are drawn at the top edge
for ax, max_norm in zip(axes, runs):
    ends = {}                                   # (step, drawn loss) -> the runs that end there
    for k, history in enumerate(runs[max_norm]):
        losses = np.asarray(history.losses, dtype=float)
        ax.plot(np.minimum(losses, top), color=f"C{k}", linewidth=1.4, label=f"seed {k}")
        finite = np.flatnonzero(np.isfinite(losses))
        if history.first_nonfinite_step is not None and finite.size:      # its last finite loss
            ends.setdefault((finite[-1], min(losses[finite[-1]], top)), []).append(k)
    for (step, loss), ks in ends.items():       # runs ending at one point: side by side
        for j, k in enumerate(ks):
            shifted = transforms.offset_copy(ax.transData, fig=fig, x=11 * j, units="points")
            ax.plot(step, loss, "x", color=f"C{k}", markersize=10, markeredgewidth=2,
                    transform=shifted)
        if len(ks) > 1:
            ax.annotate(f"{len(ks)} runs end at step {step} (seeds {', '.join(map(str, ks))})",
                        (step, loss), xytext=(11 * len(ks), -3), textcoords="offset points",
                        fontsize=8)
    ax.axhline(1 / 6, color="gray", linestyle="--", linewidth=1.2, label="always answer 1 (1/6)")
    plots.labelled(ax, "no clipping" if max_norm is None else f"clipped, max_norm = {max_norm}",
                   "training step", f"MSE loss (drawn at most {top:g})", logy=True)
    ax.set_ylim(1e-2, 2 * top)
axes[0].plot([], [], "x", color="gray",
             label="last finite loss before inf/NaN\n(side by side where runs share one)")
axes[0].legend(loc="center right", fontsize=8)
fig.suptitle(f"Adding problem, ReLU RNN (s = 1.3), SGD at 0.05, {len(seeds)} seeds")
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
# Without clipping, runs overflow within a few steps in some seeds (left; the printout gives
# the steps; how many of the five varies with the seeds and the machine), as in notebook 03; a
# run that does not overflow settles like the clipped ones: the exploding regime makes an
# overflow likely, not certain. With clipping (right) every run stays finite, sheds its large
# first loss and settles near the baseline, none of them clearly below it in 150 steps.
# Clipping does not make the problem easy, and it does not make these runs learn the task: it
# makes training survive the steps where the gradient explodes, which is all it promises.
# (Learning the adding problem takes more: notebooks 06 to 08.)
#
# ## 4. Choosing the threshold, and the learning rate (≈ 15 min)
#
# *How large should `max_norm` be?* Pascanu et al. (2013, Section 3.2): "One good heuristic for
# setting this threshold is to look at statistics on the average norm over a sufficiently large
# number of updates. In our experience values from half to ten times this average can still
# yield convergence, though convergence speed can be affected." Your `train_step` returns the
# norm before clipping, so the clipped runs above already logged it: 150 steps of five runs,
# the early training where explosions happen.

# %%
observed = np.concatenate([h.grad_norms for h in runs[1.0]])
average, median = float(np.mean(observed)), float(np.median(observed))
quantiles = (0.1, 0.5, 0.9, 0.99)
at = {q: float(np.quantile(observed, q)) for q in quantiles}
first_share = sum(float(np.sum(h.grad_norms[:10])) for h in runs[1.0]) / float(observed.sum())
fig, ax = plt.subplots()
ax.hist(observed, bins=np.logspace(np.log10(observed.min()), np.log10(observed.max()), 40),
        color="lightgray", label="norms before clipping (clipped runs)")
ax.axvline(average, color="black", linestyle="--", label=f"average, {average:.3g}")
for q, color in zip(quantiles, ("C0", "C1", "C2", "C3")):
    ax.axvline(at[q], color=color, label=f"{q:.0%} quantile, {at[q]:.3g}")
ax.set_xscale("log")
plots.labelled(ax, "Gradient norms observed during training", "global gradient norm",
               "number of steps")
ax.legend(fontsize=8)
plt.show()
print(f"average {average:.3g}, median {median:.3g}, largest {observed.max():.3g}; the average "
      f"is the {np.mean(observed < average):.0%} quantile: it clips {np.mean(observed > average):.0%} "
      "of the steps")
print(f"the first 10 of each run's {steps} steps carry {first_share:.0%} of the summed norm")
clips_half, clips_ten = np.mean(observed > average / 2), np.mean(observed > 10 * average)
print(f"half to ten times the average: the {1 - clips_half:.0%} to {1 - clips_ten:.1%} "
      f"quantiles, which clip {clips_half:.0%} and {clips_ten:.1%} of the steps")
print("quantiles: " + ", ".join(f"{q:.0%}: {at[q]:.3g}" for q in quantiles))
# rules out: norms of one size (a narrow spread), a symmetric spread (average = median), and an
# average that the steady steps set rather than the first few
claims.claim("the norms spread over orders of magnitude, with a tail that pulls the average "
             "above the median (by more than half), and the first 10 steps of each run carry "
             "more than a quarter of the summed norm",
             observed.max() > 100 * observed.min() and average > 1.5 * median
             and first_share > 0.25,
             evidence=f"average {average:.3g}, median {median:.3g}, first 10 steps "
                      f"{first_share:.0%}")
# rules out: ten times the average reaching into the ordinary steps, and the two ends of the
# band clipping alike
claims.claim("ten times the average clips at most one step in twenty, half the average at least "
             "twice as many", clips_ten <= 0.05 and clips_half >= 2 * clips_ten,
             evidence=f"{clips_half:.0%} and {clips_ten:.1%} of the steps");

# %% [markdown]
# The norms spread over orders of magnitude. The average is pulled up by the tail, and the tail
# is the start of training: the first 10 steps of each run (one in 15) carry a large share of
# the summed norm (printed). So the average of early training is a statistic of its few
# explosions: it moves with them, and how many steps it is taken over decides it. Quantiles do
# not have that problem: the 90 % quantile is the norm that one step in ten exceeds, whatever
# those steps did. We therefore measure thresholds as quantiles of the logged norms.
#
# For each learning rate and threshold (the 10 %, 50 %, 90 % and 99 % quantiles, and none), runs
# from five starts ($T = 30$, seeds 0 to 4, at most 60 steps). Each cell counts the steps until
# the loss first drops to 0.25, one number per seed, or says that a run hit inf/NaN. That level
# is one and a half times the baseline: as Section 3 showed, these runs do not get clearly below
# it this early, so the table measures how fast a run *recovers* from its large start (the
# printout gives the first losses), and whether it survives, not how fast it learns the task.

# %%
steps_grid, good_enough = course.pick(full=60, smoke=15), 0.25
learning_rates = (0.01, 0.05, 0.2)
thresholds = (*quantiles, None)                      # None: no clipping
grid_seeds = course.pick(full=(0, 1, 2, 3, 4), smoke=(0,))
reached = np.full((len(grid_seeds), len(learning_rates), len(thresholds)), np.inf)  # inf: never
overflowed = np.zeros(reached.shape, dtype=bool)
starts = []
for r, lr in enumerate(tqdm(learning_rates, desc="learning rates")):
    for c, q in enumerate(thresholds):
        for k, seed in enumerate(grid_seeds):
            history = training.train(
                models.orthogonal_rnn(1.3, seed=seed),
                lambda i, seed=seed: tasks.adding_problem(64, T, seed=7000 + 1000 * seed + i),
                torch.nn.functional.mse_loss, steps=steps_grid, lr=lr, optimizer="sgd",
                step=functools.partial(train_step, max_norm=None if q is None else at[q]),
                stop_below=good_enough, window=1, progress=False)
            starts.append(history.losses[0])
            overflowed[k, r, c] = history.first_nonfinite_step is not None
            if history.stopped_early:
                reached[k, r, c] = len(history.losses) - 1
labels = np.array([[" ".join("NaN" if overflowed[k, r, c] else
                             f">{steps_grid}" if np.isinf(reached[k, r, c]) else
                             f"{reached[k, r, c]:.0f}" for k in range(len(grid_seeds)))
                    for c in range(len(thresholds))] for r in range(len(learning_rates))])
success = np.isfinite(reached).mean(axis=0)       # the share of seeds that reached the loss
fig, ax = plt.subplots(figsize=(11.5, 3.6))
image = ax.imshow(success, cmap="RdYlGn", aspect="auto", vmin=0, vmax=1)
for (r, c), text in np.ndenumerate(labels):
    ax.text(c, r, text, ha="center", va="center", fontsize=8,
            color="darkred" if "NaN" in text else "black",
            bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none"})
ax.set_xticks(range(len(thresholds)), [("none" if q is None else f"{q:.0%} quantile\n"
                                        f"({at[q]:.2g})") for q in thresholds])
ax.set_yticks(range(len(learning_rates)), [str(lr) for lr in learning_rates])
ax.grid(False)
fig.colorbar(image, ax=ax, label=f"share of seeds reaching {good_enough}")
plots.labelled(ax, f"Steps to a loss of {good_enough} per seed (seeds "
               f"{', '.join(map(str, grid_seeds))}); colour: share that got there",
               "max_norm, a quantile of the logged norms", "learning rate")
plt.show()
print(f"starting losses: {claims.spread(starts, '.2f')}")
print("\n".join(f"lr = {lr}: " + ", ".join(f"{('none' if q is None else f'{q:.0%}')} -> {text}"
                                            for q, text in zip(thresholds, labels[r]))
                for r, lr in enumerate(learning_rates)))
none, low, mid, high = (thresholds.index(q) for q in (None, 0.1, 0.5, 0.9))
median_steps = {q: float(np.median(reached[:, 0, thresholds.index(q)])) for q in quantiles}
# rules out: large steps being safe without clipping (no overflow at either larger rate)
claims.claim("without clipping both larger learning rates hit NaN in some seeds",
             bool(overflowed[:, 1, none].any() and overflowed[:, 2, none].any()),
             evidence=f"lr = {learning_rates[1]}: {overflowed[:, 1, none].sum()} of "
                      f"{len(grid_seeds)}, lr = {learning_rates[2]}: "
                      f"{overflowed[:, 2, none].sum()} of {len(grid_seeds)}")
# rules out: a threshold that clips most steps costing nothing when steps are small
claims.claim("at the smallest learning rate the 10 % and 50 % quantiles are slower than the 90 % "
             "quantile in the median over the seeds",
             median_steps[0.1] > median_steps[0.9] and median_steps[0.5] > median_steps[0.9],
             "median steps " + ", ".join(f"{q:.0%}: {v:g}" for q, v in median_steps.items()))
claims.claim_seeds("thresholds at the 50 % and 90 % quantiles never overflow, and the 90 % "
                   "quantile reaches the loss at every learning rate",
                   [not overflowed[k][:, [mid, high]].any()
                    and bool(np.all(np.isfinite(reached[k][:, high])))
                    for k in range(len(grid_seeds))], spread="the table above")
print(f"runs that overflowed at the largest learning rate: 99 % quantile "
      f"{overflowed[:, -1, thresholds.index(0.99)].sum()} of {len(grid_seeds)}, no clipping "
      f"{overflowed[:, -1, none].sum()} of {len(grid_seeds)}")

# %% [markdown]
# Read the table by rows, one number per seed in each cell; the colour is the share of the
# seeds that reached the loss, so a cell with an overflow or a run that never got there is
# never drawn as good as a cell where every run did. The length of an update is at most
# learning rate × `max_norm`, so the two act together. A threshold that clips most steps (the
# 10 % quantile, and even the median) makes every step short: at the smallest learning rate
# both are slower than the 90 % quantile in the median over the seeds. Without clipping both
# larger learning rates overflow in some seeds (the printed counts). The median and the 90 %
# quantile never overflow, and the 90 % quantile recovers at every learning rate in every
# seed. The 99 % quantile clips only the largest steps, so it protects less the larger the
# learning rate: compare its overflows at the largest rate with no clipping in the printout.
#
# What these measurements support: **set `max_norm` near the 90 % quantile of the norms logged
# early in training**, so that clipping cuts the explosive tail (about one step in ten) and
# leaves the ordinary steps alone, then tune the learning rate with it. Pascanu et al.'s "half
# to ten times" the average is a band of quantiles of these norms (printed under the histogram):
# ten times the average clips at most one step in twenty, half the average at least twice as
# many; how many more depends on how large the early explosions were, which the average follows. Over early training, which end of it you pick matters.
#
# Clipping by norm keeps each step's direction but not its size, so a clipped run does not
# follow the gradient: the update is $-\eta\, c\, g/\|g\|$ instead of $-\eta\, g$, a biased
# estimate of the gradient step whenever the threshold binds. On a non-convex loss that is a
# different path, not the same one walked slowly; the smaller the threshold, the more steps it
# changes.
#
# ## 5. Clipped steps on the cliff (≈ 9 min)
#
# *What does clipping do on notebook 03's cliff?* The one-unit network
# <!-- numbers-ok: 4.26; 1/sigma'(0.5), a constant the cell below prints -->
# $x_t = w\,\sigma(x_{t-1}) + b$ from $x_0 = 0.5$, with $L(w, b) = (x_{20} - 0.7)^2$. On the line
# $b = 0.5 - w\,\sigma(0.5)$ the start is a fixed point: $x_1 = w\,\sigma(0.5) + b = 0.5 = x_0$,
# and so on for every step. Its slope there is $s = w\,\sigma'(0.5)$; for $w > 1/\sigma'(0.5)
# = 4.26$ it exceeds 1, the fixed point is unstable, and a start a little below the line falls
# to the low stable fixed point while one a little above rises to the high one. That line is
# the cliff: on it the derivative of $x_{20}$ with respect to $b$ is
# $\sum_{k=0}^{19} s^k = (s^{20} - 1)/(s - 1)$ (each step multiplies the earlier ones' effect by
# $s$), thousands at $w = 6$ (printed). Near a stable fixed point the slope is below 1 and the
# same sum stays small: that is a plateau.
#
# We start just below the cliff, a distance $s^{-20}$ below the line (where the gradient is
# still huge), at five values of $w$ drawn from $[5.5, 7.5]$; the map shows the first. From
# each, 60 steps of gradient descent with learning rate 0.1: without clipping, and clipped by
# norm at 1 and at 10 (your `clip_grad_norm` on the gradient
# $(\partial L/\partial w, \partial L/\partial b)$, which autograd computes through the same
# recurrence; for the map, on a whole grid at once).

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
    """Gradient descent on L(w, b): the path, shape (steps + 1, 2), and the loss at each point."""
    path, losses = [np.array(start, dtype=np.float64)], []
    for _ in range(steps):
        loss, dw, db = one_unit_loss(*path[-1])
        losses.append(float(loss))
        grad = [np.array([float(dw), float(db)])]
        if max_norm is not None:
            grad = clip_grad_norm(grad, max_norm)[0]
        path.append(path[-1] - lr * grad[0])
    losses.append(float(one_unit_loss(*path[-1])[0]))
    return np.array(path), np.array(losses)


sigma_half = 1 / (1 + np.exp(-0.5))                       # sigma(0.5); sigma'(0.5) below
slope = lambda w: w * sigma_half * (1 - sigma_half)       # noqa: E731  (s = w sigma'(0.5))
cliff_b = lambda w: 0.5 - w * sigma_half                  # noqa: E731  (the line x_1 = x_0)


def cliff_crossings(path):
    """How many steps of a path cross the cliff line where it is a cliff (s > 1 at both ends)."""
    side = np.sign(path[:, 1] - cliff_b(path[:, 0]))
    steep = slope(path[:, 0]) > 1
    return int(np.sum((side[1:] != side[:-1]) & steep[1:] & steep[:-1]))


lr, max_norms = 0.1, (None, 1.0, 10.0)
names = {None: "no clipping", 1.0: "clipped, max_norm = 1", 10.0: "clipped, max_norm = 10"}
w_low, w_high = 5.5, 7.5                                 # one start in each fifth:
starts_w = w_low + (w_high - w_low) / 5 * (np.arange(5) + course.rng(5).uniform(size=5))
descents = []                                             # one {max_norm: (path, losses)} per start
for w0 in starts_w:
    start = np.array([w0, cliff_b(w0) - slope(w0) ** -20.0])
    descents.append({m: descend(start, lr, m) for m in max_norms})

ws = np.linspace(1, 9, course.pick(full=241, smoke=61))
bs = np.linspace(-5, 1, course.pick(full=181, smoke=46))
W, B = np.meshgrid(ws, bs)
surface = one_unit_loss(W, B)[0]
styles = {None: ("red", "--", "x"), 1.0: ("white", "-", "o"), 10.0: ("lime", "-", "s")}
fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(13, 4.8))
image = ax.pcolormesh(W, B, np.log10(surface + 1e-12), shading="auto", cmap="magma")
fig.colorbar(image, ax=ax, label="$\\log_{10} L(w, b)$")
on_cliff = ws[ws > 1 / (sigma_half * (1 - sigma_half))]
ax.plot(on_cliff, cliff_b(on_cliff), ":", color="cyan", linewidth=1.5,
        label="cliff: b = 0.5 − w σ(0.5)")
outlined = [patheffects.withStroke(linewidth=3, foreground="black")]   # white on pale ground
for m in max_norms:
    color, dash, marker = styles[m]
    path = descents[0][m][0]
    ax.plot(path[:, 0], path[:, 1], dash, marker=marker, markersize=3, color=color,
            linewidth=1.2, label=names[m], path_effects=outlined if color == "white" else None)
    ax_loss.plot(descents[0][m][1], dash, marker=marker, markersize=3,
                 color="black" if color == "white" else color, label=names[m])
start, thrown = descents[0][None][0][:2]
way = thrown - start                            # where the first unclipped step leaves the map
exit_at = start + way * min((edge - x) / d for x, d, edges in zip(start, way, ((ws[0], ws[-1]),
                                                                             (bs[0], bs[-1])))
                            for edge in edges if d != 0 and (edge - x) / d > 0)
ax.annotate(f"first unclipped step:\nto (w, b) = ({thrown[0]:.3g}, {thrown[1]:.3g})",
            xy=exit_at, xytext=(4.4, -0.3), fontsize=8, color="red",
            arrowprops={"arrowstyle": "->", "color": "red"},
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
ax.plot(*descents[0][None][0][0], "D", markerfacecolor="none", markeredgecolor="yellow",
        markersize=10, markeredgewidth=2, label="start")
ax.set_xlim(ws[0], ws[-1])
ax.set_ylim(bs[0], bs[-1])
ax.grid(False)
plots.labelled(ax, f"Descent from beside the cliff (w₀ = {starts_w[0]:.2f}, T = 20)",
               "recurrent weight w", "bias b")
ax.legend(loc="lower left", fontsize=8)
ax_loss.axhline(surface.max(), color="gray", linestyle=":", label="highest loss on the map")
plots.labelled(ax_loss, "Loss along each path (same start)", "gradient step", "L(w, b)",
               logy=True)
ax_loss.legend(fontsize=8)
plt.show()

top = float(surface.max())
print(f"the cliff starts at w = 1/sigma'(0.5) = {1 / slope(1.0):.2f}; on it at w = 6, "
      f"dx_20/db = (s^20 - 1)/(s - 1) = {(slope(6.0) ** 20 - 1) / (slope(6.0) - 1):.3g}")
print(f"starts: w0 = {', '.join(f'{w:.2f}' for w in starts_w)}, one in each fifth of "
      f"[{w_low}, {w_high}]; highest loss on the map: {top:.3g}")
for w0, runs_w in zip(starts_w, descents):
    path, losses = runs_w[None]
    grad = np.linalg.norm(one_unit_loss(*path[0])[1:])
    print(f"w0 = {w0:.2f}: L = {losses[0]:.3g}, |gradient| {grad:.2g}; unclipped first step "
          f"{np.linalg.norm(path[1] - path[0]):.3g} long, L after it {losses[1]:.3g}, path ends "
          f"{np.linalg.norm(path[-1] - path[0]):.3g} from the start at L = {losses[-1]:.2g}")
    for m in max_norms[1:]:
        path, losses = runs_w[m]
        print(f"      {names[m]}: highest L {losses.max():.3g}, median L of the last 10 steps "
              f"{np.median(losses[-10:]):.2g}, ends {np.linalg.norm(path[-1] - path[0]):.2g} "
              f"from the start, crosses the cliff in {cliff_crossings(path)} of its steps")
longest = {m: max(np.linalg.norm(np.diff(d[m][0], axis=0), axis=1).max() for d in descents)
           for m in max_norms}
thrown_steps = [np.linalg.norm(d[None][0][1] - d[None][0][0]) for d in descents]
start_grads = [float(np.linalg.norm(one_unit_loss(*d[None][0][0])[1:])) for d in descents]
after_first = [d[None][1][1] for d in descents]
highest = {m: max(d[m][1].max() for d in descents) for m in max_norms[1:]}
settled = {m: [float(np.median(d[m][1][-10:])) for d in descents] for m in max_norms[1:]}
crossings = [cliff_crossings(d[1.0][0]) for d in descents]
# rules out: a gradient beside the cliff of ordinary size (a step no longer than a clipped one,
# a loss that stays on the map's scale), and one that does not grow with w
claims.claim("beside the cliff the gradient's norm is between 100 and 1e4 at the smallest w, "
             "grows with w and passes 1e5 at the largest; the unclipped first step is between "
             "10 (ten times the longest clipped step) and 1000 long from the smallest w, between "
             "1e4 and 1e5 from the largest, and lands where the loss is more than 10 times the "
             "highest loss on the map",
             100 < start_grads[0] < 1e4 and bool(np.all(np.diff(start_grads) > 0))
             and start_grads[-1] > 1e5 and 10 < thrown_steps[0] < 1000
             and 1e4 < thrown_steps[-1] < 1e5 and min(after_first) > 10 * top,
             evidence=f"|gradient| {claims.spread(start_grads, '.2g')}, steps "
                      f"{claims.spread(thrown_steps, '.3g')}, loss after "
                      f"{claims.spread(after_first, '.2g')}")
# rules out: clipped steps longer than lr x max_norm, and clipped paths that also climb off
# the map's scale
claims.claim("clipped, no step is longer than lr × max_norm and the loss never goes above the "
             "highest loss on the map",
             all(longest[m] <= lr * m * (1 + 1e-9) for m in max_norms[1:])
             and max(highest.values()) < top,
             evidence=", ".join(f"max_norm {m:g}: longest {longest[m]:.3g}, highest L "
                                f"{highest[m]:.3g}" for m in max_norms[1:]))
# rules out: a small threshold that costs nothing (its paths settling too), and a larger one
# that does not reach the valley within 60 steps
claims.claim("with max_norm = 10 every path reaches the valley (median L of its last 10 steps "
             "below 0.1); with max_norm = 1 none does: each hops across the cliff line in more "
             "than half of its 60 steps",
             max(settled[10.0]) < 0.1 < min(settled[1.0]) and min(crossings) > 30,
             evidence=f"max_norm 10: {claims.spread(settled[10.0], '.2g')}; max_norm 1: "
                      f"{claims.spread(settled[1.0], '.2g')}, crossings "
                      f"{claims.spread(crossings, 'd')}");

# %% [markdown]
# Beside the cliff the gradient's norm is in the hundreds or thousands at the smallest $w$ and
# grows steeply with $w$, past $10^5$ at the largest (printed, one per start), so one plain step
# of learning rate 0.1 throws the parameters far off the map, tens or hundreds of units from
# the smallest $w$ and tens of thousands from the largest (the red arrow points the way), to a
# loss larger than anywhere on the map (the spike in the loss panel). Clipped, no step is longer
# than learning rate × `max_norm`. With `max_norm = 10` (steps of at most 1) every path steps
# off the cliff and walks down to the zero-loss valley, the dark curve, within 60 steps.
#
# With `max_norm = 1` every step near the cliff has the same length, 0.1, whatever the
# gradient. The thin zero-loss valley runs right along the cliff's upper side (on the line
# $x_{20} = 0.5$, a little above it $x_{20}$ is near the high fixed point, above 0.7, so in
# between it passes through 0.7), and the gradient on both sides points across the cliff,
# so a step of 0.1, far wider than the valley, lands on the other side and the next comes back:
# the path hops across the cliff line in most of its steps (printed), its loss jumping between
# the two sides. This is the bias of clipping: the clipped step is not the gradient step, and
# on a non-convex loss it can go somewhere the gradient step would never take it.
#
# Where does the unclipped path end? In this toy any $(w, b)$ with $x_{20} = 0.7$ solves the
# task, so after its throw it may well find such a point, far away (the printed distances and
# final losses): it is not "lost", it has left the region it was in. In a network that has
# learned something, a throw of that size discards what it learned, and in Section 3 the same
# kind of step ended in inf/NaN. Clipping bounds the throw and keeps the direction; it does
# not make a path go where the unclipped one would have gone.

# %% [markdown]
# Where am I? Run this to see which exercises pass their visible checks.

# %% nbgrader={"grade": false, "grade_id": "progress", "locked": true, "schema_version": 3, "solution": false, "task": false}
checks.progress()

# %% [markdown]
# ## What to remember
# - Clip by the **global norm**: one factor for all gradients, $\min(1, c/(\|g\| + 10^{-6}))$,
#   keeps the direction; clipping by value changes it.
# - In a training step clipping goes after `backward` and before `step`; `clip_grad_norm_`
#   returns the norm before clipping: log it.
# - Clipping lets runs in the exploding regime survive; it does not fix vanishing gradients.
# - Choose the threshold from the norms logged early in training: near their 90 % quantile
#   clipping cuts the explosive tail and leaves ordinary steps alone; their average is set by a
#   few explosive steps. The step length is at most learning rate × threshold: tune them
#   together.
# - A clipped step keeps the gradient's direction, not its length: where the threshold binds
#   it is not the gradient step, and on a non-convex loss it can go elsewhere.
#
# ## References
# - R. Pascanu, T. Mikolov and Y. Bengio, "On the difficulty of training recurrent neural networks", *ICML* 2013 (clipping by norm, Algorithm 1; the threshold from the average norm, Section 3.2).
# - T. Mikolov, *Statistical Language Models Based on Neural Networks*, PhD thesis, Brno University of Technology, 2012 (clipping gradients by value).
# - PyTorch documentation: `torch.nn.utils.clip_grad_norm_`, `torch.nn.utils.clip_grad_value_`, `torch.nn.utils.get_total_norm`.
# - I. Goodfellow, Y. Bengio and A. Courville, *Deep Learning*, MIT Press, 2016, Section 10.11.1 (clipping gradients).
