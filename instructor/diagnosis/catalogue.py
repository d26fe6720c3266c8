"""The mistake catalogue: for each exercise, the plausible wrong implementations students write.

Each assignment keeps its catalogue beside its source notebook, `solutions/<id>/mistakes.py`:
instructor material, since a wrong implementation reveals the right one by contrast. nbgrader
never releases it (`CourseDirectory.ignore` skips `*.py`), `publish` refuses any file holding
`MARKER`, and student code never sees it (it is not installed, and a confined process sees no
course folder). The file defines `MISTAKES`, a list of `Mistake`s, and must hold `MARKER`.

Two parts of the course read it: the mutation tests (each entry must lose points on its own
exercise, `tests/test_exercise_mutants.py`) and diagnosis at grading time
(`instructor.diagnosis.replay`), which names the entry a failing student function behaves like.
"""

from __future__ import annotations

import difflib
import io
import tokenize
from dataclasses import dataclass
from pathlib import Path

from instructor.records.cells import CATALOGUE_MARKER

CATALOGUE_NAME = "mistakes.py"
MARKER = CATALOGUE_MARKER


@dataclass(frozen=True)
class Mistake:
    """One known mistake of one exercise.

    exercise: the grade id of the exercise cell it replaces (the function's name);
    id: short and unique within the assignment (`tanh_derivative_missed`);
    description: one line in the student's terms, read after "Your `f` behaves like a known
        mistake:" (what the code does wrong, not how to fix it);
    source: the whole exercise cell as such a student writes it;
    hint: one or two sentences on where to look, without the answer (tests/test_catalogue.py
        requires one; the feedback shows it after the description);
    variants: other ways of writing the same mistake (graded like `source`, diagnosed as this
        entry: entries that compute the same function on every input the tests make are merged
        into one entry this way);
    roundtrip: also graded through nbgrader as part of a class (tests/test_grading.py). Every
        entry costs points on its own exercise only (an exercise that calls it is graded with
        the model solution, instructor/infrastructure/sandbox/model_calls.py;
        tests/test_exercise_mutants.py checks each);
    diagnosable: False for a mistake whose results are not reproducible (it draws from the
        global numpy random state) or that the tests refuse before calling it (torch in a
        from-scratch exercise): it is tested, but never named, since nothing can match it.
    """

    exercise: str
    id: str
    description: str
    source: str
    hint: str = ""
    variants: tuple[str, ...] = ()
    roundtrip: bool = False
    diagnosable: bool = True

    @property
    def sources(self) -> tuple[str, ...]:
        """Every implementation of this mistake: `source` first, then the variants."""
        return (self.source, *self.variants)


def path_of(solutions: Path, assignment: str) -> Path:
    """Where the catalogue of `assignment` lives under the course's solutions/ folder."""
    return solutions / assignment / CATALOGUE_NAME


def parse(text: str, origin: str = CATALOGUE_NAME) -> list[Mistake]:
    """The `MISTAKES` a catalogue file's text defines (it is the instructor's trusted code, run
    in the grader). Raises ValueError for a file that is not a catalogue."""
    if MARKER not in text:
        raise ValueError(
            f"{origin} lacks the catalogue marker {MARKER!r}, which keeps it out of "
            f"anything published to students"
        )
    namespace: dict = {"__name__": "rnn_course_catalogue"}
    exec(compile(text, origin, "exec"), namespace)
    found = namespace.get("MISTAKES")
    if not isinstance(found, list) or not all(isinstance(m, Mistake) for m in found):
        raise ValueError(
            f"{origin} must define MISTAKES, a list of instructor.diagnosis.catalogue.Mistake"
        )
    ids = [m.id for m in found]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"{origin}: mistake ids must be unique, repeated: {repeated}")
    return found


def load(solutions: Path, assignment: str) -> list[Mistake]:
    """The catalogue of one assignment ([] when it has none)."""
    path = path_of(solutions, assignment)
    return parse(path.read_text(), str(path)) if path.is_file() else []


def _tokens(source: str) -> list[str]:
    try:
        return [
            t.string
            for t in tokenize.generate_tokens(io.StringIO(source).readline)
            if t.type
            not in (
                tokenize.COMMENT,
                tokenize.NL,
                tokenize.NEWLINE,
                tokenize.INDENT,
                tokenize.DEDENT,
                tokenize.ENDMARKER,
            )
        ]
    except (tokenize.TokenError, SyntaxError):
        return source.split()


def change_size(source: str, model: str) -> int:
    """How many tokens of `source` differ from the model solution's (difflib over Python
    tokens): the size of the change that turns the right answer into this mistake."""
    matcher = difflib.SequenceMatcher(None, _tokens(model), _tokens(source), autojunk=False)
    return sum(
        max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"
    )
