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
# # 08 · Mitigations compared
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/rnn-gradients/rnn-gradients-course/blob/main/notebooks/08_mitigations/08_mitigations.ipynb)
#
# Notebooks 02–07 met the two failures of recurrent training, vanishing and exploding
# gradients, and one remedy at a time: clipping, initialisation, gates. This notebook adds the
# remedies still missing (weight penalties, the learning rate, skip connections through time,
# attention) and then puts all of them side by side, on the same tasks, over several seeds.
# **Given a network that does not train, which remedy should you reach for, and what is the
# evidence?**
#
# **You will be able to**
# 1. write L2 and L1 weight penalties with their gradients, derive what weight decay does to
#    $\sigma_{\max}(W_{hh})$ and to the gradient bound of notebook 04, and measure it;
# 2. read a learning-rate sweep and a schedule off the loss and gradient-norm logs;
# 3. explain why a skip connection through time and attention over the hidden states shorten
#    the gradient's path, write scaled dot-product attention that never overflows, and see
#    both remedies on the gradient through time;
# 4. measure convergence speed (`steps_to_threshold`) and read a multi-seed comparison of nine
#    remedies for stability, speed, final loss and long-range success;
# 5. check the ranking on real text with a character-level language model.
#
# **Time:** about 75 minutes (each section states its own estimate).
# The exercises are graded: each has a visible check you can run now and hidden tests
# (random shapes, edge cases, PyTorch's autograd and attention as the reference) that run when
# your notebook is graded. Only the code inside the exercise cells (the ones that say
# `# YOUR CODE HERE`) is graded, so put any helper function you write in one of those cells.

# %%
# Set-up (≈ 1 min). On Colab this installs the course's `helpers` package from the course
# repository; locally, the README's set-up command already did.
import sys

if "google.colab" in sys.modules:
    # %pip install -q "rnn-gradients-course @ git+https://github.com/rnn-gradients/rnn-gradients-course"

import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm.auto import tqdm

from helpers import checks, course, diagnostics, models, plots, tasks, training

rng = course.setup(seed=0)

# %% [markdown]
# ## 1. Weight penalties (≈ 20 min)
#
# *What does a penalty on the weights do to the gradient's path?* Add to the loss a term that
# grows with the weights, for a list of weight arrays $w$ and a strength $\lambda \ge 0$:
# $$\Omega_2(w) = \lambda \sum_i w_i^2,\qquad \frac{\partial\Omega_2}{\partial w_i} = 2\lambda
# w_i; \qquad\qquad \Omega_1(w) = \lambda \sum_i |w_i|,\qquad
# \frac{\partial\Omega_1}{\partial w_i} = \lambda\operatorname{sign}(w_i).$$
# $|w|$ has a kink at 0, where every value in $[-\lambda, \lambda]$ is a **subgradient**; we take
# 0, as `np.sign` and PyTorch's autograd do.
#
# **Weight decay.** One step of gradient descent with rate $\eta$ on $L + \Omega_2$ reads
# $$W \leftarrow W - \eta\bigl(\nabla_W L + 2\lambda W\bigr) = (1 - 2\eta\lambda)\,W -
# \eta\,\nabla_W L .$$
# The penalty multiplies $W$ by $1 - 2\eta\lambda$ at every step, before the data's gradient
# acts; hence the name. Scaling a matrix scales all its singular values
# ($\sigma_{\max}(cW) = |c|\,\sigma_{\max}(W)$), and the largest singular value of a sum is at
# most the sum of the largest ones (Weyl's inequality), so
# $$\sigma_{\max}(W_{n+1}) \le (1 - 2\eta\lambda)\,\sigma_{\max}(W_n) + \eta\,\|\nabla_W
# L\|_2 .$$
# Without a data gradient, $\sigma_{\max}(W_n) = (1 - 2\eta\lambda)^n\,\sigma_{\max}(W_0)$
# exactly: geometric decay. Applied to $W_{hh}$, this lowers notebook 04's bound
# $\|\partial h_t/\partial h_k\| \le (\gamma\,\sigma_{\max}(W_{hh}))^{t-k}$: weight decay
# pushes a network out of the regime where gradients **can** explode, and by the same factor
# deeper into the one where they vanish. It is a remedy for explosion, not for vanishing.
#
# L1 instead moves every weight by the same $\eta\lambda$ toward 0, whatever its size: small
# weights are driven to (around) zero while large ones keep most of their value, which makes
# $W$ sparse. (With Adam, a penalty added to the loss is divided by Adam's running gradient
# scale like any other gradient and no longer shrinks all weights alike; AdamW (Loshchilov and
# Hutter 2019) applies the decay directly instead.)
#
# ### Exercises 1–2: `l2_penalty` and `l1_penalty` (≈ 10 min)
# Both take a **list** of float64 arrays of any shapes and return `(value, grads)`: the penalty
# as a float and a list of new arrays, one per parameter and of its shape.

# %% nbgrader={"grade": false, "grade_id": "l2_penalty", "locked": false, "schema_version": 3, "solution": true, "task": false}
def l2_penalty(params, lam):
    """L2 penalty lam * (sum of w**2 over every entry of every array) and its gradients.

    params: list of float64 arrays (any shapes); lam: a float >= 0.
    Returns (value, grads): value a float, grads a list of new arrays 2 * lam * w, one per
    array and of its shape. The input arrays are not changed.
    """
    ### BEGIN SOLUTION
    params = [np.asarray(w, dtype=np.float64) for w in params]
    value = lam * sum(float(np.sum(w * w)) for w in params)
    return float(value), [2.0 * lam * w for w in params]
    ### END SOLUTION


# %% nbgrader={"grade": false, "grade_id": "l1_penalty", "locked": false, "schema_version": 3, "solution": true, "task": false}
def l1_penalty(params, lam):
    """L1 penalty lam * (sum of |w| over every entry of every array) and its subgradients.

    params: list of float64 arrays (any shapes); lam: a float >= 0.
    Returns (value, grads): value a float, grads a list of new arrays lam * sign(w) (0 where
    w == 0), one per array and of its shape. The input arrays are not changed.
    """
    ### BEGIN SOLUTION
    params = [np.asarray(w, dtype=np.float64) for w in params]
    value = lam * sum(float(np.sum(np.abs(w))) for w in params)
    return float(value), [lam * np.sign(w) for w in params]
    ### END SOLUTION


# %% [markdown]
# ### How your code is checked
#
# The read-only cell below computes both penalties with PyTorch tensors and asks
# `torch.autograd` for their gradients (its derivative of $|w|$ at 0 is 0); your values and
# gradients must match.

# %% nbgrader={"grade": false, "grade_id": "checking_tools", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Checking tools (read-only). torch.autograd is the reference; your code never calls it.
PENALTIES = {"l2_penalty": lambda t: (t * t).sum(), "l1_penalty": lambda t: t.abs().sum()}
PENALTY_HINTS = {
    "l2_penalty": ("value = lam * (sum of w**2 over EVERY entry of EVERY array in the list): "
                   "no square root, no 1/2, no mean, biases and matrices alike.",
                   "the derivative of lam * w**2 is 2 * lam * w (the 2 is easy to forget); "
                   "return one array per parameter, of its shape."),
    "l1_penalty": ("value = lam * (sum of |w| over EVERY entry of EVERY array in the list).",
                   "the subgradient of lam * |w| is lam * sign(w), and 0 where w == 0 "
                   "(np.sign(0) is 0); never divide by |w|."),
}


def penalty_params(shapes, seed, zeros=0.0, scale=1.0):
    """Random float64 arrays of the given shapes; a fraction `zeros` of the entries set to 0."""
    local = np.random.default_rng(seed)
    params = [local.normal(size=s) * scale for s in shapes]
    for w in params:
        w[local.random(w.shape) < zeros] = 0.0
    return params


def reference_penalty(name, params, lam):
    """(value, grads) from torch.autograd on float64 tensors."""
    tensors = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in params]
    value = lam * sum(PENALTIES[name](t) for t in tensors)
    value.backward()
    return float(value.detach()), [t.grad.numpy() for t in tensors]


def check_penalty(name, fn, params, lam, label):
    params = [np.array(w, dtype=np.float64) for w in params]
    before = [w.copy() for w in params]
    zeros = sum(int(np.sum(w == 0)) for w in params)
    inputs = (f"{label}: {len(params)} arrays of shapes {[w.shape for w in params]} "
              f"({zeros} entries exactly 0), lam = {lam!r}")
    got, caught = checks.call(name, fn, params, lam, inputs=inputs)
    warned = [f"{w.category.__name__}: {w.message}" for w in caught]
    checks.expect(name, not warned, "raised a warning.", inputs=inputs,
                  returned=warned[0] if warned else "", expected="no warning",
                  hint="w / abs(w) divides 0 by 0 at w == 0: use np.sign(w).")
    checks.expect_unchanged(name, "params", before, params, inputs=inputs)
    checks.expect(name, isinstance(got, tuple | list) and len(got) == 2,
                  "should return a pair (value, grads).", inputs=inputs,
                  returned=checks.preview(got), expected="(float, list of arrays)",
                  hint="return value, grads")
    value_hint, grad_hint = PENALTY_HINTS[name]
    expected_value, expected_grads = reference_penalty(name, before, lam)
    value = checks.as_number(name, "value", got[0], inputs=inputs, hint=value_hint)
    checks.expect_close(name, "value", np.float64(value), expected_value, inputs=inputs,
                        rtol=1e-12, atol=1e-300, hint=value_hint)
    grads = got[1]
    checks.expect(name, isinstance(grads, list | tuple) and len(grads) == len(params),
                  "grads should be a list with one array per parameter.", inputs=inputs,
                  returned=f"{type(grads).__name__}"
                           f"{f' of length {len(grads)}' if hasattr(grads, '__len__') else ''}",
                  expected=f"list of {len(params)} arrays", hint=grad_hint)
    for i, (g, e) in enumerate(zip(grads, expected_grads)):
        checks.expect_close(name, f"grads[{i}]", g, e, inputs=inputs, rtol=1e-12, atol=1e-300,
                            hint=grad_hint)


# %% nbgrader={"grade": true, "grade_id": "test_l2_penalty", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check: a weight matrix and a bias vector.
check_penalty("l2_penalty", l2_penalty, [np.array([[1.0, -2.0], [0.5, 0.0]]),
                                         np.array([3.0, -1.0])], 0.1, "small example")
checks.passed("l2_penalty")

# %% nbgrader={"grade": true, "grade_id": "hidden_l2_penalty", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for l2_penalty run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("l2_penalty", l2_penalty)
check_penalty("l2_penalty", l2_penalty, penalty_params([(5, 3), (3,), (2, 2, 4)], 801), 0.037,
              "random")
check_penalty("l2_penalty", l2_penalty, penalty_params([(4, 4)], 802), 2.5, "one matrix")
check_penalty("l2_penalty", l2_penalty, penalty_params([(6,), (3, 2)], 803), 0.0, "lam = 0")
check_penalty("l2_penalty", l2_penalty, penalty_params([(7,), (7,)], 804, scale=1e3), 1e-4,
              "two bias vectors, large weights")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_l1_penalty", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check: a weight matrix with a zero entry and a bias vector.
check_penalty("l1_penalty", l1_penalty, [np.array([[1.0, -2.0], [0.5, 0.0]]),
                                         np.array([3.0, -1.0])], 0.1, "small example")
checks.passed("l1_penalty")

# %% nbgrader={"grade": true, "grade_id": "hidden_l1_penalty", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for l1_penalty run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("l1_penalty", l1_penalty)
check_penalty("l1_penalty", l1_penalty, penalty_params([(5, 3), (3,), (2, 2, 4)], 811), 0.037,
              "random")
check_penalty("l1_penalty", l1_penalty, penalty_params([(6, 6), (6,)], 812, zeros=0.4), 0.2,
              "many zeros")
check_penalty("l1_penalty", l1_penalty, [np.zeros((3, 3))], 0.5, "all zeros")
check_penalty("l1_penalty", l1_penalty, penalty_params([(4,), (2, 5)], 813), 0.0, "lam = 0")
### END HIDDEN TESTS

# %% [markdown]
# ### Measured: weight decay and $\sigma_{\max}(W_{hh})$ (≈ 5 min)
#
# PENALTY_EXPERIMENT_TEXT

# %%
# PENALTY_EXPERIMENT

# %% [markdown]
# ## 4. Attention: a path of length one (≈ 15 min)
#
# *What if the output could look at every hidden state directly?* Let a **query** $q$ (shape
# (B, H)) score every hidden state, the **keys** $k_t$, and read out a weighted mean of the
# **values** $v_t$ (here keys and values are the hidden states $h_1, \dots, h_T$). Scaled
# dot-product attention (Vaswani et al. 2017; Bahdanau, Cho and Bengio 2015 introduced
# attention over an RNN's states) computes, for each sequence of the batch,
# $$s_t = \frac{k_t \cdot q}{\sqrt H},\qquad \alpha_t = \frac{e^{s_t}}{\sum_{u=1}^{T}
# e^{s_u}},\qquad c = \sum_{t=1}^{T} \alpha_t\, v_t .$$
# The weights $\alpha_t$ are a softmax **over time**: positive, summing to 1 over $t$ for each
# sequence. Why $\sqrt H$: if the entries of $q$ and $k_t$ are independent with mean 0 and
# variance 1, then $k_t\cdot q$ is a sum of $H$ products of variance 1, so its variance is $H$;
# dividing by $\sqrt H$ brings the scores back to variance 1 and keeps the softmax from
# saturating on one step when $H$ is large.
#
# **Overflow.** $e^{s}$ overflows a float64 once $s > 709$. The softmax does not change when
# the same $m$ is subtracted from every score (the factor $e^{-m}$ cancels between numerator
# and denominator), so subtract $m = \max_t s_t$, per sequence: the largest exponent is then
# $e^0 = 1$, nothing overflows, and the denominator is at least 1.
#
# **The gradient's path.** $\partial c/\partial v_t = \alpha_t I$: every hidden state reaches
# the output in **one** step, through no $W_{hh}$ and no $\tanh'$, however long the sequence.
#
# ### Exercise 3: `dot_product_attention` (≈ 10 min)
# Shapes: `query` (B, H), `keys` and `values` (T, B, H), time-major like every sequence in the
# course. Return `(context, weights)` with `context` (B, H) and `weights` (T, B).

# %% nbgrader={"grade": false, "grade_id": "dot_product_attention", "locked": false, "schema_version": 3, "solution": true, "task": false}
def dot_product_attention(query, keys, values):
    """Scaled dot-product attention over time, for a batch of sequences.

    query (B, H), keys (T, B, H), values (T, B, H). scores[t, b] = keys[t, b] . query[b] /
    sqrt(H); weights = softmax of the scores over time (axis 0), shape (T, B), without
    overflow for large scores; context[b] = sum_t weights[t, b] * values[t, b], shape (B, H).
    Returns (context, weights).
    """
    ### BEGIN SOLUTION
    scores = np.einsum("tbh,bh->tb", keys, query) / np.sqrt(query.shape[-1])
    scores = scores - scores.max(axis=0, keepdims=True)
    e = np.exp(scores)
    weights = e / e.sum(axis=0, keepdims=True)
    return np.einsum("tb,tbh->bh", weights, values), weights
    ### END SOLUTION


# %% [markdown]
# ### How your code is checked
#
# PyTorch's own `torch.nn.functional.scaled_dot_product_attention` (in float64, batch-first)
# is the reference. It returns only the context; the cell below also gets the weights from it,
# by attending over values that are the rows of the identity matrix ($\sum_t \alpha_t e_t =
# \alpha$).

# %% nbgrader={"grade": false, "grade_id": "checking_tools_attention", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Checking tools (read-only). torch.nn.functional.scaled_dot_product_attention is the reference.
def attention_case(T, B, H, seed, scale=1.0):
    """query (B, H), keys (T, B, H), values (T, B, H): normal, query and keys times `scale`."""
    local = np.random.default_rng(seed)
    return (local.normal(size=(B, H)) * scale, local.normal(size=(T, B, H)) * scale,
            local.normal(size=(T, B, H)))


def reference_attention(query, keys, values):
    """(context (B, H), weights (T, B)) from torch's scaled_dot_product_attention."""
    q = torch.from_numpy(np.array(query, dtype=np.float64)).unsqueeze(1)       # (B, 1, H)
    k = torch.from_numpy(np.array(keys, dtype=np.float64)).transpose(0, 1)     # (B, T, H)
    v = torch.from_numpy(np.array(values, dtype=np.float64)).transpose(0, 1)   # (B, T, H)
    eye = torch.eye(k.shape[1], dtype=torch.float64).expand(k.shape[0], -1, -1)
    attend = torch.nn.functional.scaled_dot_product_attention
    context = attend(q, k, v).squeeze(1)
    weights = attend(q, k, eye).squeeze(1).T                                   # (T, B)
    return context.numpy(), weights.numpy()


ATTENTION_HINT = ("scores[t, b] = keys[t, b] . query[b] / sqrt(H), with H = query.shape[1]; "
                  "weights = softmax over TIME (axis 0): subtract each column's max over time, "
                  "exponentiate, divide by the column's sum.")


def check_attention(fn, query, keys, values, label):
    query, keys, values = (np.array(a, dtype=np.float64) for a in (query, keys, values))
    before = [a.copy() for a in (query, keys, values)]
    T, B, H = keys.shape
    scores = np.einsum("tbh,bh->tb", keys, query) / np.sqrt(H)
    inputs = (f"{label}: T={T}, B={B}, H={H}; scores keys.query/sqrt(H) from "
              f"{scores.min():.3g} to {scores.max():.3g}")
    got, caught = checks.call("dot_product_attention", fn, query, keys, values, inputs=inputs)
    warned = [f"{w.category.__name__}: {w.message}" for w in caught]
    checks.expect("dot_product_attention", not warned, "raised a warning.", inputs=inputs,
                  returned=warned[0] if warned else "", expected="no warning",
                  hint="exp overflows above 709: subtract the largest score over time (per "
                       "sequence, axis 0) before np.exp; the softmax does not change.")
    for name, old, new in zip(("query", "keys", "values"), before, (query, keys, values)):
        checks.expect_unchanged("dot_product_attention", name, old, new, inputs=inputs)
    checks.expect("dot_product_attention", isinstance(got, tuple | list) and len(got) == 2,
                  "should return a pair (context, weights).", inputs=inputs,
                  returned=checks.preview(got), expected="(array (B, H), array (T, B))",
                  hint="return context, weights")
    context, weights = reference_attention(*before)
    got_w = checks.as_array("dot_product_attention", "weights", got[1], (T, B), inputs=inputs,
                            hint="weights have one entry per time step and sequence: (T, B).")
    checks.expect("dot_product_attention", checks.close(got_w.sum(axis=0), np.ones(B)),
                  "the weights do not sum to 1 over time.", inputs=inputs,
                  returned=f"sums over axis 0: {checks.preview(got_w.sum(axis=0))}",
                  expected=f"sums over axis 0: {checks.preview(np.ones(B))}",
                  hint="the softmax runs over TIME, axis 0 of the (T, B) scores, separately "
                       "for each sequence b (not over the batch axis, not over everything).")
    checks.expect_close("dot_product_attention", "weights", got_w, weights, inputs=inputs,
                        rtol=1e-9, atol=1e-12, hint=ATTENTION_HINT)
    checks.expect_close("dot_product_attention", "context", got[0], context, inputs=inputs,
                        rtol=1e-9, atol=1e-12,
                        hint="context[b] = sum over t of weights[t, b] * values[t, b] (values, "
                             "not keys): shape (B, H).")


def opposite_scales_case(T, B, H, seed, offset):
    """Every sequence b's scores sit near +offset or -offset (alternating): one max subtracted
    over the whole (T, B) array leaves exp(-2 offset) = 0 in every column of the other sign."""
    query, keys, values = attention_case(T, B, H, seed)
    direction = query / np.linalg.norm(query, axis=1, keepdims=True)
    signs = np.where(np.arange(B) % 2 == 0, 1.0, -1.0)
    keys = keys + (signs * offset * np.sqrt(H))[None, :, None] * direction[None]
    return query / np.linalg.norm(query, axis=1, keepdims=True), keys, values


# %% nbgrader={"grade": true, "grade_id": "test_dot_product_attention", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Visible check: T=5, B=3, H=4, then scores in the thousands.
check_attention(dot_product_attention, *attention_case(5, 3, 4, seed=0), "random")
check_attention(dot_product_attention, *attention_case(6, 2, 3, seed=1, scale=60.0),
                "large scores")
checks.passed("dot_product_attention")

# %% nbgrader={"grade": true, "grade_id": "hidden_dot_product_attention", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for dot_product_attention run when your notebook is graded.
### BEGIN HIDDEN TESTS
checks.expect_from_scratch("dot_product_attention", dot_product_attention)
check_attention(dot_product_attention, *attention_case(9, 4, 7, seed=841), "random")
check_attention(dot_product_attention, *attention_case(1, 3, 2, seed=842), "T = 1")
check_attention(dot_product_attention, *attention_case(4, 1, 1, seed=843), "B = 1, H = 1")
check_attention(dot_product_attention, *attention_case(30, 5, 16, seed=844, scale=300.0),
                "huge scores")
check_attention(dot_product_attention, *opposite_scales_case(8, 4, 5, 845, 2000.0),
                "scores near +2000 in some sequences and -2000 in others")
_q, _k, _v = attention_case(6, 3, 4, seed=846)
check_attention(dot_product_attention, _q, np.repeat(_k[:1], 6, axis=0), _v, "equal keys")
### END HIDDEN TESTS

# %% [markdown]
# ## 5. How fast does a run get there? (≈ 5 min)
#
# *How do we compare the speed of runs when some never converge?* Count the training steps
# until the loss first reaches a threshold: the **first** step $i$ (counting from 0) with
# $\ell_i \le$ threshold. A run that never gets there has no such step; it gets `None`, and
# the comparison reports how many runs got there instead of averaging an infinity. A loss of
# NaN is not below anything ($\text{NaN} \le x$ is false), so a run that blew up never
# "reaches" the threshold by accident.
#
# ### Exercise 4: `steps_to_threshold` (≈ 5 min)

# %% nbgrader={"grade": false, "grade_id": "steps_to_threshold", "locked": false, "schema_version": 3, "solution": true, "task": false}
def steps_to_threshold(losses, threshold):
    """The first step index i (from 0) with losses[i] <= threshold, or None if there is none.

    losses: a list or 1-D array of floats (NaN never counts); threshold: a float.
    """
    ### BEGIN SOLUTION
    for i, loss in enumerate(np.asarray(losses, dtype=np.float64)):
        if loss <= threshold:
            return i
    return None
    ### END SOLUTION


# %% [markdown]
# ### How your code is checked
#
# The cell below builds loss curves whose answer is known by construction: every loss before
# the chosen step is above the threshold, the loss at that step is at or below it, and the
# losses after it go up and down across the threshold.

# %% nbgrader={"grade": false, "grade_id": "checking_tools_threshold", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Checking tools (read-only): curves built so that the first step at or below is known.
def crossing_curve(length, first, threshold, seed, exact=False, nan_before=False):
    """A noisy decreasing loss curve of `length` steps whose first step with loss <= threshold
    is `first` (None: never). exact: the loss at `first` equals the threshold. nan_before: one
    NaN loss before `first`."""
    local = np.random.default_rng(seed)
    stop = length if first is None else first
    above = threshold + np.linspace(2.0, 0.05, stop) * local.uniform(0.5, 1.5, stop)
    after = threshold * np.exp(local.normal(scale=0.5, size=max(length - stop - 1, 0)))
    hit = [] if first is None else [threshold if exact else threshold * local.uniform(0.3, 1)]
    losses = np.concatenate([above, hit, after])
    if nan_before and stop > 2:
        losses[local.integers(0, stop)] = np.nan
    return losses


def check_steps_to_threshold(fn, losses, threshold, expected, label, as_list=False):
    losses = np.array(losses, dtype=np.float64)
    before = losses.copy()
    argument = losses.tolist() if as_list else losses
    inputs = (f"{label}: {len(losses)} losses{' (a Python list)' if as_list else ''}, "
              f"{checks.preview(losses, 4)}, ..., threshold {threshold!r}")
    got, _ = checks.call("steps_to_threshold", fn, argument, threshold, inputs=inputs)
    if not as_list:
        checks.expect_unchanged("steps_to_threshold", "losses", before, losses, inputs=inputs)
    around = "" if expected is None else (
        f"; losses[{max(expected - 1, 0)}:{expected + 2}] = "
        f"{checks.preview(before[max(expected - 1, 0):expected + 2])}")
    hint = ("the index (counting from 0) of the FIRST loss that is <= threshold: a loss equal "
            "to the threshold counts, NaN never does, later dips do not matter; None when no "
            "loss gets there.")
    if expected is None:
        checks.expect("steps_to_threshold", got is None, "should return None.", inputs=inputs,
                      returned=checks.preview(got), expected="None (no loss is <= threshold)",
                      hint="return None, not -1, 0, len(losses) or False, when no loss gets "
                           "there: np.argmax of an all-False array is 0.")
        return
    is_int = isinstance(got, int | np.integer) and not isinstance(got, bool | np.bool_)
    checks.expect("steps_to_threshold", is_int, "should return an integer step index.",
                  inputs=inputs, returned=f"{type(got).__name__}: {checks.preview(got)}",
                  expected=f"{expected} (an int)", hint=hint)
    checks.expect("steps_to_threshold", int(got) == expected, "returned the wrong step.",
                  inputs=inputs + around, returned=repr(int(got)), expected=repr(expected),
                  hint=hint)


# %% nbgrader={"grade": true, "grade_id": "test_steps_to_threshold", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Visible check: a hand-made curve, then one that never gets there.
check_steps_to_threshold(steps_to_threshold, [0.9, 0.5, 0.3, 0.05, 0.2, 0.01], 0.1, 3,
                         "small example")
check_steps_to_threshold(steps_to_threshold, [0.9, 0.5, 0.3], 0.1, None, "never below")
checks.passed("steps_to_threshold")

# %% nbgrader={"grade": true, "grade_id": "hidden_steps_to_threshold", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Hidden tests for steps_to_threshold run when your notebook is graded.
### BEGIN HIDDEN TESTS
check_steps_to_threshold(steps_to_threshold, crossing_curve(200, 117, 0.05, 851), 0.05, 117,
                         "random curve")
check_steps_to_threshold(steps_to_threshold, crossing_curve(50, 20, 0.3, 852, exact=True), 0.3,
                         20, "loss exactly at the threshold")
check_steps_to_threshold(steps_to_threshold, crossing_curve(40, 0, 1.0, 853), 1.0, 0,
                         "below from the start")
check_steps_to_threshold(steps_to_threshold, crossing_curve(60, 59, 0.2, 854), 0.2, 59,
                         "only the last loss")
check_steps_to_threshold(steps_to_threshold, crossing_curve(80, None, 0.01, 855), 0.01, None,
                         "never below")
check_steps_to_threshold(steps_to_threshold, crossing_curve(90, 70, 0.1, 856, nan_before=True),
                         0.1, 70, "a NaN before the crossing")
check_steps_to_threshold(steps_to_threshold, crossing_curve(30, 12, 0.5, 857), 0.5, 12,
                         "a Python list", as_list=True)
check_steps_to_threshold(steps_to_threshold, [], 0.1, None, "no losses at all")
### END HIDDEN TESTS
