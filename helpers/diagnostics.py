"""Gradient diagnostics through time, each from ONE backward pass (cost O(T), not O(T^2))."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn


def hidden_grad_norms(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
) -> np.ndarray:
    """||dL/dh_t|| for t = 1..T from a single backward pass.

    model: returns (output, hiddens) with hiddens a list of T tensors (B, H), as every model in
    `helpers.models` does. dL/dh_t is the TOTAL derivative (through all later steps), and its
    norm is the Frobenius norm over the batch and hidden units. Parameter .grad fields are left
    untouched. Returns a float64 array of shape (T,).
    """
    output, hiddens = model(inputs)
    if not isinstance(hiddens, list | tuple) or len(hiddens) == 0:
        raise ValueError(
            "model must return (output, hiddens) with hiddens a non-empty list of "
            "(B, H) tensors: use a helpers.models.SequenceModel (a "
            "FusedSequenceModel's .unrolled() copy has the same weights)"
        )
    loss = loss_fn(output, targets)
    if loss.dim() != 0:
        raise ValueError(f"loss_fn must return a scalar, got shape {tuple(loss.shape)}")
    grads = torch.autograd.grad(loss, list(hiddens), allow_unused=True)
    norms = [0.0 if g is None else float(g.detach().double().norm()) for g in grads]
    return np.asarray(norms, dtype=np.float64)


def gradient_ratio(norms: np.ndarray) -> float:
    """||dL/dh_1|| / ||dL/dh_T||: how much the gradient shrank (< 1) or grew (> 1) through time."""
    norms = np.asarray(norms, dtype=np.float64)
    if norms.ndim != 1 or norms.size < 2:
        raise ValueError(f"norms must be a 1-D array of at least 2 values, got shape {norms.shape}")
    return float(norms[0] / norms[-1]) if norms[-1] != 0 else float("inf")
