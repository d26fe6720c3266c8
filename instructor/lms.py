"""Grades back to the learning management system they came from (Canvas or Moodle).

`collect` reads the ids an LMS writes into bulk-download names (`instructor.collect`) and
records them here, per assignment (`record`); `rnn-course export --format canvas|moodle`
writes the file that LMS's own import accepts, with those ids (`export`):

- Canvas, Grades > Import: its gradebook CSV, one row per student, columns `Student`, `ID` (the
  Canvas user id from `name_<user id>_<attachment id>_file`), `SIS User ID`, `SIS Login ID`,
  `Section`, then one column per assignment, titled `<name> (<Canvas assignment id>)` when the
  id is given (`--lms-assignment 01_bptt=4567`), else `<name>` (Canvas then creates an
  assignment of that name).
- Moodle, Assignment > Grading action > Upload grading worksheet: its offline grading worksheet,
  one file per assignment (Moodle's participant ids are per assignment), columns `Identifier`
  (`Participant <id>`, the id in `Full Name_<id>_assignsubmission_file_`), `Full name`, `Grade`
  and `Last modified (grade)` (the three the importer requires, spelled as Moodle spells them).

Students with a grade but no recorded id are returned by `export`, never dropped silently.
"""

from __future__ import annotations

import csv
import enum
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from instructor.submission import WORK


class Lms(enum.Enum):
    """The systems whose bulk downloads `collect` reads and whose imports `export` writes."""

    CANVAS = "canvas"
    MOODLE = "moodle"


# How each names a downloaded submission: the student's name, then the LMS's ids.
NAME_PATTERNS = {
    Lms.MOODLE: re.compile(r"^(?P<student>.+?)_(?P<id>\d+)_assignsubmission_"),
    Lms.CANVAS: re.compile(r"^(?P<student>[A-Za-z0-9-]+)_(?:late_)?(?P<id>\d+)_\d+_"),
}
CANVAS_FIXED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_COLUMNS = ["Identifier", "Full name", "Grade", "Last modified (grade)"]
MOODLE_PARTICIPANT = "Participant "  # Moodle's `hiddenuser` string, before the id
MOODLE_DATE = "%A, %d %B %Y, %I:%M %p"  # as Moodle writes dates in the worksheet it gives out


@dataclass(frozen=True)
class LmsId:
    """Who a student is in an LMS: the system, its id, and the name in the file name."""

    lms: Lms
    id: str
    name: str

    def to_json(self) -> dict[str, str]:
        return {"lms": self.lms.value, "id": self.id, "name": self.name}

    @classmethod
    def from_json(cls, data: dict) -> LmsId:
        return cls(Lms(data["lms"]), str(data["id"]), str(data["name"]))


def identify(name: str) -> LmsId | None:
    """The LMS id in a bulk-download file or folder name, or None when it follows neither."""
    stem = Path(name).name.removesuffix(".ipynb").removesuffix(".zip")
    for lms, pattern in NAME_PATTERNS.items():
        match = pattern.match(stem)
        if match:
            return LmsId(lms, match["id"], match["student"])
    return None


def _store(root: Path, assignment: str) -> Path:
    return root / WORK / "lms" / f"{assignment}.json"


def recorded(root: Path, assignment: str) -> dict[str, LmsId]:
    """student -> LMS id, as `collect` recorded them for `assignment`."""
    path = _store(root, assignment)
    data = json.loads(path.read_text()) if path.is_file() else {}
    return {student: LmsId.from_json(entry) for student, entry in data.items()}


def record(root: Path, assignment: str, ids: dict[str, LmsId]) -> None:
    """Add (or update) the LMS ids of students of `assignment`."""
    known = recorded(root, assignment) | ids
    path = _store(root, assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({s: i.to_json() for s, i in sorted(known.items())}, indent=1))


@dataclass
class Export:
    """What `export` wrote, and the (assignment, student) grades it could not map."""

    files: list[Path] = field(default_factory=list)
    unmapped: list[tuple[str, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"wrote {p}" for p in self.files]
        if self.unmapped:
            out.append(
                f"{len(self.unmapped)} grade(s) not exported, no LMS id recorded by "
                f"collect (grade them in the LMS by hand):"
            )
            out += [f"  {assignment}/{student}" for assignment, student in self.unmapped]
        return out


def gradebook_scores(root: Path) -> dict[str, dict[str, float]]:
    """assignment -> student -> total score, from the course's gradebook."""
    from nbgrader.api import Gradebook

    from instructor.course_folder import db_url

    with Gradebook(db_url(root)) as gb:
        return {
            a.name: {s["student"]: float(s["score"]) for s in gb.submission_dicts(a.name)}
            for a in gb.assignments
        }


def _mapped(
    lms: Lms, root: Path, scores: dict[str, dict[str, float]], result: Export
) -> dict[str, dict[str, LmsId]]:
    """assignment -> student -> id in `lms`, with every graded student it lacks in `result`."""
    ids = {}
    for assignment, by_student in sorted(scores.items()):
        known = {s: i for s, i in recorded(root, assignment).items() if i.lms is lms}
        ids[assignment] = known
        result.unmapped += [(assignment, s) for s in sorted(by_student) if s not in known]
    return ids


def write_canvas(
    root: Path, path: Path, scores: dict[str, dict[str, float]], assignment_ids: dict[str, str]
) -> Export:
    """One Canvas gradebook CSV for every assignment."""
    result = Export()
    ids = _mapped(Lms.CANVAS, root, scores, result)
    people: dict[str, LmsId] = {}
    for known in ids.values():
        people.update({i.id: i for i in known.values()})
    titles = {a: f"{a} ({assignment_ids[a]})" if a in assignment_ids else a for a in scores}
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CANVAS_FIXED + [titles[a] for a in sorted(scores)])
        for canvas_id, person in sorted(people.items(), key=lambda kv: kv[1].name):
            row = [person.name, canvas_id, "", "", ""]
            for assignment in sorted(scores):
                student = next((s for s, i in ids[assignment].items() if i.id == canvas_id), None)
                score = scores[assignment].get(student) if student else None
                row.append("" if score is None else f"{score:g}")
            writer.writerow(row)
    result.files.append(path)
    return result


def write_moodle(
    root: Path, path: Path, scores: dict[str, dict[str, float]], now: datetime | None = None
) -> Export:
    """One Moodle grading worksheet per assignment, `<path stem>-<assignment>.csv`."""
    result = Export()
    ids = _mapped(Lms.MOODLE, root, scores, result)
    stamp = (now or datetime.now()).strftime(MOODLE_DATE)
    for assignment in sorted(scores):
        target = path.with_name(f"{path.stem}-{assignment}{path.suffix or '.csv'}")
        with target.open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(MOODLE_COLUMNS)
            for student, person in sorted(ids[assignment].items(), key=lambda kv: int(kv[1].id)):
                if student in scores[assignment]:
                    writer.writerow(
                        [
                            f"{MOODLE_PARTICIPANT}{person.id}",
                            person.name,
                            f"{scores[assignment][student]:.2f}",
                            stamp,
                        ]
                    )
        result.files.append(target)
    return result


def export(
    root: Path,
    lms: Lms,
    path: Path,
    assignments: list[str] | None = None,
    assignment_ids: dict[str, str] | None = None,
) -> Export:
    """Write the grades of the gradebook (all assignments, or those named) for `lms`."""
    scores = gradebook_scores(root)
    if assignments:
        unknown = sorted(set(assignments) - set(scores))
        if unknown:
            raise ValueError(f"no grades for {unknown} in the gradebook")
        scores = {a: s for a, s in scores.items() if a in assignments}
    if lms is Lms.CANVAS:
        return write_canvas(root, path, scores, assignment_ids or {})
    return write_moodle(root, path, scores)
