"""The claims notebook 08 makes about its stored comparison (Section 6), checked in one place.

The notebook's discussion of the nine recipes rests on about thirty statements about the stored
runs. Each is checked here with `helpers.claims`, next to a `# rules out:` comment naming the
outcome its check fails for; the notebook calls `check(...)` and `check_first_step(...)`, which
print one line per claim. Only notebook 08 uses this module.
"""

from __future__ import annotations

import math

import numpy as np

from helpers import claims, comparison

RELU_RECIPES = ("ReLU", "IRNN")


def no_memory_loss(results, task_name: str, T: int) -> float:
    """The loss, on the validation batch every run is scored on, of the best answer that ignores
    the long-range input: always answering 1 on the adding problem (1/6 only on average over
    all batches), guessing uniformly (ln 4 on any batch) on the first-token task."""
    task = comparison.TASKS[task_name]
    if task_name != "adding":
        return task.baseline
    _, targets = comparison.validation_batch(task_name, T, results.settings)
    return float(((targets.double() - 1.0) ** 2).mean())


def relative_final(results, task_name: str, recipe: str, T: int) -> np.ndarray:
    """One per seed: the final loss on the validation batch / that batch's no-memory loss."""
    return results.outcomes[task_name, recipe, T].final / no_memory_loss(results, task_name, T)


def exact_zeros(results):
    """(dead, underflow): ||dL/dh_k|| after training at the longest length, for the (task,
    recipe) pairs with exact zeros, split into the ReLU networks and the others."""
    longest = max(results.settings.lengths)
    zeros = {
        (t, r): o.flow_after
        for (t, r, T), o in results.outcomes.items()
        if T == longest and np.any(o.flow_after == 0)
    }
    dead = {key: f for key, f in zeros.items() if key[1] in RELU_RECIPES}
    underflow = {key: f for key, f in zeros.items() if key[1] not in RELU_RECIPES}
    return dead, underflow


def check(results, summary: dict, BLOW_UP: float) -> None:
    """Check and print the claims of Section 6's discussion. summary[(task, recipe, T)]: per
    seed (step at which the running mean first reached the threshold or None, went non-finite,
    blew up), computed in the notebook with the student's steps_to_threshold."""
    stored = _Runs(results, summary, BLOW_UP)
    # The claims below read the stored runs: each comment names the outcome its check fails for.
    # Counts of seeds print their 95% interval (claims.fraction): with five seeds, 4/5 is
    # compatible with a rate below one half and 0/5 with a rate up to 43%.
    _check_every_run(stored)
    _check_adding(stored)
    _check_first_token(stored)
    _check_both_tasks(stored)


class _Runs:
    """The stored runs with the notebook's per-run summary, and the questions the claims ask of
    them. summary[(task, recipe, T)]: per seed (step at which the running mean first reached the
    threshold or None, went non-finite, blew up)."""

    def __init__(self, results, summary: dict, blow_up: float):
        self.results, self.summary, self.blow_up = results, summary, blow_up
        self.study = results.settings
        self.LENGTHS = self.study.lengths
        self.LONGEST, self.SHORTEST = max(self.study.lengths), self.study.sweep_length
        self.chosen = {
            (t, r): results.chosen_rate(t, r) for t in comparison.TASKS for r in comparison.RECIPES
        }
        self.dead, self.underflow = exact_zeros(results)

    def solved(self, task_name, recipe, T):
        return [run[0] is not None for run in self.summary[task_name, recipe, T]]

    def count(self, task_name, recipe, which):
        return sum(run[which] for T in self.LENGTHS for run in self.summary[task_name, recipe, T])

    def agrees_with_early_stop(self, row, step):
        """Your step is where the trainer stopped (the rest of the row is nan), or the run used its
        whole budget and your function found no step."""
        if step is None:
            return bool(np.all(np.isfinite(row)))
        return bool(np.all(np.isfinite(row[: step + 1])) and np.all(np.isnan(row[step + 1 :])))

    def every_seed(self, task_name, recipes, lengths):
        """One bool per seed: did every one of `recipes` reach the threshold at every one of
        `lengths` with that seed?"""
        return [
            all(self.solved(task_name, r, T)[s] for r in recipes for T in lengths)
            for s in range(len(self.study.seeds))
        ]

    def ratio_after(self, task_name, recipe, T=None):
        """One per seed: ||dL/dh_1|| / ||dL/dh_T|| after training."""
        o = self.results.outcomes[task_name, recipe, self.LONGEST if T is None else T]
        return o.flow_after[:, 0] / o.flow_after[:, -1]

    def median_steps(self, task_name, recipe, T):
        """The median steps to the threshold over ALL seeds, a seed that never got there counting
        as infinitely many (the sweep's rule): inf when most seeds never got there."""
        steps = [np.inf if run[0] is None else run[0] for run in self.summary[task_name, recipe, T]]
        return float(np.median(steps))

    def pooled(self, task_name, recipes, lengths, label=""):
        """'label k/n (95% interval ...)': the runs of `recipes` at `lengths` that reached the
        threshold, pooled over seeds, with the count's Wilson interval."""
        return claims.fraction(
            np.array([ok for r in recipes for T in lengths for ok in self.solved(task_name, r, T)]),
            label,
        )


def _check_every_run(stored: _Runs) -> None:
    """The sweep's choices and what every stored run did."""
    study, results, summary = stored.study, stored.results, stored.summary
    LENGTHS, SHORTEST, chosen = stored.LENGTHS, stored.SHORTEST, stored.chosen
    solved, count, pooled = stored.solved, stored.count, stored.pooled
    agrees_with_early_stop = stored.agrees_with_early_stop
    BLOW_UP = stored.blow_up
    TANH_FAMILY = ("tanh", "orthogonal", "tanh + skip", "tanh + attention", "tanh + decay")
    # rules out: another choice of rate in the stored sweep (the text's reading of the sweep table)
    claims.claim(
        "the sweep chose the largest rate for the GRU, the LSTM and the IRNN on the adding "
        "problem, and a smaller one for every tanh RNN (plain, orthogonal, skip, attention, "
        "decay)",
        all(chosen["adding", r] == max(study.rates) for r in ("GRU", "LSTM", "IRNN"))
        and all(chosen["adding", r] < max(study.rates) for r in TANH_FAMILY),
        ", ".join(f"{r} {chosen['adding', r]:g}" for r in comparison.RECIPES),
    )
    irnn_sweep = results.trials["first token", "IRNN", chosen["first token", "IRNN"]]
    # rules out: sweep and reported runs agreeing (both mostly reaching the threshold, or both
    # not); the intervals show that three sweep seeds cannot tell a lucky sweep from a fair one
    claims.claim(
        "first-token task: the IRNN's sweep reached the threshold in most of its runs at the "
        f"chosen rate, the reported runs at T = {SHORTEST} in none",
        irnn_sweep.solved.sum() > len(irnn_sweep.solved) / 2
        and not any(solved("first token", "IRNN", SHORTEST)),
        claims.fraction(irnn_sweep.solved, "sweep")
        + "; "
        + pooled("first token", ("IRNN",), (SHORTEST,), "reported"),
    )
    every_run = [(key, s) for key, runs in summary.items() for s in range(len(runs))]
    # rules out: a step differing from the trainer's early stop in any run (a wrong index, an
    # off-by-one of the running mean, a NaN counted as reaching the threshold)
    claims.claim(
        f"your steps_to_threshold finds exactly the step at which the trainer stopped, in "
        f"all {len(every_run)} runs",
        all(
            agrees_with_early_stop(results.outcomes[key].losses[s], summary[key][s][0])
            for key, s in every_run
        ),
    )
    # rules out: any stored run whose loss became inf or NaN
    claims.claim(
        "no run went non-finite", not any(run[1] for runs in summary.values() for run in runs)
    )
    blown = {
        (t, r): count(t, r, 2)
        for t in comparison.TASKS
        for r in comparison.RECIPES
        if count(t, r, 2)
    }
    runs_per_recipe = len(LENGTHS) * len(study.seeds)
    # rules out: a network with tanh states or gates blowing up, and an IRNN that blew up in only
    # some runs on the adding problem or in half or fewer on the first-token task
    claims.claim(
        f"only the two ReLU networks ever blew up past {BLOW_UP:g} times the baseline, "
        "clipped gradient and all; the IRNN in every run on the adding problem and in most "
        "of its runs on the first-token task",
        {r for _, r in blown} <= set(RELU_RECIPES)
        and blown.get(("adding", "IRNN"), 0) == runs_per_recipe
        and blown.get(("first token", "IRNN"), 0) > runs_per_recipe / 2,
        ", ".join(f"{t}, {r}: {n} of {runs_per_recipe} runs" for (t, r), n in blown.items()),
    )


def _check_adding(stored: _Runs) -> None:
    """The adding problem."""
    study, results, LENGTHS = stored.study, stored.results, stored.LENGTHS
    LONGEST, SHORTEST, solved = stored.LONGEST, stored.SHORTEST, stored.solved
    pooled, every_seed, ratio_after = stored.pooled, stored.every_seed, stored.ratio_after
    median_steps = stored.median_steps
    # rules out: any seed of the three failing at any length
    claims.claim_seeds(
        "adding problem: the GRU, the LSTM and attention reach the threshold at every length",
        every_seed("adding", ("GRU", "LSTM", "tanh + attention"), LENGTHS),
        pooled("adding", ("GRU", "LSTM", "tanh + attention"), LENGTHS, "runs"),
    )
    # rules out: another recipe with a lower median at some length; a seed that never reached the
    # threshold counts as infinitely many steps, so a recipe cannot win on its lucky seeds alone
    claims.claim(
        "adding problem: the GRU gets there first at every length (median steps over all "
        "five seeds, a seed that never got there counting as infinitely many)",
        all(
            min(comparison.RECIPES, key=lambda r: median_steps("adding", r, T)) == "GRU"
            for T in LENGTHS
        ),
        "; ".join(
            f"T = {T}: "
            + ", ".join(
                f"{r} {median_steps('adding', r, T):.0f}"
                for r in ("GRU", "LSTM", "tanh + attention")
            )
            for T in LENGTHS
        ),
    )
    KEEP_RECURRENCE = ("tanh", "orthogonal", "tanh + skip", "tanh + decay")
    # rules out: any of the four failing at T = 20, or any reaching the threshold at a longer length
    claims.claim_seeds(
        "adding problem: the tanh RNN, and each change that keeps its recurrence (an "
        f"orthogonal start, the skip, the decay), reaches it at T = {SHORTEST} and at "
        "no longer length",
        [
            every_seed("adding", KEEP_RECURRENCE, (SHORTEST,))[s]
            and not any(
                solved("adding", r, T)[s] for r in KEEP_RECURRENCE for T in LENGTHS if T != SHORTEST
            )
            for s in range(len(study.seeds))
        ],
        pooled("adding", KEEP_RECURRENCE, LENGTHS[1:], "longer lengths:"),
    )
    relu_adding = [sum(solved("adding", "ReLU", T)) for T in LENGTHS]
    # rules out: the ReLU RNN reaching it in half or fewer of the seeds at T = 20 or 50, or in
    # any seed at T = 100 (a statement about these runs: the intervals say how loosely five seeds
    # pin the rate)
    claims.claim(
        f"adding problem: the ReLU RNN reaches it in most of these seeds up to "
        f"T = {LENGTHS[1]}, in none at T = {LONGEST}",
        all(n > len(study.seeds) / 2 for n in relu_adding[:-1]) and relu_adding[-1] == 0,
        "; ".join(pooled("adding", ("ReLU",), (T,), f"T = {T}:") for T in LENGTHS),
    )
    lost = np.concatenate(
        [
            -np.log10(o.flow_init[:, 0] / o.flow_init[:, -1])
            for (t, r, T), o in results.outcomes.items()
            if T == LONGEST and r in ("tanh", "GRU")
        ]
    )
    # rules out: a tanh RNN or GRU that starts with a gradient losing 18 orders or fewer
    claims.claim(
        f"at T = {LONGEST}, at initialisation, the tanh RNN and the GRU lose more than 18 "
        "orders of magnitude from step T back to step 1, on both tasks, in every seed",
        bool(np.all(lost > 18.0)),
        claims.spread(lost, ".1f", "orders of magnitude lost"),
    )
    init_ratio = {
        (t, r): o.flow_init[:, 0] / o.flow_init[:, -1]
        for (t, r, T), o in results.outcomes.items()
        if T == LONGEST and r in RELU_RECIPES
    }
    # rules out: an IRNN whose gradient already shrinks by a factor of ten or more at
    # initialisation, and a ReLU RNN whose gradient does not vanish at initialisation
    claims.claim(
        f"at T = {LONGEST}, at initialisation, the IRNN passes the gradient back almost "
        "undiminished (ratio above 0.1) while the plain ReLU RNN's vanishes (below 1e-20), "
        "on both tasks, in every seed",
        all(
            bool(np.all(init_ratio[t, "IRNN"] > 0.1))
            and bool(np.all(init_ratio[t, "ReLU"] < 1e-20))
            for t in comparison.TASKS
        ),
        "; ".join(claims.spread(f, ".1e", f"{t}, {r}") for (t, r), f in init_ratio.items()),
    )
    # rules out: a GRU that did not start vanishing, or whose trained gradient still vanishes
    claims.claim_seeds(
        f"adding problem, T = {LONGEST}: the GRU starts with a gradient ratio below "
        "1e-15, like the tanh RNN, and ends above 1e-3",
        list(
            (
                results.outcomes["adding", "GRU", LONGEST].flow_init[:, 0]
                / results.outcomes["adding", "GRU", LONGEST].flow_init[:, -1]
                < 1e-15
            )
            & (ratio_after("adding", "GRU") > 1e-3)
        ),
        claims.spread(ratio_after("adding", "GRU"), ".1e", "ratio after training"),
    )


def _check_first_token(stored: _Runs) -> None:
    """The first-token task."""
    study, results, LENGTHS = stored.study, stored.results, stored.LENGTHS
    LONGEST, SHORTEST, chosen = stored.LONGEST, stored.SHORTEST, stored.chosen
    solved, pooled, every_seed = stored.solved, stored.pooled, stored.every_seed
    ratio_after = stored.ratio_after
    # rules out: any seed of the two failing at any length
    claims.claim_seeds(
        "first-token task: the GRU and attention reach the threshold at every length",
        every_seed("first token", ("GRU", "tanh + attention"), LENGTHS),
        pooled("first token", ("GRU", "tanh + attention"), LENGTHS, "runs"),
    )
    chance = {
        r: np.concatenate([results.outcomes["first token", r, T].final for T in LENGTHS])
        for r in ("ReLU", "IRNN")
    }
    # rules out: any ReLU run learning something (ending more than 0.01 below ln 4) or ending worse
    # than chance by more than 0.01
    claims.claim(
        "first-token task: both ReLU networks end at chance, within 0.01 of ln 4, in every "
        "run at every length",
        all(bool(np.all(np.abs(f - math.log(4)) < 0.01)) for f in chance.values()),
        "; ".join(claims.spread(f, ".4f", r) for r, f in chance.items()),
    )
    # rules out: any sweep run of the ReLU RNN reaching the threshold, at any rate
    claims.claim(
        "first-token task: no rate of the sweep got the ReLU RNN there in any sweep run",
        not any(t.solved.any() for t in results.sweep("first token", "ReLU").values()),
    )
    lstm_first = [sum(solved("first token", "LSTM", T)) for T in LENGTHS]
    # rules out: the LSTM reaching the threshold beyond T = SHORTEST, or never reaching it at all
    claims.claim(
        f"first-token task: the LSTM, at the rate chosen at T = {SHORTEST} "
        f"({chosen['first token', 'LSTM']:g}), reaches it at T = {SHORTEST} in some seeds "
        "and in none at the longer lengths, where it ends at chance",
        lstm_first[0] > 0
        and not any(lstm_first[1:])
        and all(
            bool(
                np.all(
                    np.abs(results.outcomes["first token", "LSTM", T].final - math.log(4)) < 0.01
                )
            )
            for T in LENGTHS[1:]
        ),
        f"seeds per length {lstm_first}; "
        + claims.fraction(np.array(solved("first token", "LSTM", SHORTEST)), f"at T = {SHORTEST}:"),
    )
    tanh_first = [sum(solved("first token", "tanh", T)) for T in LENGTHS]
    # rules out: a tanh RNN failing in some seed at T = 20, and one that at a longer length reaches
    # it in every seed or in none. "Fewer than half" would need more than five seeds: 2/5 and 1/5
    # have intervals reaching past one half
    claims.claim(
        f"first-token task: the plain tanh RNN reaches it in every seed at T = {SHORTEST}; "
        "at the longer lengths some seeds reach it and some do not",
        tanh_first[0] == len(study.seeds) and all(0 < n < len(study.seeds) for n in tanh_first[1:]),
        "; ".join(pooled("first token", ("tanh",), (T,), f"T = {T}:") for T in LENGTHS),
    )
    skip_first = [sum(solved("first token", "tanh + skip", T)) for T in LENGTHS]
    # rules out: the skip reaching it in two or more seeds more (or fewer) than the plain RNN at
    # some length, and the two rows sharing one rate
    claims.claim(
        "first-token task: the skip connection and the plain tanh RNN reach it in numbers of "
        "seeds within one of each other at every length, at different rates",
        all(abs(a - b) <= 1 for a, b in zip(skip_first, tanh_first, strict=True))
        and chosen["first token", "tanh + skip"] != chosen["first token", "tanh"],
        f"skip {skip_first} at {chosen['first token', 'tanh + skip']:g}, tanh {tanh_first} at "
        f"{chosen['first token', 'tanh']:g}; over all lengths "
        + pooled("first token", ("tanh + skip",), LENGTHS, "skip")
        + ", "
        + pooled("first token", ("tanh",), LENGTHS, "tanh"),
    )
    relu_sweep = np.concatenate([t.final for t in results.sweep("first token", "ReLU").values()])
    # rules out: a sweep run of the ReLU RNN ending more than 0.01 from chance
    claims.claim(
        "first-token task: at every rate of the sweep the ReLU RNN's runs end at chance, "
        "within 0.01 of ln 4",
        bool(np.all(np.abs(relu_sweep - math.log(4)) < 0.01)),
        claims.spread(relu_sweep, ".4f", "final cross-entropy"),
    )
    plain = results.outcomes["first token", "tanh", LONGEST]
    failed_plain = ~np.array(solved("first token", "tanh", LONGEST))
    # rules out: failed runs at chance (no partial learning: within 0.2 nats of ln 4, or half the
    # sequences right or fewer, chance being a quarter), and failed runs whose gradient still
    # reaches step 1 (ratio 1e-12 or more)
    claims.claim(
        f"first-token task, T = {LONGEST}: the tanh RNN's runs that did not reach the "
        "threshold still end more than 0.2 nats below chance, most sequences right, with a "
        "gradient ratio below 1e-12",
        bool(
            failed_plain.any()
            and np.all(plain.final[failed_plain] < math.log(4) - 0.2)
            and np.all(plain.accuracy[failed_plain] > 0.5)
            and np.all(ratio_after("first token", "tanh")[failed_plain] < 1e-12)
        ),
        f"{int(failed_plain.sum())} runs; "
        + claims.spread(plain.final[failed_plain], ".3f", "final cross-entropy")
        + "; "
        + claims.spread(plain.accuracy[failed_plain], ".2f", "accuracy")
        + "; "
        + claims.spread(ratio_after("first token", "tanh")[failed_plain], ".1e", "ratio"),
    )


def _check_both_tasks(stored: _Runs) -> None:
    """Both tasks: wins, gradients kept, exact zeros, the decay row."""
    study, results, LENGTHS = stored.study, stored.results, stored.LENGTHS
    LONGEST, chosen, dead = stored.LONGEST, stored.chosen, stored.dead
    underflow, solved, ratio_after = stored.underflow, stored.solved, stored.ratio_after
    total_wins = {
        r: sum(sum(solved(t, r, T)) for t in comparison.TASKS for T in LENGTHS)
        for r in comparison.RECIPES
    }
    runs_each = len(comparison.TASKS) * len(LENGTHS) * len(study.seeds)
    # rules out: another recipe reaching the threshold in all its runs, or the GRU or attention
    # missing it in one
    claims.claim(
        f"over both tasks only the GRU and attention reach the threshold in all {runs_each} "
        "of their runs",
        {r for r, n in total_wins.items() if n == runs_each} == {"GRU", "tanh + attention"},
        ", ".join(f"{r} {n}" for r, n in total_wins.items())
        + "; "
        + claims.fraction(np.ones(runs_each, dtype=bool), "all runs:"),
    )
    carried = {
        (t, r, s): ratio_after(t, r)[s]
        for t in comparison.TASKS
        for r in comparison.RECIPES
        if r not in RELU_RECIPES
        for s, ok in enumerate(solved(t, r, LONGEST))
        if ok
    }
    low = {k: v for k, v in carried.items() if not v > 1e-3}
    # rules out: a successful run with tanh states or gates whose gradient ratio vanished (1e-3 or
    # below) after training
    claims.claim(
        f"at T = {LONGEST}, every run that reached the threshold with tanh states or gates "
        "ends with a gradient ratio above 1e-3",
        bool(carried) and not low,
        f"{len(carried) - len(low)}/{len(carried)} runs above 1e-3; below: "
        + (", ".join(f"{t}, {r}, seed {s}: {v:.1e}" for (t, r, s), v in low.items()) or "none"),
    )
    DEAD_EXPECTED = {("adding", "IRNN"), ("first token", "IRNN"), ("first token", "ReLU")}
    # rules out: exact zeros covering half of the entries or fewer, and zeros missing from (or
    # added to) the three cases the text names
    claims.claim(
        "the ReLU networks' exact zeros cover most of ||dL/dh_k|| for the IRNN on both tasks "
        "and the ReLU RNN on the first-token task, and appear in no other ReLU case",
        set(dead) == DEAD_EXPECTED and all(np.mean(f == 0) > 0.5 for f in dead.values()),
        ", ".join(f"{t}, {r}: {np.mean(f == 0):.0%}" for (t, r), f in dead.items()),
    )
    # rules out: a zero after a nonzero entry in a tanh network's row (a cut, as by dead units)
    claims.claim(
        "where a network with tanh states has exact zeros, they are the earliest steps of a "
        "run (k = 1, 2, ...): an underflow, not dead units",
        all(
            np.all((row == 0) <= (np.cumprod(row == 0) == 1))
            for f in underflow.values()
            for row in f
        ),
        ", ".join(f"{t}, {r}" for t, r in underflow) or "no such zeros",
    )
    # rules out: the two sweeps choosing the same rate
    claims.claim(
        f"the decay row's sweep chose a different rate from the tanh RNN's on the adding "
        f"problem ({chosen['adding', 'tanh + decay']:g} and {chosen['adding', 'tanh']:g})",
        chosen["adding", "tanh + decay"] != chosen["adding", "tanh"],
    )
    decay_sweep = results.trials["adding", "tanh + decay", 0.01]
    tanh_sweep = results.trials["adding", "tanh", 0.01]
    # rules out: the plain tanh RNN doing as well at 0.01 in this sweep. Three seeds each: the
    # intervals overlap, so this is what this sweep did, not a measured difference of the two rows
    claims.claim(
        "adding problem, sweep at rate 0.01: in this sweep the decay row reached the "
        "threshold in more runs than the plain tanh RNN",
        decay_sweep.solved.sum() > tanh_sweep.solved.sum(),
        claims.fraction(decay_sweep.solved, "decay")
        + "; "
        + claims.fraction(tanh_sweep.solved, "tanh"),
    )
    # rules out: a cell where the decay row reached the threshold in more runs than the tanh RNN
    claims.claim(
        "in no cell does the decay row reach the threshold in more runs than the plain tanh RNN",
        all(
            sum(solved(t, "tanh + decay", T)) <= sum(solved(t, "tanh", T))
            for t in comparison.TASKS
            for T in LENGTHS
        ),
        "; ".join(
            f"{t}: decay {[sum(solved(t, 'tanh + decay', T)) for T in LENGTHS]}, tanh "
            f"{[sum(solved(t, 'tanh', T)) for T in LENGTHS]}"
            for t in comparison.TASKS
        ),
    )
    # rules out: a decay row whose gradient ratio after training is as large as the tanh RNN's in
    # some seed (the two rows start from the same weights and differ in rate as well as decay)
    claims.claim_seeds(
        f"adding problem, T = {LONGEST}: after training the decay row's gradient "
        "ratio is below the plain tanh RNN's",
        list(ratio_after("adding", "tanh + decay") < ratio_after("adding", "tanh")),
        claims.spread(ratio_after("adding", "tanh + decay"), ".1e", "tanh + decay")
        + "; "
        + claims.spread(ratio_after("adding", "tanh"), ".1e", "tanh"),
    )
    decay_first, tanh_first = (
        ratio_after("first token", "tanh + decay"),
        ratio_after("first token", "tanh"),
    )
    # rules out: the adding problem's order holding on the first-token task too (a decay row
    # below the tanh RNN in every seed, or a median below the tanh RNN's)
    claims.claim(
        f"first-token task, T = {LONGEST}: not so there: the decay row's median ratio is larger "
        "than the tanh RNN's, and in some seed the decay row's ratio is the larger",
        bool(np.median(decay_first) > np.median(tanh_first))
        and bool(np.any(decay_first > tanh_first)),
        f"medians: tanh + decay {np.median(decay_first):.1e}, tanh {np.median(tanh_first):.1e}",
    )
    TANH_STATES = [r for r in comparison.RECIPES if r not in ("ReLU", "IRNN")]
    failed = np.array(
        [
            relative_final(results, t, r, T)[s]
            for t in comparison.TASKS
            for r in TANH_STATES
            for T in LENGTHS
            for s, ok in enumerate(solved(t, r, T))
            if not ok
        ]
    )
    print(
        f"networks with tanh states or gates, {len(failed)} runs that did not reach the threshold: "
        f"final loss / no-memory loss {claims.spread(failed, '.2f')}"
    )
    # rules out: every failed run ending near the no-memory loss (learning nothing)
    claims.claim(
        "their failed runs do not all stay near the no-memory loss: some end below 0.7 times "
        "it (partial learning)",
        bool(np.any(failed < 0.7)),
        f"{int(np.sum(failed < 0.7))} below 0.7, of {len(failed)}",
    )


def check_first_step(
    results, summary: dict, first_step: dict, FAST_RATE: float, BLOW_UP: float
) -> None:
    """Check and print the claims about one Adam step of the IRNN (Section 6). first_step[(lr,
    clipped)]: per seed (largest |change| of W_hh, sigma_max(W_hh), next-batch MSE,
    zero-gradient entries, of those that moved, entries with a gradient that moved by less than
    0.99 lr)."""
    study = results.settings
    LENGTHS = study.lengths
    clipped_step, free_step = first_step[FAST_RATE, True], first_step[FAST_RATE, False]
    slow_steps = (first_step[0.001, True], first_step[0.001, False])
    # rules out: an entry moving by more than the rate (beyond float32 rounding), and a step in
    # which no entry moves by the full rate (clipping shrinking the step)
    claims.claim_seeds(
        "after one Adam step every entry of W_hh has moved by at most the rate, and "
        "some by the full rate, clipped or not",
        list(
            (np.abs(clipped_step[:, 0] - FAST_RATE) < 1e-6)
            & (np.abs(free_step[:, 0] - FAST_RATE) < 1e-6)
        ),
    )
    # rules out: fewer than a hundred zero-gradient entries, and any of them moving
    claims.claim_seeds(
        "hundreds of entries of W_hh have an exactly zero gradient, and none of them "
        "moves, clipped or not",
        list((clipped_step[:, 3] >= 100) & (clipped_step[:, 4] == 0) & (free_step[:, 4] == 0)),
        claims.spread(clipped_step[:, 3], ".0f", "zero-gradient entries"),
    )
    # rules out: clipping leaving as many short-moved entries as no clipping (or fewer), and
    # short-moved entries making up half of the moved ones or more
    claims.claim_seeds(
        "clipping leaves more entries with a gradient moving by less than 0.99 times "
        "the rate (Adam's ε matters for them), yet they are a minority of the moved "
        "entries",
        list(
            (clipped_step[:, 5] > free_step[:, 5])
            & (clipped_step[:, 5] < (study.hidden_size**2 - clipped_step[:, 3]) / 2)
        ),
        claims.spread(clipped_step[:, 5], ".0f", "clipped")
        + "; "
        + claims.spread(free_step[:, 5], ".0f", "unclipped"),
    )
    # rules out: clipping changing σ_max by a tenth of its rise or more
    claims.claim_seeds(
        "clipping changes σ_max(W_hh) after that step by less than a tenth of its rise above 1",
        list(np.abs(clipped_step[:, 1] - free_step[:, 1]) < 0.1 * (free_step[:, 1] - 1)),
        claims.spread(clipped_step[:, 1], ".3f", "clipped")
        + "; "
        + claims.spread(free_step[:, 1], ".3f", "unclipped"),
    )
    # rules out: a first step at the chosen rate that keeps σ_max near 1 or the next loss within
    # a hundred times the baseline, clipped or not
    claims.claim_seeds(
        f"at the rate the sweep chose, one step lifts σ_max(W_hh) above 1.05, and the "
        f"next batch's loss exceeds {BLOW_UP:g} times the baseline, clipped or not",
        list(
            (np.minimum(clipped_step[:, 1], free_step[:, 1]) > 1.05)
            & (
                np.minimum(clipped_step[:, 2], free_step[:, 2])
                > BLOW_UP * comparison.TASKS["adding"].baseline
            )
        ),
        claims.spread(
            np.concatenate([clipped_step[:, 2], free_step[:, 2]]), ".3g", "next-batch MSE"
        ),
    )
    # rules out: a step at 0.001 that lifts σ_max past 1.05 or the next loss past ten baselines,
    # clipped or not
    claims.claim_seeds(
        "at rate 0.001 the same step leaves σ_max(W_hh) below 1.05 and the next "
        "batch's loss below the baseline's ten times, clipped or not",
        list(
            (np.maximum(slow_steps[0][:, 1], slow_steps[1][:, 1]) < 1.05)
            & (
                np.maximum(slow_steps[0][:, 2], slow_steps[1][:, 2])
                < 10 * comparison.TASKS["adding"].baseline
            )
        ),
        claims.spread(np.concatenate([r[:, 1] for r in slow_steps]), ".3f", "σ_max"),
    )
    irnn_slow = results.trials["adding", "IRNN", 0.001]
    # rules out: a sweep run of the IRNN at 0.001 that reached the threshold (the text: none did)
    claims.claim(
        "adding problem: the sweep's IRNN runs at rate 0.001 did not reach the threshold",
        not irnn_slow.solved.any(),
        claims.fraction(irnn_slow.solved, "reached:"),
    )
    recovered = sum(
        run[0] is not None and run[2] for T in LENGTHS for run in summary["adding", "IRNN", T]
    )
    # rules out: no run that blew up reaching the threshold (then the rule could not have rewarded
    # a rate that blows up)
    claims.claim(
        "adding problem: some of the IRNN's runs blew up and still reached the threshold",
        recovered > 0,
        f"{recovered} of {len(LENGTHS) * len(study.seeds)} runs",
    )
