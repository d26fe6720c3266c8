"""Known mistakes of notebook 05_clipping: the catalogue that diagnosis and the mutation tests read.

See instructor/diagnosis/catalogue.py for what an entry holds, and CONTRIBUTING.md for how to
add one.

### MISTAKE CATALOGUE: instructor material, never published
"""

from instructor.diagnosis.catalogue import Mistake


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


MISTAKES = [
    # ---- clip_grad_norm
    Mistake('clip_grad_norm', 'clips_each_array_by_its_own_norm',
            'clips each array by its own norm',
            hint='Clipping by the GLOBAL norm scales every array by the same factor, computed from all of them together.',
            source="def clip_grad_norm(grads, max_norm):\n"
                      "    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))\n"
                      "    return [g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6))\n"
                      "            for g in grads], total\n",
            roundtrip=True),
    Mistake('clip_grad_norm', 'no_epsilon_max_norm_total',
            'no epsilon: max_norm / total',
            hint="PyTorch's factor is max_norm / (total + 1e-6): the epsilon changes the result and guards against total = 0.",
            source="def clip_grad_norm(grads, max_norm):\n"
                      "    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))\n"
                      "    return [g * min(1.0, max_norm / total) for g in grads], total\n"),
    Mistake('clip_grad_norm', 'clips_only_when_total_max_norm',
            'clips only when total > max_norm',
            hint='Compare the factor max_norm / (total + 1e-6) with 1, as PyTorch does, not total with max_norm.',
            source="def clip_grad_norm(grads, max_norm):\n"
                      "    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))\n"
                      "    if total <= max_norm:\n"
                      "        return [np.array(g, float) for g in grads], total\n"
                      "    return [g * (max_norm / (total + 1e-6)) for g in grads], total\n"),
    Mistake('clip_grad_norm', 'returns_the_norm_after_clipping',
            'returns the norm after clipping',
            hint='Return the global norm BEFORE clipping, as torch.nn.utils.clip_grad_norm_ does.',
            source="def clip_grad_norm(grads, max_norm):\n"
                      "    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))\n"
                      "    factor = min(1.0, max_norm / (total + 1e-6))\n"
                      "    return [g * factor for g in grads], total * factor\n"),
    Mistake('clip_grad_norm', 'also_scales_short_gradients_up',
            'also scales short gradients up',
            hint='Clipping only shrinks: the factor is min(1, max_norm / (total + 1e-6)).',
            source="def clip_grad_norm(grads, max_norm):\n"
                      "    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))\n"
                      "    return [g * (max_norm / (total + 1e-6)) for g in grads], total\n"),
    Mistake('clip_grad_norm', 'scales_the_arrays_in_place',
            'scales the arrays in place',
            hint='Leave the input arrays unchanged: return new arrays.',
            source="def clip_grad_norm(grads, max_norm):\n"
                      "    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))\n"
                      "    for g in grads:\n"
                      "        g *= min(1.0, max_norm / (total + 1e-6))\n"
                      "    return grads, total\n"),
    Mistake('clip_grad_norm', 'largest_entry_instead_of_the_norm',
            'largest entry instead of the norm',
            hint='The global norm is sqrt of the sum of ALL squared entries, not the largest entry.',
            source="def clip_grad_norm(grads, max_norm):\n"
                      "    total = float(max(np.max(np.abs(g)) for g in grads))\n"
                      "    return [g * min(1.0, max_norm / (total + 1e-6)) for g in grads], total\n"),
    Mistake('clip_grad_norm', 'sum_of_the_arrays_norms',
            "sum of the arrays' norms",
            hint="The global norm is sqrt of the sum of all squared entries, not the sum of the arrays' norms.",
            source="def clip_grad_norm(grads, max_norm):\n"
                      "    total = float(sum(np.linalg.norm(g) for g in grads))\n"
                      "    return [g * min(1.0, max_norm / (total + 1e-6)) for g in grads], total\n"),
    Mistake('clip_grad_norm', 'epsilon_added_to_the_factor',
            'adds the 1e-6 to the factor instead of the norm',
            hint='The epsilon belongs in the denominator, next to the norm: mind the brackets.',
            source="def clip_grad_norm(grads, max_norm):\n"
                      "    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))\n"
                      "    factor = min(1.0, max_norm / total + 1e-6)\n"
                      "    return [np.asarray(g) * factor for g in grads], total\n"),
    Mistake('clip_grad_norm', 'returns_float32_arrays',
            'returns float32 arrays',
            hint='The gradients come in as float64: keep them in float64.',
            source="def clip_grad_norm(grads, max_norm):\n"
                      "    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))\n"
                      "    factor = min(1.0, max_norm / (total + 1e-6))\n"
                      "    return [(np.asarray(g) * factor).astype(np.float32) for g in grads], total\n",
            # replay compares float32 at float32's tolerance, where it agrees with the right
            # answer (and with other mistakes): the visible check names the dtype instead
            diagnosable=False),
    # ---- clip_grad_value
    Mistake('clip_grad_value', 'clips_only_from_above',
            'clips only from above',
            hint='Clip to [-clip_value, clip_value]: large negative entries are clipped too.',
            source="def clip_grad_value(grads, clip_value):\n"
                      "    return [np.minimum(g, clip_value) for g in grads]\n",
            roundtrip=True),
    Mistake('clip_grad_value', 'clips_to_0_clip_value',
            'clips to [0, clip_value]',
            hint='The interval is symmetric, [-clip_value, clip_value]: negative entries stay negative.',
            source="def clip_grad_value(grads, clip_value):\n"
                      "    return [np.clip(g, 0.0, clip_value) for g in grads]\n"),
    Mistake('clip_grad_value', 'clips_in_place',
            'clips in place',
            hint='Leave the input arrays unchanged: return new arrays.',
            source="def clip_grad_value(grads, clip_value):\n"
                      "    for g in grads:\n"
                      "        np.clip(g, -clip_value, clip_value, out=g)\n"
                      "    return grads\n"),
    Mistake('clip_grad_value', 'every_entry_becomes_clip_value',
            'every entry becomes +-clip_value',
            hint='Only entries outside [-clip_value, clip_value] change; the others stay as they are.',
            source="def clip_grad_value(grads, clip_value):\n"
                      "    return [np.sign(g) * clip_value for g in grads]\n"),
    Mistake('clip_grad_value', 'clips_by_norm_instead',
            'clips by norm instead',
            hint='Value clipping clips each entry on its own, whatever the norm.',
            source="def clip_grad_value(grads, clip_value):\n"
                      "    return [g * min(1.0, clip_value / (np.linalg.norm(g) + 1e-6)) for g in grads]\n"),
    Mistake('clip_grad_value', 'one_concatenated_array',
            'one concatenated array',
            hint='Return a list with one array per input array, shapes kept.',
            source="def clip_grad_value(grads, clip_value):\n"
                      "    return np.clip(np.concatenate([np.ravel(g) for g in grads]), -clip_value,\n"
                      "                   clip_value)\n"),
    # ---- train_step
    Mistake('train_step', 'clips_after_optimizer_step',
            'clips after optimizer.step()',
            hint='Clip the gradients before optimizer.step() uses them.',
            source=_train_step(clip_before_step=False),
            roundtrip=True),
    Mistake('train_step', 'never_calls_zero_grad',
            'never calls zero_grad',
            hint='Gradients accumulate in .grad: zero them before backward.',
            source=_train_step(zero=""),
            # the gradients it leaves behind accumulate inside the sandbox, which carries a
            # module's parameters back to the grader but not their .grad: a replay cannot see them
            diagnosable=False),
    Mistake('train_step', 'zero_grad_between_backward_and_step',
            'zero_grad between backward and step',
            hint='zero_grad() erases what backward() just computed: call it before backward.',
            source=_train_step(zero="", after_backward="    optimizer.zero_grad()\n")),
    Mistake('train_step', 'clips_before_backward',
            'clips before backward',
            hint='The gradients exist only after loss.backward(): clip after it.',
            source=_train_step(before_backward="    norm = clip(model.parameters(), limit)\n",
                                  clip="")),
    Mistake('train_step', 'returns_the_norm_after_clipping_2',
            'returns the norm after clipping',
            hint='Report the norm that clip_grad_norm_ returns: the norm before clipping.',
            source=_train_step(returned="float(torch.nn.utils.get_total_norm("
                                           "[p.grad for p in model.parameters()]))")),
    Mistake('train_step', 'clips_each_parameter_on_its_own',
            'clips each parameter on its own',
            hint='Clip all parameters together, in one call, so that they share one factor.',
            source=_train_step(clip="    norm = torch.nn.utils.get_total_norm([p.grad for p in params])\n"
                                       "    for p in params:\n"
                                       "        clip([p], limit)\n")),
    Mistake('train_step', 'clips_by_value',
            'clips by value',
            hint='max_norm is a bound on the global norm: torch.nn.utils.clip_grad_norm_.',
            source=_train_step(clip="    norm = torch.nn.utils.get_total_norm([p.grad for p in params])\n"
                                       "    torch.nn.utils.clip_grad_value_(params, limit)\n")),
    Mistake('train_step', 'returns_tensors',
            'returns tensors',
            hint='Return Python floats (float(...) or .item()), not tensors.',
            source=_train_step(returned="norm", loss_returned="loss")),
    Mistake('train_step', 'ignores_max_norm',
            'ignores max_norm',
            hint='Use the max_norm you are given when it is set.',
            source=_train_step(limit="float('inf')")),
    Mistake('train_step', 'passes_max_norm_none_to_clip_grad',
            'passes max_norm=None to clip_grad_norm_',
            hint='max_norm=None means no clipping: measure the norm with an infinite limit instead of passing None.',
            source=_train_step(limit="max_norm")),
    Mistake('train_step', 'measures_the_norm_only_when_clipping',
            'returns a norm of 0 when max_norm is None',
            hint='With max_norm=None nothing is clipped, but the norm is still measured and returned.',
            source=_train_step(clip="    norm = 0.0\n"
                                       "    if max_norm is not None:\n"
                                       "        norm = clip(params, max_norm)\n")),
    Mistake('train_step', 'reports_the_loss_after_the_update',
            'reports the loss after the update',
            hint="Return the loss of this step's forward pass, computed before the update.",
            source=_train_step(loss_returned="loss_fn(model(inputs)[0], targets).item()")),
]
