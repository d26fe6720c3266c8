"""Mirroring arguments between the grader and a sandbox child.

A check may pass arrays, random generators, tensors and modules to a student's function and then
look at what the function did to them (an optimizer step that moved a model's weights, a draw
that advanced a generator). Each side takes a `state_of` every argument and the other side
`apply_state`s it onto its own copy, in place. Both run in both processes: the grader sends the
gradients that pickling drops; the child sends back the arguments as the call left them.

The grader applies what comes back only to arguments that are there to be changed (a generator,
a model, an optimizer): the data it passed (arrays, tensors, and lists, tuples and dicts of them)
stays its own, untouched copy, from which it computes the expected value. `changed_argument`
says which of them the student's function changed in place (`helpers.checks.protected_copy`).
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import numpy as np

MAX_DEPTH = 4


def state_of(value: Any, depth: int = 0) -> Any:
    """What it takes to mirror `value` (arrays, random generators, tensors and modules with their
    gradients, and lists or tuples of them); None for anything else."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, np.random.Generator):  # the exercises of notebook 06 draw from it
        return {"rng": value.bit_generator.state}
    if type(value) in (list, tuple) and depth < MAX_DEPTH:  # a list of gradient arrays, say
        return {"items": [state_of(v, depth + 1) for v in value]}
    if type(value) is dict and depth < MAX_DEPTH and all(type(k) is str for k in value):
        return {"entries": {k: state_of(v, depth + 1) for k, v in value.items()}}
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return {"data": value, "grad": value.grad}
    if torch is not None and isinstance(value, torch.nn.Module):
        params = dict(value.named_parameters())
        return {
            "state": dict(value.state_dict()),  # an OrderedDict would arrive opaque
            "grads": {k: p.grad for k, p in params.items() if p.grad is not None},
        }
    return None


def apply_state(target: Any, state: Any) -> None:
    """Copy a `state_of` an argument into this process's copy of it, in place. States that do
    not fit their target (another shape, another type) are ignored."""
    if state is None:
        return
    if isinstance(target, np.ndarray) and isinstance(state, np.ndarray):
        if state.shape == target.shape and target.flags.writeable:
            np.copyto(target, state, casting="unsafe")
        return
    if isinstance(target, np.random.Generator) and isinstance(state, dict):
        with contextlib.suppress(TypeError, ValueError, KeyError):  # a state it cannot take
            target.bit_generator.state = state.get("rng")
        return
    if (
        type(target) in (list, tuple)
        and isinstance(state, dict)
        and isinstance(state.get("items"), list)
    ):
        for item, item_state in zip(target, state["items"], strict=False):
            apply_state(item, item_state)
        return
    if type(target) is dict and isinstance(state, dict) and isinstance(state.get("entries"), dict):
        for key, item_state in state["entries"].items():
            if key in target:
                apply_state(target[key], item_state)
        return
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(state, dict):
        _apply_torch_state(torch, target, state)


def _apply_torch_state(torch: Any, target: Any, state: dict) -> None:
    with torch.no_grad():
        if isinstance(target, torch.Tensor) and isinstance(state.get("data"), torch.Tensor):
            if state["data"].shape == target.shape:
                target.copy_(state["data"])
                grad = state.get("grad")
                target.grad = grad.to(target.dtype) if isinstance(grad, torch.Tensor) else None
        elif isinstance(target, torch.nn.Module) and isinstance(state.get("state"), dict):
            own = target.state_dict()
            for key, value in state["state"].items():
                if key in own and isinstance(value, torch.Tensor) and value.shape == own[key].shape:
                    own[key].copy_(value)
            grads = state.get("grads") or {}
            for key, param in target.named_parameters():
                grad = grads.get(key)
                ok = isinstance(grad, torch.Tensor) and grad.shape == param.shape
                param.grad = grad.to(param.dtype) if ok else None


def changed_argument(targets: list[Any], states: list[Any]) -> tuple[int, Any] | None:
    """Mirror `states` (the arguments as a call left them, from the other process) onto those of
    `targets` that may change; return (index, the argument as the call left it) for the first
    target whose data the call changed, None when it changed none. The data of `targets`
    itself is never touched."""
    from helpers.checks import first_changed, protected_copy

    probes = []
    for target, state in zip(targets, states, strict=False):
        probe = protected_copy(target)  # the target itself where it may change
        apply_state(probe, state)
        probes.append(probe)
    index = first_changed(list(targets), probes)
    return None if index is None else (index, probes[index])
