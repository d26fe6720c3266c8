"""The course's grading preprocessors for nbgrader's autograde, one per module (switched on in
nbgrader_config.py; the feedback's are in `instructor.output.preprocessors`).

rebuild_cells      sanitizing: the submission's cells rebuilt around the source's
grade_execute      the confined kernel run that produces the feedback's outputs
trusted_grading    the instructor's tests, run in the grader against the student's code
diagnose_mistakes  the known mistake a failing exercise behaves like (mistake catalogue)
"""

from instructor.grading.preprocessors.diagnose_mistakes import DiagnoseMistakes
from instructor.grading.preprocessors.grade_execute import GradeExecute
from instructor.grading.preprocessors.rebuild_cells import RebuildCells
from instructor.grading.preprocessors.trusted_grading import TrustedGrading

__all__ = ["DiagnoseMistakes", "GradeExecute", "RebuildCells", "TrustedGrading"]
