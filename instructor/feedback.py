"""Feedback and grade export, through nbgrader in one process."""

from __future__ import annotations

from pathlib import Path

from instructor.cells import HIDDEN_BEGIN
from instructor.course_folder import course_api, course_config, db_url


def generate_feedback(
    root: Path, only_assignments: list[str] | None = None, only_students: list[str] | None = None
) -> list[Path]:
    """HTML feedback for every autograded submission (or those named); hidden tests are removed
    by `instructor.grader.HideHiddenTests`. Returns the files written."""
    api = course_api(root)
    autograded = root / "autograded"
    pairs = (
        sorted(
            (a.name, s.name)
            for s in autograded.iterdir()
            if s.is_dir()
            for a in s.iterdir()
            if a.is_dir()
        )
        if autograded.is_dir()
        else []
    )
    written: list[Path] = []
    for assignment, student in pairs:
        if (only_assignments and assignment not in only_assignments) or (
            only_students and student not in only_students
        ):
            continue
        if (autograded / student / assignment / "GRADING-FAILED.txt").exists():
            continue
        result = api.generate_feedback(assignment, student)
        if not result["success"]:
            raise RuntimeError(f"feedback for {student}/{assignment} failed:\n{result['log']}")
        folder = root / "feedback" / student / assignment
        for html in folder.glob("*.html"):
            if HIDDEN_BEGIN in html.read_text():
                html.unlink()
                raise RuntimeError(f"{html} would show hidden tests; removed it")
            written.append(html)
    return written


def export_grades(root: Path, path: Path) -> Path:
    """Every student's score per assignment as CSV (nbgrader's export format)."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    path = path if path.is_absolute() else root / path
    plugin = CsvExportPlugin(config=course_config(root))
    plugin.to = str(path)
    with Gradebook(db_url(root)) as gb:
        plugin.export(gb)
    return path
