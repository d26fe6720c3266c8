"""Shared code of the course "Why recurrent networks are hard to train".

Modules:
    course       environment detection (Colab, nbgrader autograding), seeding, device choice
    tasks        synthetic long-range data sets (adding problem, copy task, first-token task)
    text         real text (Python's own help pages) as characters, in truncated-BPTT chunks
    models       small recurrent models that expose their hidden states (skip and attention
                 variants, a character language model)
    diagnostics  gradient norms through time from one backward pass
    training     training loops that record losses and gradient norms (truncated BPTT too)
    ensembles    several seeds of one model trained together as one batched computation
    claims       claims the prose makes about an experiment, checked right after it
    comparison   notebook 08's multi-seed comparison of remedies, and its stored results
    plots        one plotting style for every figure
    widgets      interactive explorers (sliders that redraw a figure)
    checks       visible checks whose failures say what was tried, returned, expected, and why

Nothing here implements an exercise: the notebooks' answers are the students' to write.
"""

__version__ = "0.2.0"
