"""Claims: what the prose says about an experiment, checked by the notebook right after it.

A notebook's text may say "the sigmoid RNN stays at chance, the tanh RNN does not". That sentence
is only true for the run that was made when it was written, unless the notebook checks it. So
right after the experiment a code cell states the claim again and tests it:

    claims.claim("the product of Jacobians shrinks faster for sigmoid than for tanh",
                 rate["sigmoid"] < rate["tanh"],
                 f"per step: sigmoid {rate['sigmoid']:.3f}, tanh {rate['tanh']:.3f}")

When it holds, one line is printed: `✔ statement  (evidence)`. When it does not:

- with RNN_COURSE_STRICT_CLAIMS=1 in the environment (the notebook-execution test sets it, and
  kernels inherit it) a `ClaimFailed` is raised, so a false claim fails the test suite;
- otherwise (a student's run) a visible warning box says that the text's claim did not hold in
  this run and what to look at; the notebook carries on.

While nbgrader autogrades, experiments run at a smoke scale where claims about their outcome
mean nothing: the claim is not checked, and a line says so.

A claim about random training runs is made over several seeds with `claim_seeds`: it holds only
when it holds for every seed, and its evidence says k/n seeds and the spread of the outcome.
"""

from __future__ import annotations

import html
import os
import sys
from collections.abc import Sequence

import numpy as np

from helpers import course

STRICT_ENV = "RNN_COURSE_STRICT_CLAIMS"
MIN_SEEDS = 3


class ClaimFailed(AssertionError):
    """A claim the notebook's text makes did not hold in this run (strict mode only)."""


def strict() -> bool:
    """True when a false claim must raise (RNN_COURSE_STRICT_CLAIMS=1, set by the tests)."""
    return os.environ.get(STRICT_ENV, "") == "1"


def _as_bool(name: str, value: object) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise ValueError(
        f"{name} must be True or False (a comparison's result), got {value!r} of "
        f"type {type(value).__name__}; for an array use .all() or .any()"
    )


def _text(name: str, value: object, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise ValueError(
            f"{name} must be a {'' if allow_empty else 'non-empty '}string, got {value!r}"
        )
    return value.strip()


class _FailedClaimBox:
    """A warning shown in the notebook: HTML in Jupyter, plain text anywhere else."""

    def __init__(self, statement: str, evidence: str) -> None:
        self.statement, self.evidence = statement, evidence

    def __repr__(self) -> str:
        return (
            f"⚠ The text claims: {self.statement}\n"
            f"  In this run it did not hold ({self.evidence or 'no evidence given'}).\n"
            "  Look at the numbers and the plot above: your run differs from the one the text "
            "describes (a changed seed, size or setting, or an exercise answer to recheck)."
        )

    def _repr_html_(self) -> str:
        statement, evidence = html.escape(self.statement), html.escape(self.evidence or "")
        return (
            '<div style="border:2px solid #d9822b;background:#fff4e5;padding:8px 12px;'
            'border-radius:4px;margin:4px 0">'
            "<b>⚠ The text's claim did not hold in this run.</b><br>"
            f"The text says: <i>{statement}</i><br>"
            f"This run measured: {evidence or 'no evidence given'}<br>"
            "Look at the numbers and the plot above: your run differs from the one the text "
            "describes (a changed seed, size or setting, or an exercise answer to recheck)."
            "</div>"
        )


def _warn(statement: str, evidence: str) -> None:
    box = _FailedClaimBox(statement, evidence)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python without IPython
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(box)
    else:
        print(repr(box), file=sys.stderr)


def claim(statement: str, holds: bool, evidence: str = "") -> bool:
    """Check a claim the text makes about the experiment just run; return whether it held.

    statement: the claim in words, as the text makes it. holds: the comparison that decides it
    (a bool). evidence: the measured numbers it rests on, e.g. "0.981 against 0.507".
    Holding: prints "✔ statement  (evidence)". Not holding: raises ClaimFailed when
    RNN_COURSE_STRICT_CLAIMS=1, otherwise shows a warning box. While autograding (smoke scale)
    nothing is checked: a line says so and the result is returned as is.
    """
    statement = _text("statement", statement)
    holds = _as_bool("holds", holds)
    evidence = _text("evidence", evidence, allow_empty=True)
    if course.is_autograding():
        print(f"(claim not checked at the autograder's smoke scale: {statement})")
        return holds
    if holds:
        print(f"✔ {statement}" + (f"  ({evidence})" if evidence else ""))
        return True
    if strict():
        raise ClaimFailed(
            f"the text claims: {statement}\n"
            f"but in this run it did not hold: {evidence or 'no evidence given'}"
        )
    _warn(statement, evidence)
    return False


def claim_seeds(statement: str, outcomes: Sequence[bool], spread: str = "") -> bool:
    """A claim about random runs: it holds only if it holds for every seed.

    outcomes: one bool per seed (at least 3), True where the claim held for that seed.
    spread: the range of the measured outcome over the seeds, e.g. "final MSE 0.012-0.031"
    (`spread()` below writes one). The evidence printed reads "k/n seeds; <spread>".
    """
    if isinstance(outcomes, np.ndarray):
        outcomes = outcomes.tolist()
    if isinstance(outcomes, str | bytes) or not isinstance(outcomes, Sequence):
        raise ValueError(f"outcomes must be a sequence of bools, one per seed, got {outcomes!r}")
    flags = [_as_bool(f"outcomes[{i}]", value) for i, value in enumerate(outcomes)]
    if course.is_autograding():  # smoke scale may train fewer seeds: nothing is checked there
        return claim(statement, all(flags), "")
    if len(flags) < MIN_SEEDS:
        raise ValueError(
            f"a claim about random runs needs at least {MIN_SEEDS} seeds, got "
            f"{len(flags)}: train more seeds (helpers.ensembles trains them together)"
        )
    spread = _text("spread", spread, allow_empty=True)
    evidence = f"{sum(flags)}/{len(flags)} seeds" + (f"; {spread}" if spread else "")
    return claim(statement, all(flags), evidence)


def spread(values: Sequence[float] | np.ndarray, fmt: str = ".3g", label: str = "") -> str:
    """'label lo-hi' for the values of several seeds: the range a claim_seeds evidence quotes.

    values: one number per seed; fmt: a format spec for each number (".3f", ".1e", ".0%", "d");
    label: what was measured ("final MSE"). Non-finite values are reported as such.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    prefix = f"{label} " if label else ""
    if values.size == 0:  # an empty group of seeds (none failed, say)
        return f"{prefix}(no seeds)"
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return f"{prefix}non-finite in every seed"

    def show(v: float) -> str:
        return format(int(v) if fmt.endswith("d") else v, fmt)

    lo, hi = show(finite.min()), show(finite.max())
    text = prefix + (lo if lo == hi else f"{lo} to {hi}")
    missing = values.size - finite.size
    return text + (f" ({missing} non-finite)" if missing else "")


def fraction(outcomes: Sequence[bool] | np.ndarray, label: str = "") -> str:
    """'label k/n (95% interval lo-hi)': how many of n seeds had an outcome, with the Wilson
    score interval of the underlying rate, for results that hold in some seeds and not others.

    outcomes: one bool per seed (at least one). The interval says how far the rate could be
    from k/n on another set of seeds (another machine's rounding picks another set, in effect).
    """
    flags = np.asarray(outcomes).reshape(-1)
    if flags.size == 0 or flags.dtype != np.bool_:
        raise ValueError(f"outcomes must be one bool per seed, at least one, got {outcomes!r}")
    lo, hi = wilson_interval(int(flags.sum()), flags.size)
    prefix = f"{label} " if label else ""
    return f"{prefix}{int(flags.sum())}/{flags.size} (95% interval {lo:.0%}-{hi:.0%})"


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """(lo, hi): the Wilson score interval of a rate seen as `successes` out of `n` trials
    (95% for z = 1.96); it stays inside [0, 1] and is not empty at 0/n or n/n."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n = {n}, got {successes!r}")
    p, z2 = successes / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))
