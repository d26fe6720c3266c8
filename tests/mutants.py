"""Plausible wrong implementations, as students write them. Every one must lose points.

Each mutant replaces one solution cell (by grade_id). All are graded by the course's grader in
tests/test_exercise_mutants.py; `roundtrip=True` ones are also graded through nbgrader as part
of a class in tests/test_grading.py, where they must lose points on their own exercise ONLY, so
pick mistakes whose effect does not reach the exercises that call the function.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    assignment: str
    cell: str
    mistake: str
    source: str
    roundtrip: bool = False


def _backward(body: str) -> str:
    return ("def rnn_backward(dhs, xs, hs, h0, W_xh, W_hh, b_h):\n"
            "    grads = {'W_xh': np.zeros_like(W_xh), 'W_hh': np.zeros_like(W_hh),"
            " 'b_h': np.zeros_like(b_h)}\n"
            "    dh_next = np.zeros_like(h0)\n"
            "    for t in reversed(range(xs.shape[0])):\n"
            "        h_prev = hs[t - 1] if t > 0 else h0\n"
            + body +
            "    grads['h0'] = dh_next\n"
            "    return grads\n")


_GOOD_LOOP = {
    "da": "        da = (dhs[t] + dh_next) * (1.0 - hs[t] ** 2)\n",
    "xh": "        grads['W_xh'] += da.T @ xs[t]\n",
    "hh": "        grads['W_hh'] += da.T @ h_prev\n",
    "b": "        grads['b_h'] += da.sum(axis=0)\n",
    "next": "        dh_next = da @ W_hh\n",
}


def _loop(**changes: str) -> str:
    return _backward("".join(changes.get(k, v) for k, v in _GOOD_LOOP.items()))


def _latch(step: str = "np.tanh(w * x)", start: str = "1.0",
           guard: str = "    if not w > 1:\n        raise ValueError('w')\n",
           loop: str | None = None) -> str:
    """A latch_fixed_point with one part changed (the model solution when nothing is)."""
    loop = loop or ("    while True:\n"
                    f"        new = float({step})\n"
                    "        if abs(new - x) < tol:\n            return new\n"
                    "        x = new\n")
    return f"def latch_fixed_point(w, tol=1e-12):\n{guard}    x = {start}\n{loop}"


def _train_step(zero: str = "    optimizer.zero_grad()\n", before_backward: str = "",
                after_backward: str = "", clip: str = "    norm = clip(params, limit)\n",
                limit: str = "float('inf') if max_norm is None else max_norm",
                clip_before_step: bool = True, returned: str = "float(norm)",
                loss_returned: str = "float(loss.detach())") -> str:
    """A train_step with one part changed (the model solution when nothing is)."""
    step = "    optimizer.step()\n"
    return ("def train_step(model, inputs, targets, loss_fn, optimizer, max_norm=None):\n"
            "    clip = torch.nn.utils.clip_grad_norm_\n"
            f"    limit = {limit}\n"
            + zero + before_backward +
            "    output, _ = model(inputs)\n"
            "    loss = loss_fn(output, targets)\n"
            "    loss.backward()\n"
            + after_backward +
            "    params = [p for p in model.parameters() if p.grad is not None]\n"
            + (clip + step if clip_before_step else step + clip) +
            f"    return {loss_returned}, {returned}\n")


def _numgrad(body: str) -> str:
    return "def numerical_gradient(f, x, eps=1e-5):\n" + body


def _jacobian(expression: str, relu: str = "(a_t > 0).astype(float)",
              other: str = "None") -> str:
    """A hidden_jacobian whose result is `expression` (of slope, W_hh)."""
    return ("def hidden_jacobian(W_hh, a_t, activation):\n"
            "    a_t = np.asarray(a_t, float)\n"
            "    slopes = {'sigmoid': sigmoid_grad(a_t), 'tanh': tanh_grad(a_t),\n"
            f"              'relu': {relu}, 'linear': np.ones_like(a_t)}}\n"
            f"    slope = slopes.get(activation, {other})\n"
            "    if slope is None:\n"
            "        raise ValueError(activation)\n"
            f"    return {expression}\n")


def _products(step: str, norm: str = "2", reverse: bool = False) -> str:
    """A jacobian_product_norms whose loop body computes `step`."""
    return ("def jacobian_product_norms(W_hh, pre_activations, activation):\n"
            "    pre = np.asarray(pre_activations, float)\n"
            "    T = pre.shape[0]\n"
            "    norms = np.ones(T + 1)\n"
            "    product = np.eye(pre.shape[1])\n"
            "    for k in range(T - 1, -1, -1):\n"
            f"        product = {step}\n"
            f"        norms[k] = np.linalg.norm(product, {norm})\n"
            f"    return norms{'[::-1]' if reverse else ''}\n")


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


def _lstm(gates: str = "i, f, g, o = s(z[:, :H]), s(z[:, H:2*H]), np.tanh(z[:, 2*H:3*H]), "
                       "s(z[:, 3*H:])",
          h: str = "o * np.tanh(c)", z: str = "x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh",
          sigmoid: str = "0.5 * (1 + np.tanh(0.5 * a))") -> str:
    """An lstm_cell_forward with one part changed (the model solution when nothing is)."""
    return ("def lstm_cell_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):\n"
            "    H = h_prev.shape[1]\n"
            f"    s = lambda a: {sigmoid}\n"
            f"    z = {z}\n"
            f"    {gates}\n"
            "    c = f * c_prev + i * g\n"
            f"    return {h}, c\n")


def _gru(h: str = "(1 - z) * n + z * h_prev", n: str = "np.tanh(gi[:, 2*H:] + r * gh[:, 2*H:])",
         rz: str = "r, z = s(gi[:, :H] + gh[:, :H]), s(gi[:, H:2*H] + gh[:, H:2*H])",
         sigmoid: str = "0.5 * (1 + np.tanh(0.5 * a))") -> str:
    """A gru_cell_forward with one part changed (the model solution when nothing is)."""
    return ("def gru_cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):\n"
            "    H = h_prev.shape[1]\n"
            f"    s = lambda a: {sigmoid}\n"
            "    gi, gh = x @ W_ih.T + b_ih, h_prev @ W_hh.T + b_hh\n"
            f"    {rz}\n"
            f"    n = {n}\n"
            f"    return {h}\n")


def _cell_path(body: str) -> str:
    return ("def cell_state_gradient(forget_gates):\n"
            "    f = np.asarray(forget_gates, dtype=float)\n"
            "    ones = np.ones((1, f.shape[1]))\n" + body)


def _penalty(name: str, value: str, grad: str, loop: str = "params") -> str:
    """An l2_penalty / l1_penalty whose value sums `value` and whose gradients are `grad`, over
    the arrays in `loop` (of w and lam)."""
    return (f"def {name}(params, lam):\n"
            "    params = [np.asarray(w, dtype=float) for w in params]\n"
            f"    value = lam * sum(float(np.sum({value})) for w in {loop})\n"
            f"    return value, [{grad} for w in params]\n")


def _attention(scores: str = "np.einsum('tbh,bh->tb', keys, query) / np.sqrt(query.shape[1])",
               shift: str = "scores.max(axis=0, keepdims=True)", axis: str = "0",
               context: str = "np.einsum('tb,tbh->bh', weights, values)") -> str:
    """A dot_product_attention with one part changed (the model solution when nothing is)."""
    return ("def dot_product_attention(query, keys, values):\n"
            f"    scores = {scores}\n"
            f"    e = np.exp(scores - {shift})\n"
            f"    weights = e / e.sum(axis={axis}, keepdims=True)\n"
            f"    return {context}, weights\n")


def _threshold(body: str) -> str:
    return ("def steps_to_threshold(losses, threshold):\n"
            "    losses = np.asarray(losses, dtype=float)\n" + body)


MUTANTS = [
    # ---- 01_bptt: rnn_step_forward
    Mutant("01_bptt", "rnn_step_forward", "W_hh not transposed",
           "def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
           "    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh + b_h)\n"),
    Mutant("01_bptt", "rnn_step_forward", "bias forgotten",
           "def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
           "    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T)\n"),
    Mutant("01_bptt", "rnn_step_forward", "tanh applied to the input term only",
           "def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
           "    return np.tanh(x_t @ W_xh.T) + h_prev @ W_hh.T + b_h\n"),
    Mutant("01_bptt", "rnn_step_forward", "right values, computed by torch instead of numpy",
           "def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
           "    t = torch.from_numpy\n"
           "    return torch.tanh(t(x_t) @ t(W_xh).T + t(h_prev) @ t(W_hh).T + t(b_h)).numpy()\n"),
    # ---- 01_bptt: rnn_forward
    Mutant("01_bptt", "rnn_forward", "h0 included in the returned states",
           "def rnn_forward(xs, h0, W_xh, W_hh, b_h):\n"
           "    hs = [h0]\n"
           "    for x_t in xs:\n"
           "        hs.append(rnn_step_forward(x_t, hs[-1], W_xh, W_hh, b_h))\n"
           "    return np.stack(hs)\n"),
    Mutant("01_bptt", "rnn_forward", "every step starts from h0",
           "def rnn_forward(xs, h0, W_xh, W_hh, b_h):\n"
           "    return np.stack([rnn_step_forward(x_t, h0, W_xh, W_hh, b_h) for x_t in xs])\n"),
    Mutant("01_bptt", "rnn_forward", "only the last state returned",
           "def rnn_forward(xs, h0, W_xh, W_hh, b_h):\n"
           "    h = h0\n"
           "    for x_t in xs:\n"
           "        h = rnn_step_forward(x_t, h, W_xh, W_hh, b_h)\n"
           "    return h\n"),
    # ---- 01_bptt: rnn_backward
    Mutant("01_bptt", "rnn_backward", "tanh derivative missed",
           _loop(da="        da = dhs[t] + dh_next\n"), roundtrip=True),
    Mutant("01_bptt", "rnn_backward", "gradient not carried to the previous step",
           _loop(da="        da = dhs[t] * (1.0 - hs[t] ** 2)\n"), roundtrip=True),
    Mutant("01_bptt", "rnn_backward", "W_hh transposed in the backward recurrence",
           _loop(next="        dh_next = da @ W_hh.T\n"), roundtrip=True),
    Mutant("01_bptt", "rnn_backward", "current state h_t used for dW_hh instead of h_{t-1}",
           _loop(hh="        grads['W_hh'] += da.T @ hs[t]\n")),
    Mutant("01_bptt", "rnn_backward", "bias gradient averaged over the batch",
           _loop(b="        grads['b_h'] += da.mean(axis=0)\n")),
    Mutant("01_bptt", "rnn_backward", "tanh derivative taken at the previous state",
           _loop(da="        da = (dhs[t] + dh_next) * (1.0 - h_prev ** 2)\n")),
    Mutant("01_bptt", "rnn_backward", "dhs modified in place",
           _loop(da="        dh = dhs[t]\n        dh += dh_next\n"
                    "        da = dh * (1.0 - hs[t] ** 2)\n")),
    Mutant("01_bptt", "rnn_backward", "gradient of h0 left at zero",
           _loop().replace("grads['h0'] = dh_next", "grads['h0'] = np.zeros_like(h0)")),
    Mutant("01_bptt", "rnn_backward", "dW_xh from batch sums (outer product of the sums)",
           _loop(xh="        grads['W_xh'] += np.outer(da.sum(axis=0), xs[t].sum(axis=0))\n")),
    # ---- 01_bptt: numerical_gradient
    Mutant("01_bptt", "numerical_gradient", "forward difference instead of central",
           _numgrad("    grad = np.zeros_like(x)\n"
                    "    f0 = f(x)\n"
                    "    for i in np.ndindex(x.shape):\n"
                    "        old = x[i]; x[i] = old + eps\n"
                    "        grad[i] = (f(x) - f0) / eps; x[i] = old\n"
                    "    return grad\n")),
    Mutant("01_bptt", "numerical_gradient", "x not restored",
           _numgrad("    grad = np.zeros_like(x)\n"
                    "    for i in np.ndindex(x.shape):\n"
                    "        old = x[i]; x[i] = old + eps; fp = f(x); x[i] = old - eps; fm = f(x)\n"
                    "        grad[i] = (fp - fm) / (2 * eps)\n"
                    "    return grad\n")),
    Mutant("01_bptt", "numerical_gradient", "eps argument ignored",
           _numgrad("    grad = np.zeros_like(x)\n"
                    "    h = 1e-5\n"
                    "    for i in np.ndindex(x.shape):\n"
                    "        old = x[i]; x[i] = old + h; fp = f(x); x[i] = old - h; fm = f(x)\n"
                    "        x[i] = old; grad[i] = (fp - fm) / (2 * h)\n"
                    "    return grad\n")),
    Mutant("01_bptt", "numerical_gradient", "indexes rows, only right for 1-D x",
           _numgrad("    grad = np.zeros_like(x)\n"
                    "    for i in range(x.shape[0]):\n"
                    "        old = x[i].copy(); x[i] = old + eps; fp = f(x); x[i] = old - eps\n"
                    "        fm = f(x); x[i] = old; grad[i] = (fp - fm) / (2 * eps)\n"
                    "    return grad\n")),
    # ---- 01_bptt: relative_error
    Mutant("01_bptt", "relative_error", "mean instead of max",
           "def relative_error(a, b):\n"
           "    a, b = np.asarray(a, float), np.asarray(b, float)\n"
           "    return float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))\n"),
    Mutant("01_bptt", "relative_error", "no 1e-8 floor (0/0 gives NaN)",
           "def relative_error(a, b):\n"
           "    a, b = np.asarray(a, float), np.asarray(b, float)\n"
           "    with np.errstate(all='ignore'):\n"
           "        return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))\n"),
    Mutant("01_bptt", "relative_error", "divides by |a| alone",
           "def relative_error(a, b):\n"
           "    a, b = np.asarray(a, float), np.asarray(b, float)\n"
           "    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a))))\n"),
    Mutant("01_bptt", "relative_error", "ratio of maxima instead of max of ratios",
           "def relative_error(a, b):\n"
           "    a, b = np.asarray(a, float), np.asarray(b, float)\n"
           "    return float(np.max(np.abs(a - b)) / max(1e-8, np.max(np.abs(a) + np.abs(b))))\n"),
    # ---- 02_vanishing: sigmoid, sigmoid_grad, tanh_grad
    Mutant("02_vanishing", "sigmoid", "textbook formula, overflows at x = -1000",
           "def sigmoid(x):\n    return 1.0 / (1.0 + np.exp(-x))\n"),
    Mutant("02_vanishing", "sigmoid", "np.where evaluates both overflowing branches",
           "def sigmoid(x):\n"
           "    return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))\n"),
    Mutant("02_vanishing", "sigmoid", "tanh(x) instead of tanh(x / 2) in the tanh identity",
           "def sigmoid(x):\n    return 0.5 * (np.tanh(x) + 1.0)\n"),
    Mutant("02_vanishing", "sigmoid_grad", "x (1 - x): the output formula applied to the input",
           "def sigmoid_grad(x):\n    return x * (1.0 - x)\n"),
    Mutant("02_vanishing", "sigmoid_grad", "returns sigmoid itself",
           "def sigmoid_grad(x):\n    return sigmoid(x)\n"),
    Mutant("02_vanishing", "sigmoid_grad", "exp(-x) / (1 + exp(-x))**2 overflows",
           "def sigmoid_grad(x):\n    e = np.exp(-x)\n    return e / (1.0 + e) ** 2\n"),
    Mutant("02_vanishing", "tanh_grad", "1 - x**2: squares the input, not tanh(x)",
           "def tanh_grad(x):\n    return 1.0 - x ** 2\n"),
    Mutant("02_vanishing", "tanh_grad", "forgets the square",
           "def tanh_grad(x):\n    return 1.0 - np.tanh(x)\n"),
    Mutant("02_vanishing", "tanh_grad", "1 / cosh(x)**2 overflows at |x| = 1000",
           "def tanh_grad(x):\n    return 1.0 / np.cosh(x) ** 2\n"),
    # ---- 02_vanishing: hidden_jacobian
    Mutant("02_vanishing", "hidden_jacobian", "scales columns: W_hh @ diag(phi')",
           _jacobian("slope[None, :] * W_hh")),
    Mutant("02_vanishing", "hidden_jacobian", "transposed W_hh",
           _jacobian("slope[:, None] * W_hh.T")),
    Mutant("02_vanishing", "hidden_jacobian", "relu derivative 1 at a = 0",
           _jacobian("slope[:, None] * W_hh", relu="(a_t >= 0).astype(float)"),
           roundtrip=True),
    Mutant("02_vanishing", "hidden_jacobian", "unknown activation treated as linear",
           _jacobian("slope[:, None] * W_hh", other="np.ones_like(a_t)")),
    # ---- 02_vanishing: jacobian_product_norms
    Mutant("02_vanishing", "jacobian_product_norms", "multiplies J_(k+1) on the left",
           _products("hidden_jacobian(W_hh, pre[k], activation) @ product"), roundtrip=True),
    Mutant("02_vanishing", "jacobian_product_norms", "Frobenius norm instead of spectral",
           _products("product @ hidden_jacobian(W_hh, pre[k], activation)", norm="'fro'"),
           roundtrip=True),
    Mutant("02_vanishing", "jacobian_product_norms", "uses a_k instead of a_(k+1)",
           _products("product @ hidden_jacobian(W_hh, pre[k - 1], activation)")),
    Mutant("02_vanishing", "jacobian_product_norms", "indexed by steps back (reversed)",
           _products("product @ hidden_jacobian(W_hh, pre[k], activation)", reverse=True)),
    Mutant("02_vanishing", "jacobian_product_norms", "leaves out k = T (the identity)",
           "def jacobian_product_norms(W_hh, pre_activations, activation):\n"
           "    pre = np.asarray(pre_activations, float)\n"
           "    product, norms = np.eye(pre.shape[1]), []\n"
           "    for k in range(pre.shape[0] - 1, -1, -1):\n"
           "        product = product @ hidden_jacobian(W_hh, pre[k], activation)\n"
           "        norms.insert(0, np.linalg.norm(product, 2))\n"
           "    return np.array(norms)\n"),
    # ---- 02_vanishing: latch_fixed_point, latch_gain (the tanh latch of Bengio et al. 1994)
    Mutant("02_vanishing", "latch_fixed_point", "a fixed number of iterations, not a tolerance",
           _latch(loop="    for _ in range(20):\n        x = float(np.tanh(w * x))\n"
                       "    return x\n"), roundtrip=True),
    Mutant("02_vanishing", "latch_fixed_point", "w outside the tanh: x = w tanh(x)",
           _latch(step="w * np.tanh(x)")),
    Mutant("02_vanishing", "latch_fixed_point", "starts at 0, the unstable fixed point",
           _latch(start="0.0")),
    Mutant("02_vanishing", "latch_fixed_point", "no ValueError for w <= 1",
           _latch(guard="", loop="    for _ in range(100000):\n"
                                 "        new = float(np.tanh(w * x))\n"
                                 "        if abs(new - x) < tol:\n            return new\n"
                                 "        x = new\n    return x\n")),
    Mutant("02_vanishing", "latch_gain", "forgets the self-weight w",
           "def latch_gain(x, w):\n    return 1.0 - np.asarray(x, float) ** 2\n", roundtrip=True),
    Mutant("02_vanishing", "latch_gain", "applies tanh again to the new state",
           "def latch_gain(x, w):\n    return w * (1.0 - np.tanh(np.asarray(x, float)) ** 2)\n"),
    Mutant("02_vanishing", "latch_gain", "tanh(w x) again (right only at the fixed point)",
           "def latch_gain(x, w):\n"
           "    return w * (1.0 - np.tanh(w * np.asarray(x, float)) ** 2)\n"),
    Mutant("02_vanishing", "latch_gain", "the sigmoid's x (1 - x) habit",
           "def latch_gain(x, w):\n    x = np.asarray(x, float)\n    return w * x * (1.0 - x)\n"),
    # ---- 03_exploding: relu, relu_grad
    Mutant("03_exploding", "relu", "absolute value instead of max(x, 0)",
           "def relu(x):\n    return np.abs(x)\n"),
    Mutant("03_exploding", "relu", "clips x in place",
           "def relu(x):\n    x[x < 0] = 0.0\n    return x\n"),
    Mutant("03_exploding", "relu", "returns the mask, not the values",
           "def relu(x):\n    return (x > 0).astype(float)\n"),
    Mutant("03_exploding", "relu_grad", "derivative 1 at x = 0",
           "def relu_grad(x):\n    return (x >= 0).astype(float)\n", roundtrip=True),
    Mutant("03_exploding", "relu_grad", "booleans instead of floats",
           "def relu_grad(x):\n    return x > 0\n"),
    Mutant("03_exploding", "relu_grad", "returns relu(x)",
           "def relu_grad(x):\n    return np.maximum(x, 0.0)\n"),
    # ---- 03_exploding: global_grad_norm
    Mutant("03_exploding", "global_grad_norm", "sum of the arrays' norms",
           "def global_grad_norm(grads):\n"
           "    return float(sum(np.linalg.norm(g) for g in grads))\n", roundtrip=True),
    Mutant("03_exploding", "global_grad_norm", "largest array norm",
           "def global_grad_norm(grads):\n"
           "    return float(max(np.linalg.norm(g) for g in grads))\n"),
    Mutant("03_exploding", "global_grad_norm", "forgets the square root",
           "def global_grad_norm(grads):\n"
           "    return float(sum(np.sum(g ** 2) for g in grads))\n"),
    Mutant("03_exploding", "global_grad_norm", "spectral norm of each matrix",
           "def global_grad_norm(grads):\n"
           "    return float(np.sqrt(sum(np.linalg.norm(g, 2) ** 2 if np.ndim(g) == 2 else\n"
           "                             np.sum(g ** 2) for g in grads)))\n"),
    # ---- 03_exploding: single_unit_rnn
    Mutant("03_exploding", "single_unit_rnn", "textbook sigmoid overflows for huge weights",
           "def single_unit_rnn(w, b, x0, T):\n"
           "    x = np.asarray(x0, float) + 0.0 * np.asarray(w) * np.asarray(b)\n"
           "    for _ in range(T):\n"
           "        x = w / (1.0 + np.exp(-x)) + b\n"
           "    return x\n"),
    Mutant("03_exploding", "single_unit_rnn", "sigmoid applied after the update",
           "def single_unit_rnn(w, b, x0, T):\n"
           "    x = np.asarray(x0, float) + 0.0 * np.asarray(w) * np.asarray(b)\n"
           "    for _ in range(T):\n"
           "        z = w * x + b\n"
           "        e = np.exp(-np.abs(z))\n"
           "        x = np.where(z >= 0, 1 / (1 + e), e / (1 + e))\n"
           "    return x\n"),
    Mutant("03_exploding", "single_unit_rnn", "one step too many",
           "def single_unit_rnn(w, b, x0, T):\n"
           "    x = np.asarray(x0, float) + 0.0 * np.asarray(w) * np.asarray(b)\n"
           "    for _ in range(T + 1):\n"
           "        e = np.exp(-np.abs(x))\n"
           "        x = w * np.where(x >= 0, 1 / (1 + e), e / (1 + e)) + b\n"
           "    return x\n", roundtrip=True),
    # ---- 04_eigenvalues: spectral_radius, largest_singular_value
    Mutant("04_eigenvalues", "spectral_radius", "largest real part, not modulus",
           "def spectral_radius(W):\n    return float(np.max(np.linalg.eigvals(W).real))\n"),
    Mutant("04_eigenvalues", "spectral_radius", "modulus of the real parts only",
           "def spectral_radius(W):\n"
           "    return float(np.max(np.abs(np.linalg.eigvals(W).real)))\n"),
    Mutant("04_eigenvalues", "spectral_radius", "largest singular value instead",
           "def spectral_radius(W):\n    return float(np.linalg.norm(W, 2))\n"),
    Mutant("04_eigenvalues", "spectral_radius", "eigvalsh: assumes W symmetric",
           "def spectral_radius(W):\n"
           "    return float(np.max(np.abs(np.linalg.eigvalsh(W))))\n"),
    Mutant("04_eigenvalues", "spectral_radius", "largest entry in absolute value",
           "def spectral_radius(W):\n    return float(np.max(np.abs(W)))\n"),
    Mutant("04_eigenvalues", "spectral_radius", "returns the eigenvalue, not its modulus",
           "def spectral_radius(W):\n"
           "    values = np.linalg.eigvals(W)\n"
           "    return values[np.argmax(np.abs(values))]\n"),
    Mutant("04_eigenvalues", "largest_singular_value", "Frobenius norm",
           "def largest_singular_value(W):\n    return float(np.linalg.norm(W))\n"),
    Mutant("04_eigenvalues", "largest_singular_value", "spectral radius instead",
           "def largest_singular_value(W):\n"
           "    return float(np.max(np.abs(np.linalg.eigvals(W))))\n"),
    Mutant("04_eigenvalues", "largest_singular_value", "smallest singular value",
           "def largest_singular_value(W):\n"
           "    return float(np.linalg.svd(W, compute_uv=False)[-1])\n"),
    Mutant("04_eigenvalues", "largest_singular_value", "largest row norm",
           "def largest_singular_value(W):\n"
           "    return float(np.max(np.linalg.norm(W, axis=1)))\n"),
    Mutant("04_eigenvalues", "largest_singular_value", "sqrt of an eigenvalue of W, not W^T W",
           "def largest_singular_value(W):\n"
           "    return float(np.sqrt(np.max(np.abs(np.linalg.eigvals(W)))))\n"),
    # ---- 04_eigenvalues: scale_to_spectral_radius
    Mutant("04_eigenvalues", "scale_to_spectral_radius", "divides by sigma_max, not rho",
           "def scale_to_spectral_radius(W, rho):\n"
           "    return W * (rho / np.linalg.norm(W, 2))\n", roundtrip=True),
    Mutant("04_eigenvalues", "scale_to_spectral_radius", "scales W in place",
           "def scale_to_spectral_radius(W, rho):\n"
           "    W *= rho / spectral_radius(W)\n"
           "    return W\n"),
    Mutant("04_eigenvalues", "scale_to_spectral_radius", "divides by zero for a nilpotent W",
           "def scale_to_spectral_radius(W, rho):\n"
           "    return W * (rho / spectral_radius(W))\n"),
    Mutant("04_eigenvalues", "scale_to_spectral_radius", "forgets to divide by rho(W)",
           "def scale_to_spectral_radius(W, rho):\n    return rho * np.asarray(W, float)\n"),
    Mutant("04_eigenvalues", "scale_to_spectral_radius", "divides by the largest real eigenvalue",
           "def scale_to_spectral_radius(W, rho):\n"
           "    return W * (rho / np.max(np.linalg.eigvals(W).real))\n"),
    # ---- 04_eigenvalues: gradient_bound
    Mutant("04_eigenvalues", "gradient_bound", "gamma outside the power",
           "def gradient_bound(W_hh, gamma, steps):\n"
           "    return gamma * largest_singular_value(W_hh) ** np.asarray(steps, float)\n",
           roundtrip=True),
    Mutant("04_eigenvalues", "gradient_bound", "spectral radius instead of sigma_max",
           "def gradient_bound(W_hh, gamma, steps):\n"
           "    return (gamma * spectral_radius(W_hh)) ** np.asarray(steps, float)\n"),
    Mutant("04_eigenvalues", "gradient_bound", "one step too few",
           "def gradient_bound(W_hh, gamma, steps):\n"
           "    return (gamma * largest_singular_value(W_hh)) ** (np.asarray(steps, float) - 1)\n"),
    Mutant("04_eigenvalues", "gradient_bound", "Frobenius norm instead of sigma_max",
           "def gradient_bound(W_hh, gamma, steps):\n"
           "    return (gamma * np.linalg.norm(W_hh)) ** np.asarray(steps, float)\n"),
    Mutant("04_eigenvalues", "gradient_bound", "a list for an array of steps",
           "def gradient_bound(W_hh, gamma, steps):\n"
           "    base = gamma * largest_singular_value(W_hh)\n"
           "    return [base ** k for k in steps] if np.ndim(steps) else base ** steps\n"),
    # ---- 04_eigenvalues: guaranteed_to_vanish
    Mutant("04_eigenvalues", "guaranteed_to_vanish", "spectral radius instead of sigma_max",
           "def guaranteed_to_vanish(W_hh, activation):\n"
           "    gamma = {'sigmoid': 0.25, 'tanh': 1.0, 'relu': 1.0, 'linear': 1.0}[activation]\n"
           "    return bool(gamma * spectral_radius(W_hh) < 1)\n", roundtrip=True),
    Mutant("04_eigenvalues", "guaranteed_to_vanish", "<= instead of <",
           "def guaranteed_to_vanish(W_hh, activation):\n"
           "    gamma = {'sigmoid': 0.25, 'tanh': 1.0, 'relu': 1.0, 'linear': 1.0}[activation]\n"
           "    return bool(gamma * largest_singular_value(W_hh) <= 1)\n"),
    Mutant("04_eigenvalues", "guaranteed_to_vanish", "gamma = 1/4 for tanh too",
           "def guaranteed_to_vanish(W_hh, activation):\n"
           "    gamma = {'sigmoid': 0.25, 'tanh': 0.25, 'relu': 1.0, 'linear': 1.0}[activation]\n"
           "    return bool(gamma * largest_singular_value(W_hh) < 1)\n"),
    Mutant("04_eigenvalues", "guaranteed_to_vanish", "ignores the activation (gamma = 1)",
           "def guaranteed_to_vanish(W_hh, activation):\n"
           "    return bool(largest_singular_value(W_hh) < 1)\n"),
    Mutant("04_eigenvalues", "guaranteed_to_vanish", "unknown activation gets gamma = 1",
           "def guaranteed_to_vanish(W_hh, activation):\n"
           "    gamma = 0.25 if activation == 'sigmoid' else 1.0\n"
           "    return bool(gamma * largest_singular_value(W_hh) < 1)\n"),
    Mutant("04_eigenvalues", "guaranteed_to_vanish", "returns gamma * sigma_max, not a bool",
           "def guaranteed_to_vanish(W_hh, activation):\n"
           "    gamma = {'sigmoid': 0.25, 'tanh': 1.0, 'relu': 1.0, 'linear': 1.0}[activation]\n"
           "    return gamma * largest_singular_value(W_hh)\n"),
    # ---- 05_clipping: clip_grad_norm, clip_grad_value
    Mutant("05_clipping", "clip_grad_norm", "clips each array by its own norm",
           "def clip_grad_norm(grads, max_norm):\n"
           "    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))\n"
           "    return [g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6))\n"
           "            for g in grads], total\n", roundtrip=True),
    Mutant("05_clipping", "clip_grad_norm", "no epsilon: max_norm / total",
           "def clip_grad_norm(grads, max_norm):\n"
           "    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))\n"
           "    return [g * min(1.0, max_norm / total) for g in grads], total\n"),
    Mutant("05_clipping", "clip_grad_norm", "clips only when total > max_norm",
           "def clip_grad_norm(grads, max_norm):\n"
           "    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))\n"
           "    if total <= max_norm:\n"
           "        return [np.array(g, float) for g in grads], total\n"
           "    return [g * (max_norm / (total + 1e-6)) for g in grads], total\n"),
    Mutant("05_clipping", "clip_grad_norm", "returns the norm after clipping",
           "def clip_grad_norm(grads, max_norm):\n"
           "    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))\n"
           "    factor = min(1.0, max_norm / (total + 1e-6))\n"
           "    return [g * factor for g in grads], total * factor\n"),
    Mutant("05_clipping", "clip_grad_norm", "also scales short gradients up",
           "def clip_grad_norm(grads, max_norm):\n"
           "    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))\n"
           "    return [g * (max_norm / (total + 1e-6)) for g in grads], total\n"),
    Mutant("05_clipping", "clip_grad_norm", "scales the arrays in place",
           "def clip_grad_norm(grads, max_norm):\n"
           "    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))\n"
           "    for g in grads:\n"
           "        g *= min(1.0, max_norm / (total + 1e-6))\n"
           "    return grads, total\n"),
    Mutant("05_clipping", "clip_grad_norm", "largest entry instead of the norm",
           "def clip_grad_norm(grads, max_norm):\n"
           "    total = float(max(np.max(np.abs(g)) for g in grads))\n"
           "    return [g * min(1.0, max_norm / (total + 1e-6)) for g in grads], total\n"),
    Mutant("05_clipping", "clip_grad_norm", "sum of the arrays' norms",
           "def clip_grad_norm(grads, max_norm):\n"
           "    total = float(sum(np.linalg.norm(g) for g in grads))\n"
           "    return [g * min(1.0, max_norm / (total + 1e-6)) for g in grads], total\n"),
    Mutant("05_clipping", "clip_grad_value", "clips only from above",
           "def clip_grad_value(grads, clip_value):\n"
           "    return [np.minimum(g, clip_value) for g in grads]\n", roundtrip=True),
    Mutant("05_clipping", "clip_grad_value", "clips to [0, clip_value]",
           "def clip_grad_value(grads, clip_value):\n"
           "    return [np.clip(g, 0.0, clip_value) for g in grads]\n"),
    Mutant("05_clipping", "clip_grad_value", "clips in place",
           "def clip_grad_value(grads, clip_value):\n"
           "    for g in grads:\n"
           "        np.clip(g, -clip_value, clip_value, out=g)\n"
           "    return grads\n"),
    Mutant("05_clipping", "clip_grad_value", "every entry becomes +-clip_value",
           "def clip_grad_value(grads, clip_value):\n"
           "    return [np.sign(g) * clip_value for g in grads]\n"),
    Mutant("05_clipping", "clip_grad_value", "clips by norm instead",
           "def clip_grad_value(grads, clip_value):\n"
           "    return [g * min(1.0, clip_value / (np.linalg.norm(g) + 1e-6)) for g in grads]\n"),
    Mutant("05_clipping", "clip_grad_value", "one concatenated array",
           "def clip_grad_value(grads, clip_value):\n"
           "    return np.clip(np.concatenate([np.ravel(g) for g in grads]), -clip_value,\n"
           "                   clip_value)\n"),
    # ---- 05_clipping: train_step
    Mutant("05_clipping", "train_step", "clips after optimizer.step()",
           _train_step(clip_before_step=False), roundtrip=True),
    Mutant("05_clipping", "train_step", "never calls zero_grad",
           _train_step(zero="")),
    Mutant("05_clipping", "train_step", "zero_grad between backward and step",
           _train_step(zero="", after_backward="    optimizer.zero_grad()\n")),
    Mutant("05_clipping", "train_step", "clips before backward",
           _train_step(before_backward="    norm = clip(model.parameters(), limit)\n",
                       clip="")),
    Mutant("05_clipping", "train_step", "returns the norm after clipping",
           _train_step(returned="float(torch.nn.utils.get_total_norm("
                                "[p.grad for p in model.parameters()]))")),
    Mutant("05_clipping", "train_step", "clips each parameter on its own",
           _train_step(clip="    norm = torch.nn.utils.get_total_norm([p.grad for p in params])\n"
                            "    for p in params:\n"
                            "        clip([p], limit)\n")),
    Mutant("05_clipping", "train_step", "clips by value",
           _train_step(clip="    norm = torch.nn.utils.get_total_norm([p.grad for p in params])\n"
                            "    torch.nn.utils.clip_grad_value_(params, limit)\n")),
    Mutant("05_clipping", "train_step", "returns tensors",
           _train_step(returned="norm", loss_returned="loss")),
    Mutant("05_clipping", "train_step", "ignores max_norm",
           _train_step(limit="float('inf')")),
    Mutant("05_clipping", "train_step", "passes max_norm=None to clip_grad_norm_",
           _train_step(limit="max_norm")),
    Mutant("05_clipping", "train_step", "reports the loss after the update",
           _train_step(loss_returned="loss_fn(model(inputs)[0], targets).item()")),
    # ---- 06_initialization: xavier_uniform, xavier_normal, he_normal
    Mutant("06_initialization", "xavier_uniform", "shape (fan_in, fan_out)",
           _init("xavier_uniform", "rng.uniform(-a, a, size=(fan_in, fan_out))")),
    Mutant("06_initialization", "xavier_uniform", "the standard deviation used as the bound",
           _init("xavier_uniform", "rng.uniform(-a, a, size=(fan_out, fan_in))",
                 "np.sqrt(2.0 / (fan_in + fan_out))")),
    Mutant("06_initialization", "xavier_uniform", "bound from fan_in alone",
           _init("xavier_uniform", "rng.uniform(-a, a, size=(fan_out, fan_in))",
                 "np.sqrt(6.0 / fan_in)")),
    Mutant("06_initialization", "xavier_uniform", "a normal with the right variance",
           _init("xavier_uniform", "rng.normal(0, a / np.sqrt(3), size=(fan_out, fan_in))")),
    Mutant("06_initialization", "xavier_uniform", "np.random instead of the rng",
           _init("xavier_uniform", "np.random.uniform(-a, a, size=(fan_out, fan_in))")),
    Mutant("06_initialization", "xavier_uniform", "U(0, a)",
           _init("xavier_uniform", "rng.uniform(0, a, size=(fan_out, fan_in))")),
    Mutant("06_initialization", "xavier_normal", "the variance passed as the scale",
           _init("xavier_normal", "rng.normal(0, a, size=(fan_out, fan_in))",
                 "2.0 / (fan_in + fan_out)")),
    Mutant("06_initialization", "xavier_normal", "a uniform with the right variance",
           _init("xavier_normal", "rng.uniform(-a * np.sqrt(3), a * np.sqrt(3), "
                 "size=(fan_out, fan_in))", "np.sqrt(2.0 / (fan_in + fan_out))")),
    Mutant("06_initialization", "xavier_normal", "variance 1 / fan_in (LeCun)",
           _init("xavier_normal", "rng.normal(0, a, size=(fan_out, fan_in))",
                 "np.sqrt(1.0 / fan_in)")),
    Mutant("06_initialization", "xavier_normal", "a generator of its own",
           _init("xavier_normal", "np.random.default_rng(0).normal(0, a, size=(fan_out, fan_in))",
                 "np.sqrt(2.0 / (fan_in + fan_out))")),
    Mutant("06_initialization", "he_normal", "factor 2 missing",
           _init("he_normal", "rng.normal(0, a, size=(fan_out, fan_in))", "np.sqrt(1.0 / fan_in)"),
           roundtrip=True),
    Mutant("06_initialization", "he_normal", "fan_out instead of fan_in",
           _init("he_normal", "rng.normal(0, a, size=(fan_out, fan_in))",
                 "np.sqrt(2.0 / fan_out)")),
    Mutant("06_initialization", "he_normal", "the variance passed as the scale",
           _init("he_normal", "rng.normal(0, a, size=(fan_out, fan_in))", "2.0 / fan_in")),
    Mutant("06_initialization", "he_normal", "He uniform instead of normal",
           _init("he_normal", "rng.uniform(-a, a, size=(fan_out, fan_in))",
                 "np.sqrt(6.0 / fan_in)")),
    Mutant("06_initialization", "he_normal", "shape (fan_in, fan_out)",
           _init("he_normal", "rng.normal(0, a, size=(fan_in, fan_out))",
                 "np.sqrt(2.0 / fan_in)")),
    # ---- 06_initialization: orthogonal, identity_init
    Mutant("06_initialization", "orthogonal", "no sign fix", _orthogonal("gain * q"),
           roundtrip=True),
    Mutant("06_initialization", "orthogonal", "signs taken from Q's diagonal instead of R's",
           _orthogonal("gain * q * np.sign(np.diag(q))")),
    Mutant("06_initialization", "orthogonal", "QR of a uniform matrix",
           _orthogonal("gain * q * np.sign(np.diag(r))", draw="rng.random((n, n))")),
    Mutant("06_initialization", "orthogonal", "gain ignored",
           _orthogonal("q * np.sign(np.diag(r))")),
    Mutant("06_initialization", "orthogonal", "square root of the gain",
           _orthogonal("np.sqrt(gain) * q * np.sign(np.diag(r))")),
    Mutant("06_initialization", "orthogonal", "columns normalised, not orthogonalised",
           "def orthogonal(n, rng, gain=1.0):\n"
           "    a = rng.standard_normal((n, n))\n"
           "    return gain * a / np.linalg.norm(a, axis=0)\n"),
    Mutant("06_initialization", "orthogonal", "always the identity",
           "def orthogonal(n, rng, gain=1.0):\n"
           "    return gain * np.eye(n)\n"),
    Mutant("06_initialization", "orthogonal", "np.random instead of the rng",
           _orthogonal("gain * q * np.sign(np.diag(r))", draw="np.random.randn(n, n)")),
    Mutant("06_initialization", "identity_init", "scale ignored",
           "def identity_init(n, scale=1.0):\n"
           "    return np.eye(n)\n"),
    Mutant("06_initialization", "identity_init", "scale squared",
           "def identity_init(n, scale=1.0):\n"
           "    return scale ** 2 * np.eye(n)\n"),
    Mutant("06_initialization", "identity_init", "a matrix of ones",
           "def identity_init(n, scale=1.0):\n"
           "    return scale * np.ones((n, n))\n"),
    # ---- 06_initialization: leaky_relu, leaky_relu_grad, elu, elu_grad
    Mutant("06_initialization", "leaky_relu", "max(x, slope)",
           "def leaky_relu(x, slope=0.01):\n"
           "    return np.maximum(x, slope)\n"),
    Mutant("06_initialization", "leaky_relu", "slope fixed at 0.01",
           "def leaky_relu(x, slope=0.01):\n"
           "    return np.where(x > 0, x, 0.01 * x)\n"),
    Mutant("06_initialization", "leaky_relu", "changes x in place",
           "def leaky_relu(x, slope=0.01):\n"
           "    x[x < 0] *= slope\n"
           "    return x\n"),
    Mutant("06_initialization", "leaky_relu", "plain ReLU",
           "def leaky_relu(x, slope=0.01):\n"
           "    return np.maximum(x, 0.0)\n"),
    Mutant("06_initialization", "leaky_relu_grad", "1 at x = 0",
           "def leaky_relu_grad(x, slope=0.01):\n"
           "    return np.where(x >= 0, 1.0, slope)\n"),
    Mutant("06_initialization", "leaky_relu_grad", "ReLU's derivative",
           "def leaky_relu_grad(x, slope=0.01):\n"
           "    return np.where(x > 0, 1.0, 0.0)\n"),
    Mutant("06_initialization", "leaky_relu_grad", "slope * x for negative x",
           "def leaky_relu_grad(x, slope=0.01):\n"
           "    return np.where(x > 0, 1.0, slope * x)\n"),
    Mutant("06_initialization", "leaky_relu_grad", "leaky_relu(x) / x",
           "def leaky_relu_grad(x, slope=0.01):\n"
           "    return leaky_relu(x, slope) / x\n"),
    Mutant("06_initialization", "elu", "exp of every entry (overflows)",
           "def elu(x, alpha=1.0):\n"
           "    return np.where(x > 0, x, alpha * (np.exp(x) - 1))\n", roundtrip=True),
    Mutant("06_initialization", "elu", "alpha forgotten",
           "def elu(x, alpha=1.0):\n"
           "    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))\n"),
    Mutant("06_initialization", "elu", "the -1 forgotten",
           "def elu(x, alpha=1.0):\n"
           "    return np.where(x > 0, x, alpha * np.exp(np.minimum(x, 0)))\n"),
    Mutant("06_initialization", "elu", "expm1 of every entry (overflows)",
           "def elu(x, alpha=1.0):\n"
           "    return np.where(x > 0, x, alpha * np.expm1(x))\n"),
    Mutant("06_initialization", "elu_grad", "exp of every entry (overflows)",
           "def elu_grad(x, alpha=1.0):\n"
           "    return np.where(x > 0, 1.0, alpha * np.exp(x))\n"),
    Mutant("06_initialization", "elu_grad", "alpha forgotten",
           "def elu_grad(x, alpha=1.0):\n"
           "    return np.where(x > 0, 1.0, np.exp(np.minimum(x, 0)))\n"),
    Mutant("06_initialization", "elu_grad", "elu(x) for negative x (the +alpha forgotten)",
           "def elu_grad(x, alpha=1.0):\n"
           "    return np.where(x > 0, 1.0, elu(x, alpha))\n"),
    Mutant("06_initialization", "elu_grad", "1 at x = 0",
           "def elu_grad(x, alpha=1.0):\n"
           "    return np.where(x >= 0, 1.0, alpha * np.exp(np.minimum(x, 0)))\n"),
    # ---- 07_lstm_gru: lstm_cell_forward
    Mutant("07_lstm_gru", "lstm_cell_forward", "no tanh on the cell output",
           _lstm(h="o * c"), roundtrip=True),
    Mutant("07_lstm_gru", "lstm_cell_forward", "gates read as i, f, o, g",
           _lstm(gates="i, f, o, g = s(z[:, :H]), s(z[:, H:2*H]), s(z[:, 2*H:3*H]), "
                       "np.tanh(z[:, 3*H:])")),
    Mutant("07_lstm_gru", "lstm_cell_forward", "input and forget gates swapped",
           _lstm(gates="f, i, g, o = s(z[:, :H]), s(z[:, H:2*H]), np.tanh(z[:, 2*H:3*H]), "
                       "s(z[:, 3*H:])")),
    Mutant("07_lstm_gru", "lstm_cell_forward", "sigmoid instead of tanh on the candidate g",
           _lstm(gates="i, f, g, o = s(z[:, :H]), s(z[:, H:2*H]), s(z[:, 2*H:3*H]), "
                       "s(z[:, 3*H:])")),
    Mutant("07_lstm_gru", "lstm_cell_forward", "b_hh forgotten",
           _lstm(z="x @ W_ih.T + b_ih + h_prev @ W_hh.T")),
    Mutant("07_lstm_gru", "lstm_cell_forward", "h from the previous cell state",
           _lstm(h="o * np.tanh(c_prev)")),
    Mutant("07_lstm_gru", "lstm_cell_forward", "weights not transposed",
           _lstm(z="x @ W_ih + b_ih + h_prev @ W_hh + b_hh")),
    Mutant("07_lstm_gru", "lstm_cell_forward", "sigmoid that overflows",
           _lstm(sigmoid="1 / (1 + np.exp(-a))")),
    # ---- 07_lstm_gru: gru_cell_forward
    Mutant("07_lstm_gru", "gru_cell_forward", "update written the other way round",
           _gru(h="z * n + (1 - z) * h_prev"), roundtrip=True),
    Mutant("07_lstm_gru", "gru_cell_forward", "reset gate outside b_hn",
           _gru(n="np.tanh(gi[:, 2*H:] + r * (h_prev @ W_hh[2*H:].T) + b_hh[2*H:])")),
    Mutant("07_lstm_gru", "gru_cell_forward", "gates read as z, r, n",
           _gru(rz="z, r = s(gi[:, :H] + gh[:, :H]), s(gi[:, H:2*H] + gh[:, H:2*H])")),
    Mutant("07_lstm_gru", "gru_cell_forward", "no tanh on the candidate",
           _gru(n="gi[:, 2*H:] + r * gh[:, 2*H:]")),
    Mutant("07_lstm_gru", "gru_cell_forward", "reset applied before the matrix (the 2014 paper)",
           _gru(n="np.tanh(gi[:, 2*H:] + (r * h_prev) @ W_hh[2*H:].T + b_hh[2*H:])")),
    Mutant("07_lstm_gru", "gru_cell_forward", "sigmoid that overflows",
           _gru(sigmoid="1 / (1 + np.exp(-a))")),
    # ---- 07_lstm_gru: cell_state_gradient
    Mutant("07_lstm_gru", "cell_state_gradient", "products from the start instead of the end",
           _cell_path("    return np.concatenate([ones, np.cumprod(f, axis=0)])\n"),
           roundtrip=True),
    Mutant("07_lstm_gru", "cell_state_gradient", "the row of ones at the start (off by one)",
           _cell_path("    return np.concatenate([ones, np.cumprod(f[::-1], axis=0)[::-1]])\n")),
    Mutant("07_lstm_gru", "cell_state_gradient", "rows k = 0..T-1 only",
           _cell_path("    return np.cumprod(f[::-1], axis=0)[::-1]\n")),
    Mutant("07_lstm_gru", "cell_state_gradient", "sums instead of products",
           _cell_path("    return np.concatenate([np.cumsum(f[::-1], axis=0)[::-1], ones])\n")),
    Mutant("07_lstm_gru", "cell_state_gradient", "overwrites the forget gates",
           "def cell_state_gradient(forget_gates):\n"
           "    f = forget_gates\n"
           "    for t in range(f.shape[0] - 2, -1, -1):\n"
           "        f[t] *= f[t + 1]\n"
           "    return np.concatenate([f, np.ones((1, f.shape[1]))])\n"),
    Mutant("07_lstm_gru", "cell_state_gradient", "averaged over the units",
           _cell_path("    p = np.concatenate([np.cumprod(f[::-1], axis=0)[::-1], ones])\n"
                      "    return p.mean(axis=1)\n")),
    # ---- 08_mitigations: l2_penalty, l1_penalty
    Mutant("08_mitigations", "l2_penalty", "gradient lam * w (the 2 forgotten)",
           _penalty("l2_penalty", "w ** 2", "lam * w"), roundtrip=True),
    Mutant("08_mitigations", "l2_penalty", "value with a factor 1/2 (the other convention)",
           _penalty("l2_penalty", "w ** 2 / 2", "2 * lam * w")),
    Mutant("08_mitigations", "l2_penalty", "norm instead of squared norm",
           "def l2_penalty(params, lam):\n"
           "    norm = np.sqrt(sum(np.sum(np.asarray(w) ** 2) for w in params))\n"
           "    return lam * norm, [2 * lam * np.asarray(w) for w in params]\n"),
    Mutant("08_mitigations", "l2_penalty", "penalty on the biases only",
           _penalty("l2_penalty", "w ** 2", "2 * lam * w if w.ndim == 1 else np.zeros_like(w)",
                    loop="params if w.ndim == 1")),
    Mutant("08_mitigations", "l2_penalty", "penalty on the matrices only (biases skipped)",
           _penalty("l2_penalty", "w ** 2", "2 * lam * w if w.ndim > 1 else np.zeros_like(w)",
                    loop="params if w.ndim > 1")),
    Mutant("08_mitigations", "l2_penalty", "mean of the squares instead of the sum",
           _penalty("l2_penalty", "w ** 2 / w.size", "2 * lam * w / w.size")),
    Mutant("08_mitigations", "l2_penalty", "only the last array's gradient returned",
           "def l2_penalty(params, lam):\n"
           "    value = 0.0\n"
           "    for w in params:\n"
           "        value += lam * np.sum(w ** 2)\n"
           "    return value, [2 * lam * w]\n"),
    Mutant("08_mitigations", "l2_penalty", "weights decayed in place",
           "def l2_penalty(params, lam):\n"
           "    value = lam * sum(np.sum(w ** 2) for w in params)\n"
           "    grads = []\n"
           "    for w in params:\n"
           "        w *= 2 * lam\n"
           "        grads.append(w)\n"
           "    return value, grads\n"),
    Mutant("08_mitigations", "l1_penalty", "subgradient lam at w = 0",
           _penalty("l1_penalty", "np.abs(w)", "lam * np.where(w >= 0, 1.0, -1.0)"),
           roundtrip=True),
    Mutant("08_mitigations", "l1_penalty", "w / |w| (0 / 0 at w = 0)",
           _penalty("l1_penalty", "np.abs(w)", "lam * w / np.abs(w)")),
    Mutant("08_mitigations", "l1_penalty", "value without the absolute value",
           _penalty("l1_penalty", "w", "lam * np.sign(w)")),
    Mutant("08_mitigations", "l1_penalty", "the L2 gradient",
           _penalty("l1_penalty", "np.abs(w)", "2 * lam * w")),
    Mutant("08_mitigations", "l1_penalty", "lam forgotten in the gradient",
           _penalty("l1_penalty", "np.abs(w)", "np.sign(w)")),
    Mutant("08_mitigations", "l1_penalty", "penalty on the biases only",
           _penalty("l1_penalty", "np.abs(w)",
                    "lam * np.sign(w) if w.ndim == 1 else np.zeros_like(w)",
                    loop="params if w.ndim == 1")),
    # ---- 08_mitigations: dot_product_attention
    Mutant("08_mitigations", "dot_product_attention", "softmax over the batch axis",
           _attention(shift="scores.max(axis=1, keepdims=True)", axis="1"), roundtrip=True),
    Mutant("08_mitigations", "dot_product_attention", "no max subtracted (overflows)",
           _attention(shift="0")),
    Mutant("08_mitigations", "dot_product_attention", "one max over all sequences",
           _attention(shift="scores.max()")),
    Mutant("08_mitigations", "dot_product_attention", "no 1/sqrt(H)",
           _attention(scores="np.einsum('tbh,bh->tb', keys, query)")),
    Mutant("08_mitigations", "dot_product_attention", "divided by H instead of sqrt(H)",
           _attention(scores="np.einsum('tbh,bh->tb', keys, query) / query.shape[1]")),
    Mutant("08_mitigations", "dot_product_attention", "sqrt(T) instead of sqrt(H)",
           _attention(scores="np.einsum('tbh,bh->tb', keys, query) / np.sqrt(keys.shape[0])")),
    Mutant("08_mitigations", "dot_product_attention", "context from the keys",
           _attention(context="np.einsum('tb,tbh->bh', weights, keys)")),
    Mutant("08_mitigations", "dot_product_attention", "weights returned as (B, T)",
           "def dot_product_attention(query, keys, values):\n"
           "    scores = np.einsum('bh,tbh->bt', query, keys) / np.sqrt(query.shape[1])\n"
           "    e = np.exp(scores - scores.max(axis=1, keepdims=True))\n"
           "    weights = e / e.sum(axis=1, keepdims=True)\n"
           "    return np.einsum('bt,tbh->bh', weights, values), weights\n"),
    Mutant("08_mitigations", "dot_product_attention", "context from the raw scores",
           _attention(context="np.einsum('tb,tbh->bh', scores, values)")),
    Mutant("08_mitigations", "dot_product_attention", "keys scaled in place",
           "def dot_product_attention(query, keys, values):\n"
           "    keys /= np.sqrt(query.shape[1])\n"
           "    scores = np.einsum('tbh,bh->tb', keys, query)\n"
           "    e = np.exp(scores - scores.max(axis=0))\n"
           "    weights = e / e.sum(axis=0)\n"
           "    return np.einsum('tb,tbh->bh', weights, values), weights\n"),
    Mutant("08_mitigations", "dot_product_attention", "right numbers, computed by torch",
           "def dot_product_attention(query, keys, values):\n"
           "    import torch\n"
           "    q, k, v = (torch.from_numpy(np.asarray(a)) for a in (query, keys, values))\n"
           "    w = torch.softmax(torch.einsum('tbh,bh->tb', k, q) / q.shape[1] ** 0.5, dim=0)\n"
           "    return torch.einsum('tb,tbh->bh', w, v).numpy(), w.numpy()\n"),
    # ---- 08_mitigations: steps_to_threshold
    Mutant("08_mitigations", "steps_to_threshold", "< instead of <=",
           _threshold("    for i, loss in enumerate(losses):\n"
                      "        if loss < threshold:\n"
                      "            return i\n"
                      "    return None\n"), roundtrip=True),
    Mutant("08_mitigations", "steps_to_threshold", "counts from 1 (off by one)",
           _threshold("    for i, loss in enumerate(losses):\n"
                      "        if loss <= threshold:\n"
                      "            return i + 1\n"
                      "    return None\n")),
    Mutant("08_mitigations", "steps_to_threshold", "np.argmax of the mask (0 when never)",
           _threshold("    return int(np.argmax(losses <= threshold))\n")),
    Mutant("08_mitigations", "steps_to_threshold", "the last crossing",
           _threshold("    hits = np.flatnonzero(losses <= threshold)\n"
                      "    return int(hits[-1]) if len(hits) else None\n")),
    Mutant("08_mitigations", "steps_to_threshold", "the step of the lowest loss",
           _threshold("    i = int(np.nanargmin(losses))\n"
                      "    return i if losses[i] <= threshold else None\n")),
    Mutant("08_mitigations", "steps_to_threshold", "counts the losses above the threshold",
           _threshold("    n = int(np.sum(losses > threshold))\n"
                      "    return n if n < len(losses) else None\n")),
    Mutant("08_mitigations", "steps_to_threshold", "-1 when never",
           _threshold("    for i, loss in enumerate(losses):\n"
                      "        if loss <= threshold:\n"
                      "            return i\n"
                      "    return -1\n")),
    Mutant("08_mitigations", "steps_to_threshold", "NaN counted as reached",
           _threshold("    for i, loss in enumerate(losses):\n"
                      "        if not loss > threshold:\n"
                      "            return i\n"
                      "    return None\n")),
    Mutant("08_mitigations", "steps_to_threshold", "IndexError when never",
           _threshold("    return int(np.flatnonzero(losses <= threshold)[0])\n")),
]


def exercise_of(grade_id: str) -> str:
    """The exercise a grade cell tests: test_<name> and hidden_<name> both test <name>."""
    return grade_id.split("_", 1)[1]
