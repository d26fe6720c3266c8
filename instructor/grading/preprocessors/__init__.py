"""The course's nbgrader preprocessors, one per module (switched on in nbgrader_config.py).

rebuild_cells      sanitizing: the submission's cells rebuilt around the source's
grade_execute      the confined kernel run that produces the feedback's outputs
trusted_grading    the instructor's tests, run in the grader against the student's code
diagnose_mistakes  the known mistake a failing exercise behaves like (mistake catalogue)
hide_hidden_tests  feedback: hidden tests replaced by a note
contain_markup     feedback: a student's markup kept inside its own cell
show_exercises     feedback: each exercise's heading, answer and check results, nothing else
draw_maths         feedback: formulas drawn as inline SVG pictures (no network, no script)
"""

from instructor.grading.preprocessors.contain_markup import ContainMarkup
from instructor.grading.preprocessors.diagnose_mistakes import DiagnoseMistakes
from instructor.grading.preprocessors.draw_maths import DrawMaths
from instructor.grading.preprocessors.grade_execute import GradeExecute
from instructor.grading.preprocessors.hide_hidden_tests import HideHiddenTests
from instructor.grading.preprocessors.rebuild_cells import RebuildCells
from instructor.grading.preprocessors.show_exercises import ShowExercises
from instructor.grading.preprocessors.trusted_grading import TrustedGrading

__all__ = [
    "ContainMarkup",
    "DiagnoseMistakes",
    "DrawMaths",
    "GradeExecute",
    "HideHiddenTests",
    "RebuildCells",
    "ShowExercises",
    "TrustedGrading",
]
