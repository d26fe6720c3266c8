"""Write the stored results of notebook 08's comparison (helpers/data/mitigations_comparison.npz).

    python scripts/compare_mitigations.py                   # every task, recipe and length
    python scripts/compare_mitigations.py --tasks adding --out /tmp/adding.npz
    python scripts/compare_mitigations.py --merge /tmp/adding.npz /tmp/first.npz
    python scripts/compare_mitigations.py --recipes GRU --out /tmp/gru.npz   # one row again,
    python scripts/compare_mitigations.py --merge helpers/data/mitigations_comparison.npz \
        /tmp/gru.npz                                                        # later files win

Runs helpers.comparison.run with its default Settings on one torch thread (the results are
deterministic on one machine; tests/test_comparison.py re-runs one configuration and compares).
Two processes, one per task, halve the time on two cores; --merge joins their files (a
configuration in a later file replaces the same one in an earlier file). The
attention function is PyTorch's scaled_dot_product_attention, as in the notebook.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from helpers import comparison


def torch_attention(query, keys, values):
    """query (B, H), keys and values (T, B, H) -> context (B, H), by PyTorch's fused kernel."""
    return torch.nn.functional.scaled_dot_product_attention(
        query.unsqueeze(1), keys.transpose(0, 1), values.transpose(0, 1)
    ).squeeze(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="*", default=list(comparison.TASKS))
    parser.add_argument(
        "--recipes",
        nargs="*",
        default=list(comparison.RECIPES),
        help="only these recipes (merge the file into the stored one after)",
    )
    parser.add_argument("--out", default=str(comparison.STORED))
    parser.add_argument("--merge", nargs="*", help="join these result files into --out")
    args = parser.parse_args()
    if args.merge:
        parts = [comparison.load(path) for path in args.merge]
        merged = comparison.Results(comparison.Settings())
        for part in parts:
            if part.settings != merged.settings:
                raise SystemExit(f"settings differ: {part.settings}")
            merged.outcomes.update(part.outcomes)
        comparison.save(merged, args.out)
        print(f"{len(merged.outcomes)} configurations -> {args.out}")
        return
    settings = comparison.Settings(tasks=tuple(args.tasks), recipes=tuple(args.recipes))
    start = time.perf_counter()
    results = comparison.run(settings, attention=torch_attention)
    results.settings = comparison.Settings()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    comparison.save(results, args.out)
    print(
        f"{len(results.outcomes)} configurations in {time.perf_counter() - start:.0f} s "
        f"(load average {os.getloadavg()[0]:.1f}) -> {args.out}"
    )
    for key, outcome in results.outcomes.items():
        print(key, f"{outcome.seconds:.1f} s", outcome.final.round(4).tolist())


if __name__ == "__main__":
    main()
