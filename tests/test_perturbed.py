"""Claims describe the phenomenon, not one run: every solution notebook runs again with its
claims strict under a perturbation a learner's machine brings, and every claim must still hold.

- seeds: every seed an experiment draws shifted by 1000 (RNN_COURSE_SEED_OFFSET, see
  helpers.course), as if the notebook had been written with other seeds;
- ATen's kernels forced to the portable ones (ATEN_CPU_CAPABILITY=default), and to AVX2 on a
  machine with AVX-512: another CPU's rounding, which flips runs near a threshold;
- two torch threads instead of one (RNN_COURSE_THREADS=2): another order of summation.

The README's test command runs one variant of each notebook (the ones marked ci_variant, which
between them cover every kind, as `ci_variant` picks them); the whole matrix runs with

    python -m pytest -m perturbed tests/test_perturbed.py
"""

from __future__ import annotations

import pytest
import torch

import course_tools

VARIANTS = {
    "seeds+1000": {"RNN_COURSE_SEED_OFFSET": "1000"},
    "aten-default": {"ATEN_CPU_CAPABILITY": "default"},
    "threads-2": {"RNN_COURSE_THREADS": "2"},
}
if torch.backends.cpu.get_cpu_capability() == "AVX512":  # else AVX2 is what runs anyway
    VARIANTS["aten-avx2"] = {"ATEN_CPU_CAPABILITY": "avx2"}


def ci_variant(index: int) -> str:
    """The variant the default test run takes for the index-th notebook: two threads for the
    first (with two threads every small torch operation waits for both, so notebooks that train
    run several times slower: 07 took 5 min of CPU instead of 33 s), the other kinds in turn for
    the rest."""
    others = [name for name in VARIANTS if name != "threads-2"]
    return "threads-2" if index == 0 else others[(index - 1) % len(others)]


def _cases():
    for i, assignment in enumerate(course_tools.assignments()):
        for variant in VARIANTS:
            marks = [pytest.mark.slow, pytest.mark.perturbed]
            if variant == ci_variant(i):
                marks.append(pytest.mark.ci_variant)
            yield pytest.param(assignment, variant, marks=marks, id=f"{assignment}-{variant}")


@pytest.mark.parametrize(("assignment", "variant"), list(_cases()))
def test_claims_hold_when_perturbed(assignment, variant, tmp_path, monkeypatch):
    for name, value in VARIANTS[variant].items():
        monkeypatch.setenv(name, value)
    # two threads on a machine busy with other work can run a cell several times slower
    nb = course_tools.execute_solution(
        assignment, tmp_path, monkeypatch, sweep_explorers=False, timeout=600
    )
    setup_output = "".join(
        out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
    )
    # the set-up cell says the run is perturbed: the kernel did inherit the variables
    assert "perturbed: " in setup_output, f"{assignment}: the set-up cell shows no perturbation"
