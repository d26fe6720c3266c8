"""Time training S seeds one after another against helpers.ensembles (one batched computation).

    python benchmarks/ensembles.py [--seeds 5] [--steps 20] [--threads 1] [--repeats 3]

For each model (cell, H, T) it trains the S seeds for the same number of Adam steps on the adding
problem (B = 64) three ways: one after another with helpers.training.train, batched with explicit
batched cells (batching="explicit"), and batched with torch.func.vmap over functional_call
(batching="vmap"; PyTorch's fused LSTM and GRU cells have no vmap rule, and its tanh/relu cells
fall back to a slow loop). It reports the best of `--repeats` timings in ms per step of all S
seeds and the speed-up over one after another. Timings on a shared machine are inflated: quote
the load average printed with them.

    python benchmarks/ensembles.py --comparison [--length 100]

times notebook 08's nine recipes instead (helpers.comparison's seeds, batch, hidden size and
clipping, at one length, Adam at rate 0.01 for every recipe: the time per step does not depend
on the rate): one seed after another on each recipe's own model (unrolled cells) against the
batched ensemble the study uses (explicit batched cells), and for the LSTM also one after
another on PyTorch's fused kernel.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time
import warnings
from pathlib import Path

import torch

from helpers import comparison, ensembles, models, tasks, training

CASES = [
    ("tanh", 32, 50),
    ("tanh", 64, 200),
    ("sigmoid", 32, 50),
    ("sigmoid", 64, 200),
    ("lstm", 32, 50),
    ("lstm", 64, 200),
    ("gru", 32, 50),
]


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench(cell: str, hidden: int, seq_len: int, seeds: int, steps: int, repeats: int) -> dict:
    batches = [tasks.adding_problem(64, seq_len, seed=i) for i in range(steps)]
    loss_fn = torch.nn.functional.mse_loss

    def make(seed: int) -> models.SequenceModel:
        return models.SequenceModel(2, hidden, 1, cell=cell)

    def one_after_another() -> None:
        for seed in range(seeds):
            torch.manual_seed(seed)
            training.train(make(seed), batches.__getitem__, loss_fn, steps, progress=False)

    def batched(kind: str):
        def run() -> None:
            ens = ensembles.Ensemble(make, range(seeds), batching=kind)
            ensembles.train(ens, batches.__getitem__, loss_fn, steps, progress=False)

        return run

    result = {
        "sequential": _best(one_after_another, repeats),
        "explicit": _best(batched("explicit"), repeats),
    }
    if cell in ("lstm", "gru"):
        result["vmap"] = float("nan")  # no vmap batching rule for PyTorch's fused cells
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "performance drop ... batching rule" for tanh
            result["vmap"] = _best(batched("vmap"), repeats)
    return {k: 1e3 * v / steps for k, v in result.items()}


def bench_recipe(recipe, length: int, steps: int, repeats: int) -> dict:
    """ms per step of all the comparison's seeds for one recipe of helpers.comparison."""
    settings, task = comparison.Settings(), comparison.TASKS["adding"]
    batches = [task.batch(settings.batch_size, length, seed=i) for i in range(steps)]
    attention = _script_attention()

    def make(seed: int):
        return recipe.build(task.input_size, settings.hidden_size, task.output_size, attention)

    def fused(seed: int):
        net = models.FusedSequenceModel(
            task.input_size, settings.hidden_size, task.output_size, cell="lstm"
        )
        net.load_state_dict(
            {
                f"rnn.{k.split('.')[1]}_l0" if k.startswith("cell.") else k: v
                for k, v in make(seed).state_dict().items()
            }
        )
        return net

    def one_after_another(build):
        def run() -> None:
            for seed in settings.seeds:
                torch.manual_seed(seed)
                training.train(
                    build(seed), batches.__getitem__, task.loss, steps, lr=0.01, progress=False
                )

        return run

    def batched() -> None:
        ens = ensembles.Ensemble(make, settings.seeds, batching="explicit")
        decay = (
            {"optimizer": "adamw", "weight_decay": recipe.decay, "decay_only": ["cell.weight_hh"]}
            if recipe.decay
            else {}
        )
        ensembles.train(
            ens,
            batches.__getitem__,
            task.loss,
            steps,
            lr=0.01,
            max_norm=settings.max_norm,
            progress=False,
            **decay,
        )

    result = {
        "sequential": _best(one_after_another(make), repeats),
        "explicit": _best(batched, repeats),
    }
    if recipe.name == "LSTM":
        result["fused"] = _best(one_after_another(fused), repeats)
    return {k: 1e3 * v / steps for k, v in result.items()}


def _script_attention():
    """The torch attention of scripts/compare_mitigations.py (the study's own)."""
    path = Path(__file__).resolve().parents[1] / "scripts" / "compare_mitigations.py"
    spec = importlib.util.spec_from_file_location("compare_mitigations", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.torch_attention


def comparison_main(length: int, steps: int, repeats: int) -> None:
    seeds = len(comparison.Settings().seeds)
    print(
        f"notebook 08's recipes: {seeds} seeds, T = {length}, {steps} Adam steps, load average "
        f"{os.getloadavg()[0]:.1f}; ms per step of all seeds (best of {repeats})"
    )
    print(f"{'recipe':>17} {'one by one':>11} {'batched':>9} {'speed-up':>9}")
    for recipe in comparison.RECIPES.values():
        r = bench_recipe(recipe, length, steps, repeats)
        note = (
            f"   (one by one on PyTorch's fused kernel {r['fused']:.1f} ms)" if "fused" in r else ""
        )
        print(
            f"{recipe.name:>17} {r['sequential']:11.1f} {r['explicit']:9.1f} "
            f"{r['sequential'] / r['explicit']:8.2f}x{note}"
        )
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--comparison",
        action="store_true",
        help="time notebook 08's recipes (helpers.comparison) instead",
    )
    parser.add_argument("--length", type=int, default=100, help="T for --comparison")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.comparison:
        comparison_main(args.length, args.steps, args.repeats)
        return
    print(
        f"S = {args.seeds} seeds, B = 64, {args.steps} Adam steps, {args.threads} torch "
        f"thread(s), load average {os.getloadavg()[0]:.1f}; ms per step of all seeds "
        "(best of %d)" % args.repeats
    )
    print(
        f"{'cell':>8} {'H':>4} {'T':>4} {'one by one':>11} {'explicit':>9} {'vmap':>9} "
        f"{'speed-up explicit':>18} {'vmap':>6}"
    )
    for cell, hidden, seq_len in CASES:
        r = bench(cell, hidden, seq_len, args.seeds, args.steps, args.repeats)
        print(
            f"{cell:>8} {hidden:>4} {seq_len:>4} {r['sequential']:11.1f} {r['explicit']:9.1f} "
            f"{r['vmap']:9.1f} {r['sequential'] / r['explicit']:17.2f}x "
            f"{r['sequential'] / r['vmap']:5.2f}x"
        )
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
