"""Shared code of the course "Why recurrent networks are hard to train".

Modules:
    course       environment detection (Colab, nbgrader autograding), seeding, device choice
    tasks        synthetic long-range data sets (adding problem, copy task, first-token task)
    models       small recurrent models that expose their hidden states
    diagnostics  gradient norms through time from one backward pass
    training     a training loop that records losses and gradient norms
    ensembles    several seeds of one model trained together as one batched computation
    claims       claims the prose makes about an experiment, checked right after it
    plots        one plotting style for every figure
    widgets      interactive explorers (sliders that redraw a figure)
    checks       visible checks whose failures say what was tried, returned, expected, and why

Nothing here implements an exercise: the notebooks' answers are the students' to write.
"""

__version__ = "0.1.0"
