"""nbgrader configuration for the course (read by every `nbgrader` command run from this folder).

solutions/<id>/<name>.ipynb is the source (model solutions and hidden tests);
`nbgrader generate_assignment <id> --force` writes the student version to notebooks/<id>/.
"""

import os

c = get_config()  # noqa: F821  (injected by traitlets when nbgrader loads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
# The gradebook lives beside this file and is ignored by git (.gitignore).
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")
# Never copy the jupytext text twins of solution notebooks (they hold the answers) into a release.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.py"]

# Every cell of a submission gets at most this long; a hanging cell is interrupted, not the run.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
# Grade cells a student deleted are put back from the gradebook before grading.
c.OverwriteCells.add_missing_cells = True
# A student's huge print loop cannot blow up the gradebook or the feedback.
c.LimitOutput.max_lines = 300
c.LimitOutput.max_traceback = 100

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Grading that student code cannot game (instructor/grading/preprocessors/): the submission's cells
# are rebuilt around the source's (no deletion, duplication or retyping can break grading); test
# cells never run in the student's kernel; the instructor's tests run in the grader against the
# student's functions, which run in confined sandbox processes. The kernel run only provides the
# feedback's outputs.
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    IgnorePattern,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from instructor.grading.preprocessors import (  # noqa: E402
    DiagnoseMistakes,
    GradeExecute,
    RebuildCells,
    TrustedGrading,
)
from instructor.output.preprocessors import (  # noqa: E402
    ContainMarkup,
    DrawMaths,
    HideHiddenTests,
    ShowExercises,
)

c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    RebuildCells,
    OverwriteKernelspec,
    OverwriteCells,
    CheckCellMetadata,
]
c.Autograde.autograde_preprocessors = [
    GradeExecute,
    TrustedGrading,
    DiagnoseMistakes,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]
# The problems the grader records travel in the autograded notebook's metadata.
c.ClearMetadataPreprocessor.preserve_nb_metadata_mask = {("language_info", "name"), ("rnn_course",)}
# Feedback shows results, never the hidden tests themselves (nbgrader issue 1363). A page a
# student can read: each exercise named, with the student's answer and what its checks said (the
# lesson's prose and the checking code stay in the notebook), formulas drawn on the page (no
# MathJax, no network), long lines wrapped (instructor/output/templates/course_feedback/).
from instructor.output.feedback_exporter import (  # noqa: E402
    TEMPLATE_NAME,
    FeedbackExporter,
    template_dirs,
    template_paths,
)

c.GenerateFeedback.preprocessors = [
    HideHiddenTests,
    ContainMarkup,
    ShowExercises,
    DrawMaths,
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.GenerateFeedback.exporter_class = FeedbackExporter
c.FeedbackExporter.template_name = TEMPLATE_NAME
c.FeedbackExporter.extra_template_basedirs = template_dirs()
c.FeedbackExporter.extra_template_paths = template_paths()
c.TrustedGrading.call_timeout = 30
c.TrustedGrading.setup_timeout = 60
