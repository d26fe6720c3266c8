"""Feedback pages packed the way an LMS's bulk feedback upload takes them, one file per assignment.

Moodle, Assignment > View all submissions > Grading action > "Upload multiple feedback files in a
zip": a zip of folders named like the bulk download's, `<Full Name>_<participant id>_
assignsubmission_file_/`, each holding that student's page. Moodle reads each folder name split
at underscores: the second part is the participant id (per assignment, as `collect` recorded it:
`instructor.records.lms.recorded`), the third and fourth the plugin (mod/assign/feedback/file/
importziplib.php); the name is for people only, so its underscores and slashes are replaced.

Canvas has no route for this: its "Re-Upload Submissions" attaches a file as a comment only when
the file's name holds the id of a file the student submitted (`name_<user id>_<attachment id>_`),
and `collect` keeps the user id, not that attachment id. `CANVAS_REFUSAL` says so.

A student with a page and no recorded id is listed, never dropped silently.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from instructor.records import lms

MOODLE_SUFFIX = "_assignsubmission_file_"
CANVAS_REFUSAL = (
    "--lms canvas: Canvas has no bulk upload of feedback files that rnn-course can fill: its "
    "Re-Upload Submissions attaches a file only when its name holds the id of the file the "
    "student submitted, which collect does not keep. Attach each page in SpeedGrader (feedback/"
    "<student>/<assignment>/), and send grades with `rnn-course export --format canvas`"
)
_NOT_IN_NAME = re.compile(r"[_/\\\x00-\x1f\x7f]+")


@dataclass
class Bundle:
    """The zips written, and the (assignment, student) pages left out for want of an LMS id."""

    files: list[Path] = field(default_factory=list)
    unmapped: list[tuple[str, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"wrote {p} (Moodle: Upload multiple feedback files in a zip)" for p in self.files]
        if self.unmapped:
            out.append(
                f"{len(self.unmapped)} page(s) not packed, no Moodle participant id recorded by "
                "collect (upload them by hand):"
            )
            out += [f"  {assignment}/{student}" for assignment, student in self.unmapped]
        return out


def moodle_folder(person: lms.LmsId) -> str:
    """The folder Moodle's importer reads as this participant's."""
    name = _NOT_IN_NAME.sub(" ", person.name).strip() or "student"
    return f"{name}_{person.id}{MOODLE_SUFFIX}"


def pages_by_assignment(root: Path, pages: list[Path]) -> dict[str, dict[str, list[Path]]]:
    """assignment -> student -> pages, for pages under feedback/<student>/<assignment>/."""
    found: dict[str, dict[str, list[Path]]] = {}
    base = root / "feedback"
    for page in pages:
        student, assignment = page.relative_to(base).parts[:2]
        found.setdefault(assignment, {}).setdefault(student, []).append(page)
    return found


def moodle_bundle(root: Path, pages: list[Path]) -> Bundle:
    """feedback/<assignment>-moodle.zip for each assignment among `pages`."""
    bundle = Bundle()
    for assignment, by_student in sorted(pages_by_assignment(root, pages).items()):
        ids = {s: i for s, i in lms.recorded(root, assignment).items() if i.lms is lms.Lms.MOODLE}
        target = root / "feedback" / f"{assignment}-moodle.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for student, found in sorted(by_student.items()):
                if student not in ids:
                    bundle.unmapped.append((assignment, student))
                    continue
                for page in found:
                    archive.write(page, f"{moodle_folder(ids[student])}/{page.name}")
        bundle.files.append(target)
    return bundle
