"""Known mistakes of notebook 08_mitigations: the catalogue that diagnosis and the mutation tests read.

See instructor/diagnosis/catalogue.py for what an entry holds, and CONTRIBUTING.md for how to
add one.

### MISTAKE CATALOGUE: instructor material, never published
"""

from instructor.diagnosis.catalogue import Mistake


def _penalty(name: str, value: str, grad: str, loop: str = "params") -> str:
    """An l2_penalty / l1_penalty whose value sums `value` and whose gradients are `grad`, over
    the arrays in `loop` (of w and lam)."""
    return (
        f"def {name}(params, lam):\n"
        "    params = [np.asarray(w, dtype=float) for w in params]\n"
        f"    value = lam * sum(float(np.sum({value})) for w in {loop})\n"
        f"    return value, [{grad} for w in params]\n"
    )


def _attention(
    scores: str = "np.einsum('tbh,bh->tb', keys, query) / np.sqrt(query.shape[1])",
    shift: str = "scores.max(axis=0, keepdims=True)",
    axis: str = "0",
    context: str = "np.einsum('tb,tbh->bh', weights, values)",
) -> str:
    """A dot_product_attention with one part changed (the model solution when nothing is)."""
    return (
        "def dot_product_attention(query, keys, values):\n"
        f"    scores = {scores}\n"
        f"    e = np.exp(scores - {shift})\n"
        f"    weights = e / e.sum(axis={axis}, keepdims=True)\n"
        f"    return {context}, weights\n"
    )


def _threshold(body: str) -> str:
    return (
        "def steps_to_threshold(losses, threshold):\n"
        "    losses = np.asarray(losses, dtype=float)\n" + body
    )


_HEALTHY = "    if np.mean(losses[-10:]) <= threshold:\n        return 'healthy', 'nothing'\n"
_EXPLODING = (
    "    if (not np.all(np.isfinite(losses)) or not np.all(np.isfinite(norms))\n"
    "            or np.max(norms) > 100 * np.median(norms)):\n"
    "        return 'exploding gradient', 'clip the gradient'\n"
)
_TOO_LARGE = (
    "    if np.max(losses[10:]) > 2 * losses[0]:\n"
    "        return 'learning rate too large', 'lower the learning rate'\n"
)
_VANISHING = (
    "    if grad_ratio < 1e-6:\n"
    "        if np.mean(losses[-10:]) >= 0.9 * baseline:\n"
    "            return 'vanishing gradient', 'shorten the gradient path'\n"
    "        return 'partial learning', 'shorten the gradient path'\n"
)
_TOO_SMALL = "    return 'learning rate too small', 'raise the learning rate'\n"


def _diagnose(
    healthy: str = _HEALTHY,
    exploding: str = _EXPLODING,
    too_large: str = _TOO_LARGE,
    vanishing: str = _VANISHING,
    too_small: str = _TOO_SMALL,
    order: str = "hetvs",
) -> str:
    """A diagnose_run with one rule changed or the rules in another `order` (h healthy,
    e exploding, t too large, v vanishing and partial learning, s too small); the model
    solution when nothing is."""
    parts = {"h": healthy, "e": exploding, "t": too_large, "v": vanishing, "s": too_small}
    return (
        "def diagnose_run(losses, grad_norms, grad_ratio, baseline, threshold):\n"
        "    losses = np.asarray(losses, dtype=float)\n"
        "    norms = np.asarray(grad_norms, dtype=float)\n" + "".join(parts[c] for c in order)
    )


MISTAKES = [
    # ---- l2_penalty
    Mistake(
        "l2_penalty",
        "gradient_lam_w_the_2_forgotten",
        "gradient lam * w (the 2 forgotten)",
        hint="The derivative of lam * w**2 is 2 * lam * w.",
        source=_penalty("l2_penalty", "w ** 2", "lam * w"),
        roundtrip=True,
    ),
    Mistake(
        "l2_penalty",
        "value_with_a_factor_1_2_the_other",
        "value with a factor 1/2 (the other convention)",
        hint="This course's penalty is lam * sum(w**2), without the factor 1/2.",
        source=_penalty("l2_penalty", "w ** 2 / 2", "2 * lam * w"),
    ),
    Mistake(
        "l2_penalty",
        "norm_instead_of_squared_norm",
        "norm instead of squared norm",
        hint="The penalty adds up squares: lam * sum(w**2), no square root.",
        source="def l2_penalty(params, lam):\n"
        "    norm = np.sqrt(sum(np.sum(np.asarray(w) ** 2) for w in params))\n"
        "    return lam * norm, [2 * lam * np.asarray(w) for w in params]\n",
    ),
    Mistake(
        "l2_penalty",
        "penalty_on_the_biases_only",
        "penalty on the biases only",
        hint="Every array is penalised, matrices and biases alike.",
        source=_penalty(
            "l2_penalty",
            "w ** 2",
            "2 * lam * w if w.ndim == 1 else np.zeros_like(w)",
            loop="params if w.ndim == 1",
        ),
    ),
    Mistake(
        "l2_penalty",
        "penalty_on_the_matrices_only_biases",
        "penalty on the matrices only (biases skipped)",
        hint="Every array is penalised here, biases included.",
        source=_penalty(
            "l2_penalty",
            "w ** 2",
            "2 * lam * w if w.ndim > 1 else np.zeros_like(w)",
            loop="params if w.ndim > 1",
        ),
    ),
    Mistake(
        "l2_penalty",
        "mean_of_the_squares_instead_of_the",
        "mean of the squares instead of the sum",
        hint="Add up the squares of every entry; do not divide by the number of entries.",
        source=_penalty("l2_penalty", "w ** 2 / w.size", "2 * lam * w / w.size"),
    ),
    Mistake(
        "l2_penalty",
        "only_the_last_array_s_gradient",
        "only the last array's gradient returned",
        hint="Return one gradient per array, in a list of the same length as params.",
        source="def l2_penalty(params, lam):\n"
        "    value = 0.0\n"
        "    for w in params:\n"
        "        value += lam * np.sum(w ** 2)\n"
        "    return value, [2 * lam * w]\n",
    ),
    Mistake(
        "l2_penalty",
        "weights_decayed_in_place",
        "weights decayed in place",
        hint="Leave the input arrays unchanged: return new gradient arrays.",
        source="def l2_penalty(params, lam):\n"
        "    value = lam * sum(np.sum(w ** 2) for w in params)\n"
        "    grads = []\n"
        "    for w in params:\n"
        "        w *= 2 * lam\n"
        "        grads.append(w)\n"
        "    return value, grads\n",
    ),
    # ---- l1_penalty
    Mistake(
        "l1_penalty",
        "subgradient_lam_at_w_0",
        "subgradient lam at w = 0",
        hint="At w = 0 use the subgradient 0, as np.sign does.",
        source=_penalty("l1_penalty", "np.abs(w)", "lam * np.where(w >= 0, 1.0, -1.0)"),
        roundtrip=True,
    ),
    Mistake(
        "l1_penalty",
        "w_w_0_0_at_w_0",
        "w / |w| (0 / 0 at w = 0)",
        hint="w / |w| is 0 / 0 at w = 0; np.sign(w) gives 0 there.",
        source=_penalty("l1_penalty", "np.abs(w)", "lam * w / np.abs(w)"),
    ),
    Mistake(
        "l1_penalty",
        "value_without_the_absolute_value",
        "value without the absolute value",
        hint="The L1 penalty adds up |w|: negative weights count positively.",
        source=_penalty("l1_penalty", "w", "lam * np.sign(w)"),
    ),
    Mistake(
        "l1_penalty",
        "the_l2_gradient",
        "the L2 gradient",
        hint="The (sub)gradient of lam * |w| is lam * sign(w).",
        source=_penalty("l1_penalty", "np.abs(w)", "2 * lam * w"),
    ),
    Mistake(
        "l1_penalty",
        "lam_forgotten_in_the_gradient",
        "lam forgotten in the gradient",
        hint="The (sub)gradient of lam * |w| carries the factor lam.",
        source=_penalty("l1_penalty", "np.abs(w)", "np.sign(w)"),
    ),
    Mistake(
        "l1_penalty",
        "penalty_on_the_biases_only_2",
        "penalty on the biases only",
        hint="Every array is penalised, matrices and biases alike.",
        source=_penalty(
            "l1_penalty",
            "np.abs(w)",
            "lam * np.sign(w) if w.ndim == 1 else np.zeros_like(w)",
            loop="params if w.ndim == 1",
        ),
    ),
    # ---- dot_product_attention
    Mistake(
        "dot_product_attention",
        "softmax_over_the_batch_axis",
        "softmax over the batch axis",
        hint="The weights are a softmax over TIME, axis 0 of the (T, B) scores: each sequence's weights add up to 1.",
        source=_attention(shift="scores.max(axis=1, keepdims=True)", axis="1"),
        roundtrip=True,
    ),
    Mistake(
        "dot_product_attention",
        "no_max_subtracted_overflows",
        "no max subtracted (overflows)",
        hint="Subtract each sequence's largest score before exp, so that exp cannot overflow.",
        source=_attention(shift="0"),
    ),
    Mistake(
        "dot_product_attention",
        "one_max_over_all_sequences",
        "one max over all sequences",
        hint="Subtract each sequence's own largest score (over axis 0): one max for all can underflow a whole sequence.",
        source=_attention(shift="scores.max()"),
    ),
    Mistake(
        "dot_product_attention",
        "no_1_sqrt_h",
        "no 1/sqrt(H)",
        hint="Scale the scores by 1 / sqrt(H).",
        source=_attention(scores="np.einsum('tbh,bh->tb', keys, query)"),
    ),
    Mistake(
        "dot_product_attention",
        "divided_by_h_instead_of_sqrt_h",
        "divided by H instead of sqrt(H)",
        hint="Scale the scores by 1 / sqrt(H), not 1 / H.",
        source=_attention(scores="np.einsum('tbh,bh->tb', keys, query) / query.shape[1]"),
    ),
    Mistake(
        "dot_product_attention",
        "sqrt_t_instead_of_sqrt_h",
        "sqrt(T) instead of sqrt(H)",
        hint="The scale uses the feature size H = query.shape[1], not the sequence length.",
        source=_attention(scores="np.einsum('tbh,bh->tb', keys, query) / np.sqrt(keys.shape[0])"),
    ),
    Mistake(
        "dot_product_attention",
        "context_from_the_keys",
        "context from the keys",
        hint="Keys decide the weights; the context averages the VALUES.",
        source=_attention(context="np.einsum('tb,tbh->bh', weights, keys)"),
    ),
    Mistake(
        "dot_product_attention",
        "weights_returned_as_b_t",
        "weights returned as (B, T)",
        hint="Return the weights with shape (T, B), time first.",
        source="def dot_product_attention(query, keys, values):\n"
        "    scores = np.einsum('bh,tbh->bt', query, keys) / np.sqrt(query.shape[1])\n"
        "    e = np.exp(scores - scores.max(axis=1, keepdims=True))\n"
        "    weights = e / e.sum(axis=1, keepdims=True)\n"
        "    return np.einsum('bt,tbh->bh', weights, values), weights\n",
    ),
    Mistake(
        "dot_product_attention",
        "context_from_the_raw_scores",
        "context from the raw scores",
        hint="Average the values with the softmax weights, not the raw scores.",
        source=_attention(context="np.einsum('tb,tbh->bh', scores, values)"),
    ),
    Mistake(
        "dot_product_attention",
        "keys_scaled_in_place",
        "keys scaled in place",
        hint="Leave keys unchanged: scale the scores instead.",
        source="def dot_product_attention(query, keys, values):\n"
        "    keys /= np.sqrt(query.shape[1])\n"
        "    scores = np.einsum('tbh,bh->tb', keys, query)\n"
        "    e = np.exp(scores - scores.max(axis=0))\n"
        "    weights = e / e.sum(axis=0)\n"
        "    return np.einsum('tb,tbh->bh', weights, values), weights\n",
    ),
    Mistake(
        "dot_product_attention",
        "right_numbers_computed_by_torch",
        "right numbers, computed by torch",
        hint="This exercise is written from scratch in numpy; torch is the oracle that checks it.",
        source="def dot_product_attention(query, keys, values):\n"
        "    import torch\n"
        "    q, k, v = (torch.from_numpy(np.asarray(a)) for a in (query, keys, values))\n"
        "    w = torch.softmax(torch.einsum('tbh,bh->tb', k, q) / q.shape[1] ** 0.5, dim=0)\n"
        "    return torch.einsum('tb,tbh->bh', w, v).numpy(), w.numpy()\n",
        # the hidden tests refuse torch before calling the function (and the grader's sandbox
        # for a from-scratch exercise has no torch): no call for the grader to replay. The
        # visible check says what is wrong (numpy only) after its numeric cases.
        diagnosable=False,
    ),
    # ---- steps_to_threshold
    Mistake(
        "steps_to_threshold",
        "less_instead_of_less_or_equal",
        "< instead of <=",
        hint="A loss equal to the threshold counts as reached: <=.",
        source=_threshold(
            "    for i, loss in enumerate(losses):\n"
            "        if loss < threshold:\n"
            "            return i\n"
            "    return None\n"
        ),
        roundtrip=True,
    ),
    Mistake(
        "steps_to_threshold",
        "counts_from_1_off_by_one",
        "counts from 1 (off by one)",
        hint="Step indices start at 0.",
        source=_threshold(
            "    for i, loss in enumerate(losses):\n"
            "        if loss <= threshold:\n"
            "            return i + 1\n"
            "    return None\n"
        ),
    ),
    Mistake(
        "steps_to_threshold",
        "np_argmax_of_the_mask_0_when_never",
        "np.argmax of the mask (0 when never)",
        hint="np.argmax of an all-False mask is 0: check that some step reached the threshold, else return None.",
        source=_threshold("    return int(np.argmax(losses <= threshold))\n"),
    ),
    Mistake(
        "steps_to_threshold",
        "the_last_crossing",
        "the last crossing",
        hint="Return the FIRST step that reaches the threshold.",
        source=_threshold(
            "    hits = np.flatnonzero(losses <= threshold)\n"
            "    return int(hits[-1]) if len(hits) else None\n"
        ),
    ),
    Mistake(
        "steps_to_threshold",
        "the_step_of_the_lowest_loss",
        "the step of the lowest loss",
        hint="Return the first step whose loss is <= threshold, not the lowest loss.",
        source=_threshold(
            "    i = int(np.nanargmin(losses))\n    return i if losses[i] <= threshold else None\n"
        ),
    ),
    Mistake(
        "steps_to_threshold",
        "counts_the_losses_above_the",
        "counts the losses above the threshold",
        hint="Losses can rise again after reaching the threshold: find the first step with loss <= threshold.",
        source=_threshold(
            "    n = int(np.sum(losses > threshold))\n    return n if n < len(losses) else None\n"
        ),
    ),
    Mistake(
        "steps_to_threshold",
        "1_when_never",
        "-1 when never",
        hint="When no step reaches the threshold, return None.",
        source=_threshold(
            "    for i, loss in enumerate(losses):\n"
            "        if loss <= threshold:\n"
            "            return i\n"
            "    return -1\n"
        ),
    ),
    Mistake(
        "steps_to_threshold",
        "nan_counted_as_reached",
        "NaN counted as reached",
        hint="NaN never counts: test loss <= threshold, which is False for NaN.",
        source=_threshold(
            "    for i, loss in enumerate(losses):\n"
            "        if not loss > threshold:\n"
            "            return i\n"
            "    return None\n"
        ),
    ),
    Mistake(
        "steps_to_threshold",
        "indexerror_when_never",
        "IndexError when never",
        hint="When no step reaches the threshold, return None instead of indexing an empty array.",
        source=_threshold("    return int(np.flatnonzero(losses <= threshold)[0])\n"),
    ),
    Mistake(
        "steps_to_threshold",
        "min_of_an_empty_sequence_when_never",
        "min() of the steps that reach it (ValueError when none does)",
        hint="When no loss reaches the threshold there is no step to take the min of: return None.",
        source=_threshold(
            "    return min(i for i, loss in enumerate(losses) if loss <= threshold)\n"
        ),
    ),
    # ---- diagnose_run
    Mistake(
        "diagnose_run",
        "nan_never_tested",
        "inf and NaN not tested: only the largest norm against the median",
        hint="np.max of an array holding NaN is NaN, and NaN > x is False: test "
        "np.isfinite on the losses and the norms.",
        source=_diagnose(
            exploding="    if np.max(norms) > 100 * np.median(norms):\n"
            "        return 'exploding gradient', 'clip the gradient'\n"
        ),
        roundtrip=True,
    ),
    Mistake(
        "diagnose_run",
        "flat_loss_alone_called_vanishing",
        "a loss flat at the baseline called vanishing without looking at grad_ratio",
        hint="A flat loss is vanishing only when the gradient no longer reaches the first "
        "steps: grad_ratio below 1e-6 as well.",
        source=_diagnose(
            vanishing="    if np.mean(losses[-10:]) >= 0.9 * baseline:\n"
            "        return 'vanishing gradient', "
            "'shorten the gradient path'\n"
            "    if grad_ratio < 1e-6:\n"
            "        return 'partial learning', "
            "'shorten the gradient path'\n"
        ),
    ),
    Mistake(
        "diagnose_run",
        "remedies_of_the_two_gradients_swapped",
        "remedies of the exploding and the vanishing gradient swapped",
        hint="Clipping caps a gradient that is too large; it cannot lengthen one that vanished.",
        source=_diagnose(
            exploding=_EXPLODING.replace("clip the gradient", "shorten the gradient path"),
            vanishing=_VANISHING.replace("shorten the gradient path", "clip the gradient"),
        ),
    ),
    Mistake(
        "diagnose_run",
        "loss_jump_tested_before_the_spike",
        "the jump in the loss tested before the gradient spike",
        hint="Go down the table in order: a spike or a NaN comes before a loss that climbs.",
        source=_diagnose(order="htevs"),
    ),
    Mistake(
        "diagnose_run",
        "healthy_by_the_last_loss_alone",
        "healthy judged by the last loss alone",
        hint="Average the last 10 losses: one lucky batch does not make a run healthy.",
        source=_diagnose(
            healthy="    if losses[-1] <= threshold:\n        return 'healthy', 'nothing'\n"
        ),
    ),
    Mistake(
        "diagnose_run",
        "vanishing_against_the_baseline_itself",
        "the flat loss compared with the baseline itself, not 0.9 times it",
        hint="A loss that settles a little below the no-memory level is still flat: "
        "compare with 0.9 * baseline.",
        source=_diagnose(vanishing=_VANISHING.replace("0.9 * baseline", "baseline")),
    ),
    Mistake(
        "diagnose_run",
        "vanishing_by_grad_ratio_alone",
        "vanishing decided by grad_ratio alone (partial learning called vanishing)",
        hint="A vanished grad_ratio with the last 10 losses below 0.9 times the baseline is "
        "partial learning, not a vanishing gradient.",
        source=_diagnose(
            vanishing="    if grad_ratio < 1e-6:\n"
            "        return 'vanishing gradient', "
            "'shorten the gradient path'\n"
        ),
    ),
    Mistake(
        "diagnose_run",
        "healthy_tested_last",
        "the healthy row tested last, just before the fallback",
        hint="Healthy is the first row: a run that reached the threshold is healthy whatever "
        "else its log shows.",
        source=_diagnose(order="etvhs"),
    ),
    Mistake(
        "diagnose_run",
        "spike_against_the_mean_norm",
        "the largest gradient norm compared with the mean norm, not the median",
        hint="One spike drags the mean up with it (in fewer than 100 steps it can never be "
        "100 times the mean): compare with np.median(norms).",
        source=_diagnose(exploding=_EXPLODING.replace("np.median(norms)", "np.mean(norms)")),
    ),
    Mistake(
        "diagnose_run",
        "too_large_against_twice_the_baseline",
        "the loss compared with twice the baseline, not twice the first loss",
        hint="The rate is too large when the loss climbs above twice where it STARTED: "
        "compare with 2 * losses[0].",
        source=_diagnose(too_large=_TOO_LARGE.replace("2 * losses[0]", "2 * baseline")),
    ),
    Mistake(
        "diagnose_run",
        "too_large_over_every_loss",
        "the largest loss taken over every step, the first 10 included",
        hint="Only the losses after the first 10 steps count: np.max(losses[10:]).",
        source=_diagnose(too_large=_TOO_LARGE.replace("losses[10:]", "losses")),
    ),
    Mistake(
        "diagnose_run",
        "nonfinite_tested_on_the_losses_only",
        "inf and NaN looked for in the losses only (the spike test on the finite norms)",
        hint="A gradient norm can be inf while the loss is still finite: test np.isfinite "
        "on the gradient norms too.",
        source=_diagnose(
            exploding="    finite = norms[np.isfinite(norms)]\n"
            "    if (not np.all(np.isfinite(losses))\n"
            "            or np.max(finite) > 100 * np.median(finite)):\n"
            "        return 'exploding gradient', 'clip the gradient'\n"
        ),
    ),
    Mistake(
        "diagnose_run",
        "vanishing_at_0_95_of_the_baseline",
        "the flat loss compared with 0.95 times the baseline, not 0.9",
        hint="Flat at the no-memory level means at least 0.9 times the baseline.",
        source=_diagnose(vanishing=_VANISHING.replace("0.9 * baseline", "0.95 * baseline")),
    ),
    Mistake(
        "diagnose_run",
        "spike_cutoff_300",
        "the spike cut-off at 300 times the median gradient norm, not 100",
        hint="The spike test is the largest gradient norm more than 100 times the median.",
        source=_diagnose(exploding=_EXPLODING.replace("100 * np.median", "300 * np.median")),
    ),
    Mistake(
        "diagnose_run",
        "too_large_factor_2_4",
        "the climb compared with 2.4 times the first loss, not twice",
        hint="The rate is too large when a loss after step 10 is more than TWICE the first loss.",
        source=_diagnose(too_large=_TOO_LARGE.replace("2 * losses[0]", "2.4 * losses[0]")),
    ),
    Mistake(
        "diagnose_run",
        "grad_ratio_cutoff_1e_5",
        "grad_ratio compared with 1e-5, not 1e-6",
        hint="The gradient has vanished when grad_ratio is below 1e-6; at 3e-6 it still reaches "
        "back.",
        source=_diagnose(vanishing=_VANISHING.replace("grad_ratio < 1e-6", "grad_ratio < 1e-5")),
    ),
    Mistake(
        "diagnose_run",
        "vanishing_at_0_8_of_the_baseline",
        "the flat loss compared with 0.8 times the baseline, not 0.9",
        hint="Flat at the no-memory level means at least 0.9 times the baseline; below it the run "
        "learned part: partial learning.",
        source=_diagnose(vanishing=_VANISHING.replace("0.9 * baseline", "0.8 * baseline")),
    ),
    Mistake(
        "diagnose_run",
        "nonfinite_tested_on_the_norms_only",
        "inf and NaN looked for in the gradient norms only, not in the losses",
        hint="A loss can be NaN while every gradient norm is finite: test np.isfinite on the "
        "losses too.",
        source=_diagnose(
            exploding="    if (not np.all(np.isfinite(norms))\n"
            "            or np.max(norms) > 100 * np.median(norms)):\n"
            "        return 'exploding gradient', 'clip the gradient'\n"
        ),
    ),
    Mistake(
        "diagnose_run",
        "vanishing_by_the_last_loss",
        "the last loss, not the mean of the last 10, compared with 0.9 times the baseline",
        hint="Vanishing or partial learning: compare the MEAN of the last 10 losses with 0.9 * "
        "baseline, not the last loss alone.",
        source=_diagnose(
            vanishing=_VANISHING.replace("np.mean(losses[-10:]) >= 0.9", "losses[-1] >= 0.9")
        ),
    ),
    # ---- diagnose_run: equality at a cut-off on the wrong side
    Mistake(
        "diagnose_run",
        "healthy_strictly_below_the_threshold",
        "healthy only when the last 10 losses average strictly below the threshold",
        hint="The healthy test says AT MOST the threshold: a mean exactly at it is healthy.",
        source=_diagnose(healthy=_HEALTHY.replace("<= threshold", "< threshold")),
    ),
    Mistake(
        "diagnose_run",
        "spike_at_exactly_100_times",
        "a largest gradient norm of exactly 100 times the median counted as a spike",
        hint="The spike test says MORE than 100 times the median: exactly 100 times is not a "
        "spike.",
        source=_diagnose(exploding=_EXPLODING.replace("> 100 * np.median", ">= 100 * np.median")),
    ),
    Mistake(
        "diagnose_run",
        "too_large_at_exactly_twice",
        "a loss of exactly twice the first counted as a climb",
        hint="The too-large test says MORE than twice the first loss: exactly twice is not.",
        source=_diagnose(too_large=_TOO_LARGE.replace("> 2 * losses[0]", ">= 2 * losses[0]")),
    ),
    Mistake(
        "diagnose_run",
        "vanishing_strictly_above_0_9",
        "vanishing only when the last 10 losses average strictly above 0.9 times the baseline",
        hint="The vanishing test says AT LEAST 0.9 times the baseline: exactly 0.9 times is "
        "vanishing, not partial learning.",
        source=_diagnose(vanishing=_VANISHING.replace(">= 0.9 * baseline", "> 0.9 * baseline")),
    ),
    Mistake(
        "diagnose_run",
        "grad_ratio_at_most_1e_6",
        "a grad_ratio of exactly 1e-6 counted as vanished",
        hint="The gradient has vanished when grad_ratio is BELOW 1e-6: exactly 1e-6 is not.",
        source=_diagnose(vanishing=_VANISHING.replace("grad_ratio < 1e-6", "grad_ratio <= 1e-6")),
    ),
]
