"""Known mistakes of notebook 08_mitigations: the catalogue that diagnosis and the mutation tests read.

See instructor/catalogue.py for what an entry holds and CONTRIBUTING.md for how to add one.

### MISTAKE CATALOGUE: instructor material, never published
"""

from instructor.catalogue import Mistake


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


MISTAKES = [
    # ---- l2_penalty
    Mistake('l2_penalty', 'gradient_lam_w_the_2_forgotten',
            'gradient lam * w (the 2 forgotten)',
            source=_penalty("l2_penalty", "w ** 2", "lam * w"),
            roundtrip=True),
    Mistake('l2_penalty', 'value_with_a_factor_1_2_the_other',
            'value with a factor 1/2 (the other convention)',
            source=_penalty("l2_penalty", "w ** 2 / 2", "2 * lam * w")),
    Mistake('l2_penalty', 'norm_instead_of_squared_norm',
            'norm instead of squared norm',
            source="def l2_penalty(params, lam):\n"
                      "    norm = np.sqrt(sum(np.sum(np.asarray(w) ** 2) for w in params))\n"
                      "    return lam * norm, [2 * lam * np.asarray(w) for w in params]\n"),
    Mistake('l2_penalty', 'penalty_on_the_biases_only',
            'penalty on the biases only',
            source=_penalty("l2_penalty", "w ** 2", "2 * lam * w if w.ndim == 1 else np.zeros_like(w)",
                               loop="params if w.ndim == 1")),
    Mistake('l2_penalty', 'penalty_on_the_matrices_only_biases',
            'penalty on the matrices only (biases skipped)',
            source=_penalty("l2_penalty", "w ** 2", "2 * lam * w if w.ndim > 1 else np.zeros_like(w)",
                               loop="params if w.ndim > 1")),
    Mistake('l2_penalty', 'mean_of_the_squares_instead_of_the',
            'mean of the squares instead of the sum',
            source=_penalty("l2_penalty", "w ** 2 / w.size", "2 * lam * w / w.size")),
    Mistake('l2_penalty', 'only_the_last_array_s_gradient',
            "only the last array's gradient returned",
            source="def l2_penalty(params, lam):\n"
                      "    value = 0.0\n"
                      "    for w in params:\n"
                      "        value += lam * np.sum(w ** 2)\n"
                      "    return value, [2 * lam * w]\n"),
    Mistake('l2_penalty', 'weights_decayed_in_place',
            'weights decayed in place',
            source="def l2_penalty(params, lam):\n"
                      "    value = lam * sum(np.sum(w ** 2) for w in params)\n"
                      "    grads = []\n"
                      "    for w in params:\n"
                      "        w *= 2 * lam\n"
                      "        grads.append(w)\n"
                      "    return value, grads\n"),
    # ---- l1_penalty
    Mistake('l1_penalty', 'subgradient_lam_at_w_0',
            'subgradient lam at w = 0',
            source=_penalty("l1_penalty", "np.abs(w)", "lam * np.where(w >= 0, 1.0, -1.0)"),
            roundtrip=True),
    Mistake('l1_penalty', 'w_w_0_0_at_w_0',
            'w / |w| (0 / 0 at w = 0)',
            source=_penalty("l1_penalty", "np.abs(w)", "lam * w / np.abs(w)")),
    Mistake('l1_penalty', 'value_without_the_absolute_value',
            'value without the absolute value',
            source=_penalty("l1_penalty", "w", "lam * np.sign(w)")),
    Mistake('l1_penalty', 'the_l2_gradient',
            'the L2 gradient',
            source=_penalty("l1_penalty", "np.abs(w)", "2 * lam * w")),
    Mistake('l1_penalty', 'lam_forgotten_in_the_gradient',
            'lam forgotten in the gradient',
            source=_penalty("l1_penalty", "np.abs(w)", "np.sign(w)")),
    Mistake('l1_penalty', 'penalty_on_the_biases_only_2',
            'penalty on the biases only',
            source=_penalty("l1_penalty", "np.abs(w)",
                               "lam * np.sign(w) if w.ndim == 1 else np.zeros_like(w)",
                               loop="params if w.ndim == 1")),
    # ---- dot_product_attention
    Mistake('dot_product_attention', 'softmax_over_the_batch_axis',
            'softmax over the batch axis',
            source=_attention(shift="scores.max(axis=1, keepdims=True)", axis="1"),
            roundtrip=True),
    Mistake('dot_product_attention', 'no_max_subtracted_overflows',
            'no max subtracted (overflows)',
            source=_attention(shift="0")),
    Mistake('dot_product_attention', 'one_max_over_all_sequences',
            'one max over all sequences',
            source=_attention(shift="scores.max()")),
    Mistake('dot_product_attention', 'no_1_sqrt_h',
            'no 1/sqrt(H)',
            source=_attention(scores="np.einsum('tbh,bh->tb', keys, query)")),
    Mistake('dot_product_attention', 'divided_by_h_instead_of_sqrt_h',
            'divided by H instead of sqrt(H)',
            source=_attention(scores="np.einsum('tbh,bh->tb', keys, query) / query.shape[1]")),
    Mistake('dot_product_attention', 'sqrt_t_instead_of_sqrt_h',
            'sqrt(T) instead of sqrt(H)',
            source=_attention(scores="np.einsum('tbh,bh->tb', keys, query) / np.sqrt(keys.shape[0])")),
    Mistake('dot_product_attention', 'context_from_the_keys',
            'context from the keys',
            source=_attention(context="np.einsum('tb,tbh->bh', weights, keys)")),
    Mistake('dot_product_attention', 'weights_returned_as_b_t',
            'weights returned as (B, T)',
            source="def dot_product_attention(query, keys, values):\n"
                      "    scores = np.einsum('bh,tbh->bt', query, keys) / np.sqrt(query.shape[1])\n"
                      "    e = np.exp(scores - scores.max(axis=1, keepdims=True))\n"
                      "    weights = e / e.sum(axis=1, keepdims=True)\n"
                      "    return np.einsum('bt,tbh->bh', weights, values), weights\n"),
    Mistake('dot_product_attention', 'context_from_the_raw_scores',
            'context from the raw scores',
            source=_attention(context="np.einsum('tb,tbh->bh', scores, values)")),
    Mistake('dot_product_attention', 'keys_scaled_in_place',
            'keys scaled in place',
            source="def dot_product_attention(query, keys, values):\n"
                      "    keys /= np.sqrt(query.shape[1])\n"
                      "    scores = np.einsum('tbh,bh->tb', keys, query)\n"
                      "    e = np.exp(scores - scores.max(axis=0))\n"
                      "    weights = e / e.sum(axis=0)\n"
                      "    return np.einsum('tb,tbh->bh', weights, values), weights\n"),
    Mistake('dot_product_attention', 'right_numbers_computed_by_torch',
            'right numbers, computed by torch',
            source="def dot_product_attention(query, keys, values):\n"
                      "    import torch\n"
                      "    q, k, v = (torch.from_numpy(np.asarray(a)) for a in (query, keys, values))\n"
                      "    w = torch.softmax(torch.einsum('tbh,bh->tb', k, q) / q.shape[1] ** 0.5, dim=0)\n"
                      "    return torch.einsum('tb,tbh->bh', w, v).numpy(), w.numpy()\n"),
    # ---- steps_to_threshold
    Mistake('steps_to_threshold', 'less_instead_of_less_or_equal',
            '< instead of <=',
            source=_threshold("    for i, loss in enumerate(losses):\n"
                                 "        if loss < threshold:\n"
                                 "            return i\n"
                                 "    return None\n"),
            roundtrip=True),
    Mistake('steps_to_threshold', 'counts_from_1_off_by_one',
            'counts from 1 (off by one)',
            source=_threshold("    for i, loss in enumerate(losses):\n"
                                 "        if loss <= threshold:\n"
                                 "            return i + 1\n"
                                 "    return None\n")),
    Mistake('steps_to_threshold', 'np_argmax_of_the_mask_0_when_never',
            'np.argmax of the mask (0 when never)',
            source=_threshold("    return int(np.argmax(losses <= threshold))\n")),
    Mistake('steps_to_threshold', 'the_last_crossing',
            'the last crossing',
            source=_threshold("    hits = np.flatnonzero(losses <= threshold)\n"
                                 "    return int(hits[-1]) if len(hits) else None\n")),
    Mistake('steps_to_threshold', 'the_step_of_the_lowest_loss',
            'the step of the lowest loss',
            source=_threshold("    i = int(np.nanargmin(losses))\n"
                                 "    return i if losses[i] <= threshold else None\n")),
    Mistake('steps_to_threshold', 'counts_the_losses_above_the',
            'counts the losses above the threshold',
            source=_threshold("    n = int(np.sum(losses > threshold))\n"
                                 "    return n if n < len(losses) else None\n")),
    Mistake('steps_to_threshold', '1_when_never',
            '-1 when never',
            source=_threshold("    for i, loss in enumerate(losses):\n"
                                 "        if loss <= threshold:\n"
                                 "            return i\n"
                                 "    return -1\n")),
    Mistake('steps_to_threshold', 'nan_counted_as_reached',
            'NaN counted as reached',
            source=_threshold("    for i, loss in enumerate(losses):\n"
                                 "        if not loss > threshold:\n"
                                 "            return i\n"
                                 "    return None\n")),
    Mistake('steps_to_threshold', 'indexerror_when_never',
            'IndexError when never',
            source=_threshold("    return int(np.flatnonzero(losses <= threshold)[0])\n")),
]
