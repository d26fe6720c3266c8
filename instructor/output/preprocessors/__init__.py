"""The course's feedback preprocessors for nbgrader's generate_feedback, one per module (switched
on in nbgrader_config.py): what a student reads of their graded notebook, made safe to open.

hide_hidden_tests  hidden tests replaced by a note
contain_markup     a student's markup kept inside its own cell
show_exercises     each exercise's heading, answer and check results, nothing else
draw_maths         formulas drawn as inline SVG pictures (no network, no script)
"""

from instructor.output.preprocessors.contain_markup import ContainMarkup
from instructor.output.preprocessors.draw_maths import DrawMaths
from instructor.output.preprocessors.hide_hidden_tests import HideHiddenTests
from instructor.output.preprocessors.show_exercises import ShowExercises

__all__ = ["ContainMarkup", "DrawMaths", "HideHiddenTests", "ShowExercises"]
