"""Every solution notebook runs top to bottom in a real kernel with every test cell passing,
and every claim its text makes about its experiments holding (RNN_COURSE_STRICT_CLAIMS=1: a
claim that does not hold raises helpers.claims.ClaimFailed in the kernel, which inherits it).
tests/test_perturbed.py runs them again under other seeds, kernels and thread counts."""

from __future__ import annotations

import pytest

import course_tools

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("assignment", course_tools.assignments())
def test_solution_notebook_executes_cleanly(assignment, tmp_path, monkeypatch):
    course_tools.execute_solution(assignment, tmp_path, monkeypatch)
