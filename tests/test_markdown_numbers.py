"""The prose of every solution notebook states no measured number it does not account for.

The rule is in tests/markdown_numbers.py and CONTRIBUTING.md ("Numbers in the prose").
"""

from __future__ import annotations

import pytest

import course_tools
import markdown_numbers as rule

# Notebooks whose prose is still being fixed (issue 13). Remove a notebook's line when its
# markdown passes: strict xfail, so a notebook that already passes fails here as a reminder.
BEING_FIXED = {}


def _params() -> list:
    return [
        pytest.param(
            a,
            id=a,
            marks=[pytest.mark.xfail(reason=BEING_FIXED[a], strict=True)]
            if a in BEING_FIXED
            else [],
        )
        for a in course_tools.assignments()
    ]


@pytest.mark.parametrize("assignment", _params())
def test_every_measured_number_in_the_prose_is_accounted_for(assignment):
    path = course_tools.notebook_path(course_tools.ROOT / "solutions", assignment)
    findings = rule.scan_notebook(path)
    assert not findings, (
        f"{path.name}: numbers in the prose that look measured but are neither set or checked "
        "by a float literal in the code, nor mathematical constants, nor cited, nor declared "
        "(see CONTRIBUTING.md, 'Numbers in the prose'):\n" + "\n".join(map(str, findings))
    )


@pytest.mark.parametrize(
    "text",
    [
        "The gradient shrinks by 0.61 per step.",
        "In 84 % of the records the first step gets less.",
        "The small one is 100 times below Xavier's.",
        "Xavier loses about 13 % per layer.",
        "It loses about 5 orders of magnitude.",
        "The heat map drops after about step 150.",
        "A correct gradient scores below $10^{-7}$.",
        "The ratio is $3 \\times 10^{-4}$ here.",
        "It is off by 8.6x.",
        "The log ratio is about -6.",
        "Le et al. quote it. The baseline is 0.1767.",  # the citation is in another sentence
    ],
)
def test_measurements_are_flagged(text):
    assert [f.text for f in rule.scan_markdown(text, literals=[])], text


@pytest.mark.parametrize(
    "text,literals",
    [
        ("We train for 300 steps with H = 32 units, seeds 0 to 4.", []),
        ("## 3. Gradient checking (≈ 15 min)", []),
        ("**Time:** about 75 minutes.", []),
        ("See Section 10.7 and sec. 2.3 of the paper, eqs. 3-5.", []),
        ("The bound $\\sigma' \\le 1/4$ holds; chance is 0.5; ln 2 = 0.693.", []),
        ("Always answering 1 gives 0.1667.", []),
        ("The learning rate is 1e-2 and the threshold 0.99.", [0.01, 0.99]),
        ("Le et al. 2015 quote 0.1767 for the baseline.", []),
        ("(Pascanu, Mikolov and Bengio 2013) report 0.35 here.", []),
        ("Tallec and Ollivier (2017) show it is unbiased for 0.5 < c.", []),
        ("It took 17.7 s.<!-- numbers-ok: 17.7; the idle timing quoted from issue 13 -->", []),
        ("x* = 0.9575 with gain 0.166.", [0.9575, 0.166]),
        ("Le, Jaitly and Hinton, arXiv:1504.00941, 2015.", []),
        ("the state h_1 in float64, notebook 01_bptt", []),
    ],
)
def test_accounted_numbers_pass(text, literals):
    assert rule.scan_markdown(text, literals) == [], text


def test_a_declaration_needs_a_reason_and_names_the_number():
    assert rule.scan_markdown("It took 17.7 s.<!-- numbers-ok: 17.7; -->", [])
    assert rule.scan_markdown("It took 17.7 s.<!-- numbers-ok: 17.8; a typo -->", [])


def test_only_float_literals_outside_comments_and_strings_count():
    literals = rule.code_literals(
        ["x = 13  # 0.61\ny = '0.84'\nz = 1e-3\n%pip install a==1.2\n", "def f(:\n    0.5"]
    )
    assert literals == [1e-3]
