"""What training the seeds of notebook 08's comparison as one batched computation buys.

    python benchmarks/comparison_seeds.py [--length 100] [--steps 20] [--repeats 3]

For every recipe of helpers.comparison it times `--steps` Adam steps of all the study's seeds
(adding problem, the study's batch size and hidden size, one torch thread) three ways: one seed
after another (helpers.training.train on the recipe's own model: unrolled cells, or PyTorch's
fused kernels for the LSTM and the GRU), batched with helpers.ensembles (explicit batched
cells), and, for the LSTM and the GRU, one after another on the unrolled cells. It prints ms per
step of all seeds (best of `--repeats`) and the speed-up of the batched run over one after
another. Timings on a shared machine are inflated: quote the load average printed with them.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from helpers import comparison, ensembles, training


def torch_attention(query, keys, values):
    return torch.nn.functional.scaled_dot_product_attention(
        query.unsqueeze(1), keys.transpose(0, 1), values.transpose(0, 1)).squeeze(1)


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench(recipe: comparison.Recipe, length: int, steps: int, repeats: int) -> dict:
    settings = comparison.Settings()
    task = comparison.TASKS["adding"]
    batches = [task.batch(settings.batch_size, length, seed=i) for i in range(steps)]

    def make(seed: int):
        return recipe.build(task.input_size, settings.hidden_size, task.output_size,
                            torch_attention)

    def one_after_another(unrolled: bool = False):
        def run() -> None:
            for seed in settings.seeds:
                torch.manual_seed(seed)
                net = make(seed)
                if unrolled:
                    net = net.unrolled()
                training.train(net, batches.__getitem__, task.loss, steps, lr=settings.lr,
                               progress=False)
        return run

    def batched() -> None:
        ens = ensembles.Ensemble(make, settings.seeds, batching="explicit")
        ensembles.train(ens, batches.__getitem__, task.loss, steps, lr=settings.lr,
                        max_norm=recipe.max_norm, weight_decay=recipe.weight_decay,
                        progress=False)

    result = {"one by one": _best(one_after_another(), repeats),
              "batched": _best(batched, repeats)}
    if recipe.fused:
        result["one by one, unrolled"] = _best(one_after_another(unrolled=True), repeats)
    return {k: 1e3 * v / steps for k, v in result.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    seeds = len(comparison.Settings().seeds)
    print(f"{seeds} seeds, T = {args.length}, {args.steps} Adam steps, 1 torch thread, load "
          f"average {os.getloadavg()[0]:.1f}; ms per step of all seeds (best of {args.repeats})")
    print(f"{'recipe':>17} {'one by one':>11} {'batched':>9} {'speed-up':>9}   note")
    for recipe in comparison.RECIPES.values():
        r = bench(recipe, args.length, args.steps, args.repeats)
        note = (f"one by one on unrolled cells: {r['one by one, unrolled']:.1f} ms (fused "
                "kernels used by the study)" if recipe.fused else "")
        print(f"{recipe.name:>17} {r['one by one']:11.1f} {r['batched']:9.1f} "
              f"{r['one by one'] / r['batched']:8.2f}x   {note}")


if __name__ == "__main__":
    main()
