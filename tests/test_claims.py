"""helpers.claims: a claim prints its evidence when it holds, and fails loudly when it does not."""

from __future__ import annotations

import nbformat
import numpy as np
import pytest

import course_tools
from helpers import claims


@pytest.fixture
def lenient(monkeypatch):
    monkeypatch.delenv(claims.STRICT_ENV, raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)


@pytest.fixture
def strict(monkeypatch):
    monkeypatch.setenv(claims.STRICT_ENV, "1")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)


def test_a_claim_that_holds_prints_one_line_and_nothing_on_stderr(strict, capsys):
    assert claims.claim("the loss fell", np.float64(0.1) < 0.5, "0.100 < 0.5") is True
    out, err = capsys.readouterr()
    assert out == "✔ the loss fell  (0.100 < 0.5)\n" and err == ""
    claims.claim("no evidence needed", True)
    assert capsys.readouterr().out == "✔ no evidence needed\n"


def test_a_false_claim_raises_in_strict_mode_with_statement_and_evidence(strict):
    with pytest.raises(claims.ClaimFailed, match=r"(?s)the tanh RNN learns.*0\.51 against 0\.9"):
        claims.claim("the tanh RNN learns", False, "accuracy 0.51 against 0.9")


def test_a_false_claim_warns_without_stopping_outside_the_tests(lenient, capsys):
    assert claims.claim("the tanh RNN learns", np.bool_(False), "accuracy 0.51") is False
    out, err = capsys.readouterr()  # no IPython kernel here: the box goes to stderr
    assert "did not hold" in err and "the tanh RNN learns" in err and "accuracy 0.51" in err
    box = claims._FailedClaimBox("a < b", "a = 2 & b = 1")
    assert "did not hold in this run" in box._repr_html_() and "&amp;" in box._repr_html_()


def test_claims_are_not_checked_while_autograding(strict, monkeypatch, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert claims.claim("the smoke run learns", False, "one step") is False
    assert "not checked" in capsys.readouterr().out
    # the smoke scale may train fewer seeds than a claim about seeds needs: still no error
    assert claims.claim_seeds("both smoke seeds learn", [True, False]) is False
    assert "not checked" in capsys.readouterr().out


def test_claim_seeds_needs_every_seed_and_states_the_spread(strict, capsys):
    spread = claims.spread([0.031, 0.012, 0.02], ".3f", "final MSE")
    assert spread == "final MSE 0.012 to 0.031"
    assert claims.claim_seeds("every seed learns", [True, True, True], spread)
    assert capsys.readouterr().out == "✔ every seed learns  (3/3 seeds; final MSE 0.012 to 0.031)\n"
    with pytest.raises(claims.ClaimFailed, match="2/3 seeds"):
        claims.claim_seeds("every seed learns", np.array([True, False, True]))


def test_spread_formats_ranges_and_non_finite_values():
    assert claims.spread([0.5, 0.5, 0.5], ".2f") == "0.50"
    with_nan = claims.spread([1.0, float("nan"), 3.0], ".1f", "loss")
    assert with_nan == "loss 1.0 to 3.0 (1 non-finite)"
    assert claims.spread([float("inf")] * 3) == "non-finite in every seed"
    assert claims.spread([0.2, 0.9, 0.5], ".0%") == "20% to 90%"
    assert claims.spread([5, 2, 3], "d") == "2 to 5"
    assert claims.spread([], ".2f", "failed runs' loss") == "failed runs' loss (no seeds)"


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: claims.claim("", True), "statement"),
        (lambda: claims.claim("x", np.array([True, False])), "True or False"),
        (lambda: claims.claim("x", 1), "True or False"),
        (lambda: claims.claim("x", True, evidence=3), "evidence"),
        (lambda: claims.claim_seeds("x", [True, True]), "at least 3 seeds"),
        (lambda: claims.claim_seeds("x", "TTT"), "sequence of bools"),
        (lambda: claims.claim_seeds("x", [True, True, 1.0]), r"outcomes\[2\]"),
    ],
)
def test_bad_arguments_raise_clear_errors(lenient, call, message):
    with pytest.raises(ValueError, match=message):
        call()


def _tiny_notebook(claim_source: str):
    """Set-up, then one claim (ended by ';' as in the notebooks: the bool is not echoed)."""
    return nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# A claim"),
            nbformat.v4.new_code_cell("from helpers import claims\nloss = 0.3"),
            nbformat.v4.new_code_cell(claim_source),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )


@pytest.mark.slow
def test_a_broken_claim_fails_notebook_execution_under_the_test_setting(strict, tmp_path):
    """What tests/test_notebooks_execute.py relies on: kernels inherit the strict setting."""
    import nbclient

    nb = _tiny_notebook('claims.claim("the loss is below 0.1", loss < 0.1, f"loss {loss}");')
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="ClaimFailed"):
        course_tools.execute(nb, tmp_path)
    nb = _tiny_notebook('claims.claim("the loss is below 0.5", loss < 0.5, f"loss {loss}");')
    course_tools.execute(nb, tmp_path)
    assert nb.cells[-1].outputs[0]["text"].startswith("✔ the loss is below 0.5")


@pytest.mark.slow
def test_a_broken_claim_shows_a_warning_box_in_a_students_notebook(lenient, tmp_path):
    nb = _tiny_notebook('claims.claim("the loss is below 0.1", loss < 0.1, f"loss {loss}");')
    course_tools.execute(nb, tmp_path)
    (output,) = nb.cells[-1].outputs
    assert output["output_type"] == "display_data"
    assert "did not hold in this run" in output["data"]["text/html"]
    assert "loss 0.3" in output["data"]["text/plain"]


def test_fraction_gives_the_count_and_its_wilson_interval():
    assert claims.fraction(np.array([True] * 10 + [False] * 6), "learned") == (
        "learned 10/16 (95% interval 39%-82%)"
    )
    lo, hi = claims.wilson_interval(0, 5)
    assert lo == 0.0 and 0.40 < hi < 0.45  # 0/5 does not rule out a rate of 40%
    lo, hi = claims.wilson_interval(5, 5)
    assert 0.55 < lo < 0.60 and hi == 1.0
    with pytest.raises(ValueError, match="one bool per seed"):
        claims.fraction([0.9, 0.2])
    with pytest.raises(ValueError, match="successes"):
        claims.wilson_interval(6, 5)
