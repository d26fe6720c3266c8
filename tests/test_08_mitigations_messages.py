"""Notebook 08's visible checks point at the cause of each catalogued mistake.

A self-learner has only the visible check (issue 27): a mistake that passes it and fails only the
hidden tests is told "passed". test_exercise_mutants.py checks that every mistake loses points,
test_known_mistakes.py that each already fails the visible check; here its message must say
where to look (the harness: message_harness.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import checks
from message_harness import Notebook

ASSIGNMENT = "08_mitigations"
EXERCISES = (
    "l2_penalty",
    "l1_penalty",
    "dot_product_attention",
    "steps_to_threshold",
    "diagnose_run",
)
TOOLS = (
    "checking_tools",
    "checking_tools_attention",
    "checking_tools_threshold",
    "checking_tools_diagnosis",
)

# mistake id -> (the case its message names, phrases its hint must hold)
EXPECTED = {
    "less_instead_of_less_or_equal": ("a loss exactly at the threshold", ["EQUAL", "<="]),
    "nan_counted_as_reached": ("a NaN before the crossing", ["NaN never counts"]),
    "counts_from_1_off_by_one": ("small example", ["counting from 0"]),
    "the_last_crossing": ("small example", ["FIRST", "not the last one"]),
    "the_step_of_the_lowest_loss": ("small example", ["not the lowest loss"]),
    "counts_the_losses_above_the": ("small example", ["not a count of the losses above"]),
    "right_numbers_computed_by_torch": ("the function's code", ["PyTorch is the checker's oracle"]),
    "healthy_by_the_last_loss_alone": (
        "only the very last loss below the threshold",
        ["MEAN of the last 10 losses", "one low last loss is not enough"],
    ),
    "min_of_an_empty_sequence_when_never": ("never below", ["never reached", "return None"]),
    # diagnose_run: the hint follows from the expected and the returned label
    "nan_never_tested": ("exploding gradient (form 0)", ["np.isfinite", "NaN compares False"]),
    "nonfinite_tested_on_the_losses_only": (
        "exploding gradient (form 2)",
        ["the gradient norms hold inf or NaN", "the losses are all finite", "np.isfinite"],
    ),
    "loss_jump_tested_before_the_spike": (
        "exploding gradient (form 1): 300 steps",
        ["is 'exploding gradient'", "test 'exploding gradient' before it"],
    ),
    "spike_against_the_mean_norm": (
        "exploding gradient (form 1): 80 steps",
        ["times the MEDIAN norm", "not the mean"],
    ),
    "too_large_against_twice_the_baseline": (
        "learning rate too small (form 2)",
        ["times the FIRST loss", "not the baseline", "not more than twice"],
    ),
    "too_large_over_every_loss": (
        "vanishing gradient (form 2)",
        ["losses[10:]", "the first 10 steps", "do not count"],
    ),
    "vanishing_against_the_baseline_itself": (
        "vanishing gradient (form 0)",
        ["is 'vanishing gradient'", "at least 0.9", "re-read the test of 'vanishing gradient'"],
    ),
    "vanishing_at_0_95_of_the_baseline": (
        "vanishing gradient (form 1)",
        ["is 'vanishing gradient'", "at least 0.9"],
    ),
    "vanishing_by_grad_ratio_alone": (
        "partial learning (form 0)",
        ["is 'partial learning'", "below 0.9", "'vanishing gradient' comes earlier"],
    ),
    "flat_loss_alone_called_vanishing": (
        "learning rate too small (form 1)",
        ["not below 1e-6", "'vanishing gradient' comes earlier"],
    ),
    "indexerror_when_never": ("raised IndexError", ["NO step reaches it", "return None"]),
    # the cut-offs, each from the side the wrong one gets wrong
    "spike_cutoff_300": ("largest gradient norm 150 times the median", ["MEDIAN", "more than 100"]),
    "too_large_factor_2_4": (
        "one loss after step 10 at 2.2 times the first",
        ["2.2 times the FIRST loss", "more than twice"],
    ),
    "grad_ratio_cutoff_1e_5": ("grad_ratio 3e-06, the loss flat", ["3e-06 is not below 1e-6"]),
    "vanishing_at_0_8_of_the_baseline": (
        "the last 10 losses at 0.87 times the baseline",
        ["0.87 times the baseline", "below 0.9"],
    ),
    "nonfinite_tested_on_the_norms_only": (
        "one NaN loss, every gradient norm finite",
        ["the losses hold inf or NaN", "the gradient norms are all finite", "np.isfinite"],
    ),
    # equality at a cut-off, on the side the table's wording puts it
    "healthy_strictly_below_the_threshold": (
        "the last 10 losses exactly at the threshold",
        ["is 'healthy'", "exactly equal", "<=, not <"],
    ),
    "spike_at_exactly_100_times": (
        "largest gradient norm exactly 100 times the median",
        ["exactly 100 is not MORE than 100", ">, not >="],
    ),
    "too_large_at_exactly_twice": (
        "one loss after step 10 exactly twice the first",
        ["exactly twice is not MORE than twice", ">, not >="],
    ),
    "vanishing_strictly_above_0_9": (
        "the last 10 losses exactly 0.9 times the baseline",
        ["is 'vanishing gradient'", "exactly 0.9 included", ">=, not >"],
    ),
    "grad_ratio_at_most_1e_6": (
        "grad_ratio exactly 1e-6",
        ["exactly 1e-6 is not BELOW it", "<, not <="],
    ),
    "vanishing_by_the_last_loss": (
        "the last loss at 0.8 times the baseline",
        ["MEAN of the last 10 losses is 0.944", "the last loss alone is 0.8", "at least 0.9"],
    ),
    "healthy_tested_last": (
        "healthy (form 1)",
        ["is 'healthy'", "MEAN of the last 10 losses", "test 'healthy' before it"],
    ),
}

NB = Notebook(ASSIGNMENT, setup=(*EXERCISES, *TOOLS), exercises=EXERCISES)


@pytest.mark.parametrize("mistake_id", sorted(EXPECTED))
def test_the_visible_check_points_at_the_cause(mistake_id, capsys):
    case, phrases = EXPECTED[mistake_id]
    NB.expect_message(mistake_id, case=case, hint=phrases)


def test_the_model_answers_pass_their_visible_checks(capsys):
    NB.run_visible_checks()


def hidden_failure(namespace) -> str:
    """The message the hidden tests of diagnose_run show in `namespace` ('' when they pass)."""
    try:
        exec(NB.cells["hidden_diagnose_run"], namespace)
    except checks.CheckFailure as failure:
        return str(failure)
    return ""


def test_the_generated_logs_get_the_answer_they_were_built_for():
    """failing_log's forms, on random seeds (the hidden tests draw theirs at grading time): the
    model answer and the table's own reading (the hints') both name the form's failure."""
    namespace = NB.namespace_with()
    forms = [
        (kind, variant)
        for kind, variants in {
            "healthy": (0, 1),
            "exploding gradient": (0, 1, 2, 3),
            "learning rate too large": (0, 1),
            "vanishing gradient": (0, 1, 2),
            "partial learning": (0,),
            "learning rate too small": (0, 1, 2),
        }.items()
        for variant in variants
    ]
    rng = np.random.default_rng()
    for kind, variant in forms:
        for steps in (None, 80):
            for _ in range(150):
                seed = int(rng.integers(2**63))
                log = namespace["failing_log"](kind, seed, variant, steps)
                first = next(name for name, held, _ in namespace["table_tests"](log) if held)
                assert namespace["diagnose_run"](**log)[0] == kind == first, (kind, variant, seed)


def test_the_hidden_tests_draw_fresh_logs_and_catch_every_mistake(capsys):
    """No seed to look up: two gradings see different logs; the model passes every time, each
    catalogued diagnose_run mistake fails every time."""
    assert "secrets.randbits" in NB.cells["hidden_diagnose_run"]
    labels = []
    for _ in range(2):
        namespace = NB.namespace_with()
        calls = []

        def recording(fn, log, expected, label, check=namespace["check_diagnosis"], calls=calls):
            calls.append(label)
            check(fn, log, expected, label)

        namespace["check_diagnosis"] = recording
        assert hidden_failure(namespace) == ""
        labels.append(calls)
    assert labels[0] != labels[1]
    for entry in NB.entries.values():
        if entry.exercise != "diagnose_run":
            continue
        for _ in range(3):
            assert hidden_failure(NB.namespace_with(entry.source)), entry.id


@pytest.mark.parametrize(
    "body",
    [
        "    return int(np.where(np.asarray(losses) <= threshold)[0][0])\n",
        "    return next(i for i, x in enumerate(losses) if x <= threshold)\n",
    ],
    ids=["IndexError", "StopIteration"],
)
def test_an_error_when_never_reached_gets_the_none_hint(body, capsys):
    """Indexing the first of no crossings raises IndexError, next() of none StopIteration: the
    same hint as min() of nothing (ValueError)."""
    namespace = NB.namespace_with("def steps_to_threshold(losses, threshold):\n" + body)
    with pytest.raises(checks.CheckFailure) as failure:
        exec(NB.cells["test_steps_to_threshold"], namespace)
    message = str(failure.value)
    assert "never below" in message and "return None" in message.split("hint:")[-1], message


def test_the_cutoff_logs_sit_on_the_side_they_were_built_for():
    """cutoff_logs on random seeds: the model answer and the table's own reading agree with the
    side of the cut-off each log was built on, with a margin (no case decided by float noise)."""
    namespace = NB.namespace_with()
    rng = np.random.default_rng()
    for _ in range(100):
        for label, log, kind in namespace["cutoff_logs"](int(rng.integers(2**63))):
            first = next(name for name, held, _ in namespace["table_tests"](log) if held)
            assert namespace["diagnose_run"](**log)[0] == kind == first, (label, kind, first)


def test_the_exact_cutoff_logs_sit_exactly_on_the_cutoff():
    """exact_cutoff_logs on random seeds: each test's two sides are equal however a student
    computes them, and the model answer and the table's reading give the side the table's
    wording ("at most", "more than", "below", "at least") puts equality on."""
    namespace = NB.namespace_with()
    rng = np.random.default_rng()
    for _ in range(100):
        cases = namespace["exact_cutoff_logs"](int(rng.integers(2**63)))
        assert len(cases) == 5
        for label, log, kind in cases:
            first = next(name for name, held, _ in namespace["table_tests"](log) if held)
            assert namespace["diagnose_run"](**log)[0] == kind == first, (label, kind, first)
        healthy, spike, climb, ratio, flat = (log for _, log, _ in cases)
        last = healthy["losses"][-10:]
        assert np.mean(last) == sum(last) / 10 == healthy["threshold"]
        norms = spike["grad_norms"]
        assert np.max(norms) == 100 * np.median(norms) and np.max(norms) / np.median(norms) == 100
        losses = climb["losses"]
        assert np.max(losses[10:]) == 2 * losses[0] and np.max(losses[10:]) / losses[0] == 2
        assert ratio["grad_ratio"] == 1e-6
        last, baseline = flat["losses"][-10:], flat["baseline"]
        assert np.mean(last) == sum(last) / 10 == 0.9 * baseline == baseline * 0.9
        assert np.mean(last) / baseline == 0.9 and np.mean(last) / 0.9 == baseline
        assert flat["grad_ratio"] < 1e-6
