"""Write the stored results of notebook 08's comparison (helpers/data/mitigations_comparison.npz).

    python scripts/compare_mitigations.py                   # every task and recipe
    python scripts/compare_mitigations.py --tasks adding --out /tmp/adding.npz
    python scripts/compare_mitigations.py --merge /tmp/adding.npz /tmp/first.npz
    python scripts/compare_mitigations.py --recipes GRU --out /tmp/gru.npz   # one row again,
    python scripts/compare_mitigations.py --merge helpers/data/mitigations_comparison.npz \
        /tmp/gru.npz                                                        # later files win

Runs helpers.comparison.run with its default Settings (for each task and recipe the learning-rate
sweep at the shortest length, then every length at the chosen rate) on one torch thread: the
results are deterministic on one machine, and tests/test_comparison.py re-runs configurations
and compares. Two processes, one per task, halve the time on two cores (about an hour each on a
shared 2-core machine); --merge joins their files (a configuration in a later file replaces the
same one in an earlier file). The attention function is PyTorch's
scaled_dot_product_attention, as in the notebook. One line per configuration goes to stdout.
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
            merged.trials.update(part.trials)
        comparison.save(merged, args.out)
        print(
            f"{len(merged.outcomes)} configurations, {len(merged.trials)} sweep trials -> "
            f"{args.out}"
        )
        return
    settings = comparison.Settings(tasks=tuple(args.tasks), recipes=tuple(args.recipes))
    start = time.perf_counter()

    def log(line: str) -> None:
        print(
            f"[{time.perf_counter() - start:6.0f} s, load {os.getloadavg()[0]:.1f}] {line}",
            flush=True,
        )

    results = comparison.run(settings, attention=torch_attention, progress=False, log=log)
    results.settings = comparison.Settings()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    comparison.save(results, args.out)
    print(
        f"{len(results.outcomes)} configurations and {len(results.trials)} sweep trials in "
        f"{time.perf_counter() - start:.0f} s (load average {os.getloadavg()[0]:.1f}) -> "
        f"{args.out}"
    )


if __name__ == "__main__":
    main()
