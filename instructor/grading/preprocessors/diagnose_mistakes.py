"""Diagnosis: which known mistake a failing exercise behaves like, shown beside the failed test.

Runs after `TrustedGrading`, which hands over its run (with every call the tests made to the
student's functions, `RUN_RESOURCE`). For each exercise with a failed test, the calls are
replayed on the assignment's mistake catalogue (`instructor.diagnosis.catalogue`, beside the source
notebook) by `instructor.diagnosis.replay`. Every diagnosis is recorded in the notebook
(`instructor.records.diagnosis`); a known mistake is also shown as an output of the exercise's first
failed test cell, which the feedback HTML renders. Scores are untouched: the output is added
only to a cell that already failed, and it is display data, never an error or stderr.
"""

from __future__ import annotations

import time

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float

from instructor.diagnosis import catalogue, replay
from instructor.infrastructure.course_folder import source_notebook_path
from instructor.records import diagnosis, phases
from instructor.records.cells import grade_id, is_test_cell, tested_exercise
from instructor.records.diagnosis import Verdict

RUN_RESOURCE = "rnn_course_trusted_run"  # where TrustedGrading leaves its TrustedRun


class DiagnoseMistakes(NbGraderPreprocessor):
    """Names the known mistake behind each failing exercise (see the module docstring)."""

    enabled = Bool(True).tag(config=True)
    budget = Float(replay.BUDGET_SECONDS, help="seconds diagnosis may spend on one notebook").tag(
        config=True
    )

    def preprocess(self, nb, resources):
        run = resources.pop(RUN_RESOURCE, None)
        if run is None or not run.calls:
            return nb, resources
        source_path = source_notebook_path(self.config, resources)
        started = time.monotonic()
        try:
            entries = catalogue.load(source_path.parent.parent, source_path.parent.name)
            source = replay.read_source(source_path)
            found = replay.diagnose_run(source, run, entries, self.budget) if entries else []
        except Exception as error:  # a catalogue or grader fault: no diagnosis, same score
            self.log.error("diagnosis failed: %s: %s", type(error).__name__, error)
            found = []
        phases.record(nb, phases.DIAGNOSIS, time.monotonic() - started)
        for found_one in found:
            self.log.info("diagnosis: %s", found_one.sentence())
            diagnosis.record(nb, found_one)
        show(nb, [d for d in found if d.verdict is Verdict.KNOWN], run.outcomes)
        return nb, resources


def show(nb, known: list[diagnosis.Diagnosis], outcomes: dict) -> None:
    """Add each known mistake's output to the first failed test cell of its exercise."""
    pending = {d.exercise: d for d in known}
    for cell in nb.cells:
        if not is_test_cell(cell):
            continue
        gid = grade_id(cell)
        exercise = tested_exercise(gid)
        outcome = outcomes.get(gid)
        if exercise in pending and outcome is not None and not outcome.passed:
            cell.outputs.append(diagnosis.output(pending.pop(exercise)))
