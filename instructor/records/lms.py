"""Who a student is in the learning management system their work came from (Canvas or Moodle).

`collect` reads the ids an LMS writes into bulk-download names (`identify`; Canvas:
`name_<user id>_<attachment id>_file`, Moodle: `Full Name_<id>_assignsubmission_file_`) and
records them here, per assignment (`record`, `recorded`); `rnn-course export --format
canvas|moodle` writes the LMS's own gradebook file with them (`instructor.output.lms_gradebook`).

Who a student is comes from the LMS's own id, never from a name: the record maps each nbgrader
student to one LMS id and each id to one student (`record` refuses anything else, naming both),
and a bulk-download name that could belong to two ids is refused (`AmbiguousName`). Names are
kept for display only.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from instructor.records.submission import WORK


class Lms(enum.Enum):
    """The systems whose bulk downloads `collect` reads and whose imports `export` writes."""

    CANVAS = "canvas"
    MOODLE = "moodle"


# How each names a downloaded submission: the student's name, then the LMS's ids. Canvas:
# `<name>_<late_>?<user id>_<attachment id>_<file name>`, the name without underscores (letters
# of any script, digits, hyphens). Moodle: `<Full Name>_<participant id>_assignsubmission_<plugin>_`
# as a folder (its files inside), or followed by the file name when downloaded without folders.
CANVAS_NAME = re.compile(
    r"^(?P<student>(?:[^\W_]|-)+)_(?:(?P<late>late)_)?(?P<id>\d+)_(?P<upload>\d+)_"
)
MOODLE_FOLDER = re.compile(r"^(?P<student>.+)_(?P<id>\d+)_assignsubmission_[a-z]+_$")
MOODLE_MARK = re.compile(r"_(?P<id>\d+)_assignsubmission_[a-z]+_")
CANVAS_FIXED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_COLUMNS = ["Identifier", "Full name", "Grade", "Last modified (grade)"]
MOODLE_PARTICIPANT = "Participant "  # Moodle's `hiddenuser` string, before the id
MOODLE_DATE = "%A, %d %B %Y, %I:%M %p"  # as Moodle writes dates in the worksheet it gives out


@dataclass(frozen=True)
class LmsId:
    """Who a student is in an LMS: the system and its id; with what the download said about them.

    Two LmsIds are equal when they are the same person in the same LMS (same system, same id):
    the name (display only) and the lateness of the submission do not take part. `late` is
    Canvas's `_late_` marker on the submission the record was made from; `upload` is Canvas's
    attachment id (later uploads have larger ids), not recorded.
    """

    lms: Lms
    id: str
    name: str = field(compare=False)
    late: bool = field(default=False, compare=False)
    upload: str = field(default="", compare=False)

    def describe(self) -> str:
        """How a person reading a report finds this student in the LMS."""
        kind = "Canvas user" if self.lms is Lms.CANVAS else "Moodle participant"
        return f"{kind} {self.id} ({self.name!r})"

    def to_json(self) -> dict[str, str | bool]:
        data: dict[str, str | bool] = {"lms": self.lms.value, "id": self.id, "name": self.name}
        if self.late:
            data["late"] = True
        return data

    @classmethod
    def from_json(cls, data: dict) -> LmsId:
        return cls(Lms(data["lms"]), str(data["id"]), str(data["name"]), data.get("late") is True)


class AmbiguousName(ValueError):
    """A bulk-download name that reads as more than one LMS student."""

    def __init__(self, name: str, candidates: list[LmsId]) -> None:
        self.candidates = candidates
        who = " or ".join(c.describe() for c in candidates)
        self.reason = (
            f"refused, it could be {who} (a name or file name the student chose holds the "
            "LMS's own pattern): download the submissions again in folders (Moodle: 'Download "
            "submissions in folders'), or ask the student and place the file by hand"
        )
        super().__init__(f"{name}: {self.reason}")


def _canvas(stem: str) -> LmsId | None:
    match = CANVAS_NAME.match(stem)
    if not match:
        return None
    return LmsId(Lms.CANVAS, match["id"], match["student"], bool(match["late"]), match["upload"])


def _moodle(stem: str, folder: bool) -> list[LmsId]:
    """The Moodle participants a name could be: one, none, or several when it is ambiguous.

    A folder's name ends with Moodle's own suffix, so the last one is Moodle's whatever the full
    name holds; a file's name goes on with the student's file name after it, so every
    occurrence is a candidate.
    """
    match = MOODLE_FOLDER.match(stem) if folder else None
    if match:
        return [LmsId(Lms.MOODLE, match["id"], match["student"])]
    marks = list(MOODLE_MARK.finditer(stem))
    if not marks or not stem[: marks[0].start()]:
        return []
    name = stem[: marks[0].start()]
    return [LmsId(Lms.MOODLE, i, name) for i in dict.fromkeys(m["id"] for m in marks)]


def identify(name: str, folder: bool = False) -> LmsId | None:
    """The LMS id in a bulk-download file or folder name, or None when it follows neither.

    `folder`: the name is a folder's (a folder ending with Moodle's suffix is Moodle's: Canvas
    makes no folders). Raises AmbiguousName, which names every candidate, when the name could be
    more than one student.
    """
    stem = Path(name).name
    if folder and MOODLE_FOLDER.match(stem):
        return _moodle(stem, folder)[0]
    if not folder:
        stem = stem.removesuffix(".ipynb").removesuffix(".zip")
    candidates = [c for c in [_canvas(stem), *_moodle(stem, folder)] if c]
    if len(candidates) > 1:
        raise AmbiguousName(name, candidates)
    return candidates[0] if candidates else None


def _store(root: Path, assignment: str) -> Path:
    return root / WORK / "lms" / f"{assignment}.json"


def recorded(root: Path, assignment: str) -> dict[str, LmsId]:
    """student -> LMS id, as `collect` recorded them for `assignment`."""
    path = _store(root, assignment)
    data = json.loads(path.read_text()) if path.is_file() else {}
    return {student: LmsId.from_json(entry) for student, entry in data.items()}


def recorded_everywhere(root: Path) -> dict[str, dict[str, LmsId]]:
    """assignment -> student -> LMS id, for every assignment `collect` recorded ids for."""
    folder = root / WORK / "lms"
    paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
    return {path.stem: recorded(root, path.stem) for path in paths}


def check_one_to_one(ids: dict[str, LmsId], where: str) -> None:
    """Raise ValueError, naming both students, when two students share one LMS id."""
    owner: dict[LmsId, str] = {}
    for student, ident in sorted(ids.items()):
        if ident in owner:
            raise ValueError(
                f"{where}: students {owner[ident]} and {student} both have the id of "
                f"{ident.describe()}: one LMS id is one student. Remove the wrong one from "
                f"{WORK}/lms/ (or its submitted/ folder) and run collect again"
            )
        owner[ident] = student


def record(root: Path, assignment: str, ids: dict[str, LmsId]) -> None:
    """Add (or update) the LMS ids of students of `assignment`; refuse, naming both, to give one
    LMS id to two students."""
    known = recorded(root, assignment) | ids
    check_one_to_one(known, f"LMS ids of {assignment}")
    path = _store(root, assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({s: i.to_json() for s, i in sorted(known.items())}, indent=1))
