"""Scoring: the instructor's tests, run in the grader against the student's functions.

Each test cell's outputs are replaced by what the trusted run printed or raised
(`instructor.grading.trusted_run`), and nbgrader's SaveAutoGrades scores those. The problems the run
met are recorded in the notebook.
"""

from __future__ import annotations

import time

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float

from instructor.grading.preprocessors.diagnose_mistakes import RUN_RESOURCE
from instructor.grading.preprocessors.grade_execute import NOT_GRADED
from instructor.grading.trusted_run import TrustedRun, error_output, run_tests
from instructor.infrastructure import confine
from instructor.infrastructure.course_folder import source_notebook_path
from instructor.infrastructure.sandbox import Limits
from instructor.records import phases, problems
from instructor.records.cells import grade_id, is_test_cell
from instructor.records.problems import Kind, Problem


class TrustedGrading(NbGraderPreprocessor):
    """Scores every test cell by `run_tests` and writes its outputs into the cell."""

    enabled = Bool(True).tag(config=True)
    call_timeout = Float(30.0, help="seconds one call of a student's function may take").tag(
        config=True
    )
    setup_timeout = Float(
        60.0, help="seconds the exercise cells may take to define their functions"
    ).tag(config=True)
    confined = Bool(True, help="confine student code (instructor.infrastructure.confine)").tag(
        config=True
    )
    record_calls = Bool(
        True,
        help="record the calls the tests make to the student's functions, for DiagnoseMistakes",
    ).tag(config=True)

    def preprocess(self, nb, resources):
        source = nbformat.read(source_notebook_path(self.config, resources), as_version=4)
        limits = Limits(setup_seconds=self.setup_timeout, call_seconds=self.call_timeout)
        started = time.monotonic()
        try:
            run = run_tests(source, nb, limits, confined=self.confined, record=self.record_calls)
        except Exception as error:  # a grader fault: every test scores zero, loudly
            self.log.error("trusted grading failed: %s", error)
            run = TrustedRun(
                problems=[
                    Problem(Kind.GRADER_FAULT, detail=f"{type(error).__name__}: {error}"[:300])
                ]
            )
        phases.record(nb, phases.TESTS, time.monotonic() - started)
        if self.confined and not confine.mode().private:
            run.problems.append(Problem(Kind.UNCONFINED, detail=confine.mode().value))
        for problem in run.problems:
            self.log.warning("%s", problem.sentence())
            problems.record(nb, problem)
        for cell in nb.cells:
            if is_test_cell(cell):
                found = run.outcomes.get(grade_id(cell))
                cell.outputs = (
                    found.outputs()
                    if found
                    else [error_output(NOT_GRADED, "the grader could not run this test")]
                )
        resources[RUN_RESOURCE] = run
        return nb, resources
