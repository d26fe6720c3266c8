"""The gradebook file an LMS's own import accepts, with each student's final score.

`rnn-course export --format canvas|moodle` (`instructor.commands.export`) writes it from the
final scores (`instructor.scores.final_score`) and the LMS ids that `collect` recorded
(`instructor.records.lms`), listing every score adjusted or late. Students with a grade but no
recorded id are returned by `export`, never dropped silently. Every text cell is made inert for
spreadsheets (`instructor.output.csv_cells.inert_cell`): a name like `=HYPERLINK(...)` stays text.

- Canvas, Grades > Import: its gradebook CSV, one row per student, columns `Student`, `ID` (the
  Canvas user id from `name_<user id>_<attachment id>_file`), `SIS User ID`, `SIS Login ID`,
  `Section`, then one column per assignment, titled `<name> (<Canvas assignment id>)` when the
  id is given (`--lms-assignment 01_bptt=4567`), else `<name>` (Canvas then creates an
  assignment of that name).
- Moodle, Assignment > Grading action > Upload grading worksheet: its offline grading worksheet,
  one file per assignment (Moodle's participant ids are per assignment), columns `Identifier`
  (`Participant <id>`, the id in `Full Name_<id>_assignsubmission_file_`), `Full name`, `Grade`
  and `Last modified (grade)` (the three the importer requires, spelled as Moodle spells them).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from instructor.output.csv_cells import inert_cell
from instructor.records.lms import (
    CANVAS_FIXED,
    MOODLE_COLUMNS,
    MOODLE_DATE,
    MOODLE_PARTICIPANT,
    Lms,
    LmsId,
    check_one_to_one,
    recorded,
)


@dataclass
class Export:
    """What `export` wrote, and the (assignment, student) grades it could not map."""

    files: list[Path] = field(default_factory=list)
    unmapped: list[tuple[str, str]] = field(default_factory=list)
    noted: list[str] = field(default_factory=list)  # scores adjusted, late, penalised

    def lines(self) -> list[str]:
        out = [f"wrote {p}" for p in self.files]
        if self.noted:
            out.append(f"{len(self.noted)} final score(s) with a note (adjusted, late):")
            out += self.noted
        if self.unmapped:
            out.append(
                f"{len(self.unmapped)} grade(s) not exported, no LMS id recorded by "
                f"collect (grade them in the LMS by hand):"
            )
            out += [f"  {assignment}/{student}" for assignment, student in self.unmapped]
        return out


def final_points(root: Path) -> tuple[dict[str, dict[str, float]], list[str]]:
    """assignment -> student -> final score (`instructor.scores.final_score`: automatic,
    adjustment, late penalty), and a line for each score with something to know (adjusted, late)."""
    from instructor.scores.final_score import final_scores

    finals = final_scores(root)
    return finals.points(), finals.noted()


def _mapped(
    lms: Lms, root: Path, scores: dict[str, dict[str, float]], result: Export
) -> dict[str, dict[str, LmsId]]:
    """assignment -> student -> id in `lms`, with every graded student it lacks in `result`.

    Raises ValueError, naming both, when two students of an assignment share one id."""
    ids = {}
    for assignment, by_student in sorted(scores.items()):
        known = {s: i for s, i in recorded(root, assignment).items() if i.lms is lms}
        check_one_to_one(known, f"LMS ids of {assignment}")
        ids[assignment] = known
        result.unmapped += [(assignment, s) for s in sorted(by_student) if s not in known]
    return ids


def _canvas_row(
    person: LmsId, ids: dict[str, dict[str, LmsId]], scores: dict[str, dict[str, float]]
) -> list[str]:
    """One student's row of the Canvas gradebook import: the name made inert, then the scores."""
    row = [inert_cell(person.name), inert_cell(person.id), "", "", ""]
    for assignment in sorted(scores):
        student = next((s for s, i in ids[assignment].items() if i == person), None)
        score = scores[assignment].get(student) if student else None
        row.append("" if score is None else f"{score:g}")
    return row


def write_canvas(
    root: Path, path: Path, scores: dict[str, dict[str, float]], assignment_ids: dict[str, str]
) -> Export:
    """One Canvas gradebook CSV for every assignment, one row per Canvas user id."""
    result = Export()
    ids = _mapped(Lms.CANVAS, root, scores, result)
    people: dict[str, LmsId] = {}
    for known in ids.values():
        people.update({i.id: i for i in known.values()})
    titles = {a: f"{a} ({assignment_ids[a]})" if a in assignment_ids else a for a in scores}
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CANVAS_FIXED + [inert_cell(titles[a]) for a in sorted(scores)])
        for _, person in sorted(people.items(), key=lambda kv: (kv[1].name, kv[0].zfill(20))):
            writer.writerow(_canvas_row(person, ids, scores))
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
                            inert_cell(f"{MOODLE_PARTICIPANT}{person.id}"),
                            inert_cell(person.name),
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
    """Write the final scores (all assignments, or those named) for `lms`."""
    scores, noted = final_points(root)
    if assignments:
        unknown = sorted(set(assignments) - set(scores))
        if unknown:
            raise ValueError(f"no grades for {unknown} in the gradebook")
        scores = {a: s for a, s in scores.items() if a in assignments}
    if lms is Lms.CANVAS:
        result = write_canvas(root, path, scores, assignment_ids or {})
    else:
        result = write_moodle(root, path, scores)
    result.noted = [line for line in noted if line.split("/")[0].strip() in scores]
    return result
