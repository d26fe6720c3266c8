"""Run a student's exercise cells in a separate, confined process and call their functions.

protocol  the framed messages between grader and child, and their kinds
codec     the safe wire format of what comes back from student code (never unpickled)
zygote    the clean process that forks each child, so it holds nothing the grader read
child     the child process (`python -m instructor.infrastructure.sandbox.child FD`)
sandbox   the grader's side: `Sandbox` and its `Limits`
mirror    arguments' state, mirrored both ways; data arguments are never changed in the grader
model_calls  the model solutions a student's function gets when it calls another exercise
errors    what a call can raise in the grader; the student's exception rebuilt
static    what the grader learns from a student's source without running it
"""

from instructor.infrastructure.sandbox.errors import ProcessDied, SandboxError, TimeLimitExceeded
from instructor.infrastructure.sandbox.model_calls import ModelCalls
from instructor.infrastructure.sandbox.sandbox import Limits, Sandbox, start_zygote
from instructor.infrastructure.sandbox.static import (
    StudentFunction,
    defined_functions,
    function_codes,
    import_aliases,
    positional_parameters,
    uses_torch,
)

__all__ = [
    "Limits",
    "ModelCalls",
    "ProcessDied",
    "Sandbox",
    "SandboxError",
    "StudentFunction",
    "TimeLimitExceeded",
    "defined_functions",
    "function_codes",
    "import_aliases",
    "positional_parameters",
    "start_zygote",
    "uses_torch",
]
