"""Feedback for a class, through nbgrader in one process: one student's failure never stops
another's, and every page is made inert before anyone opens it.

For each autograded submission, nbgrader renders the HTML page (its hidden tests replaced by a
note, `instructor.preprocessors.HideHiddenTests`); then the page is checked and rebuilt:

- a page that still holds the hidden tests' marker is removed, never shown (the student's own
  output may have printed it: that student gets no page, and a line says why);
- every page is rebuilt by `instructor.inert_html.inert_page`: no script, no event handler, no
  `javascript:` URL, whatever the student's markdown or outputs held.

A student whose page cannot be made (nbgrader fails, the marker shows) is reported
(`problems.StudentFailure`) and the others get theirs.
"""

from __future__ import annotations

from pathlib import Path

from instructor.cells import HIDDEN_BEGIN
from instructor.course_folder import course_api
from instructor.inert_html import inert_page
from instructor.problems import ClassRun, StudentFailure


def _autograded(root: Path) -> list[tuple[str, str]]:
    """(assignment, student) of every autograded submission, sorted."""
    autograded = root / "autograded"
    if not autograded.is_dir():
        return []
    return sorted(
        (a.name, s.name)
        for s in autograded.iterdir()
        if s.is_dir()
        for a in s.iterdir()
        if a.is_dir()
    )


def _pages(api, root: Path, assignment: str, student: str) -> list[Path]:
    """Render, check and rebuild one student's feedback pages; raises RuntimeError with the
    reason when there is none to give them (and leaves none behind)."""
    folder = root / "feedback" / student / assignment
    try:
        result = api.generate_feedback(assignment, student)
    except Exception as error:  # nbconvert or nbgrader failed on this notebook
        result = {"success": False, "log": f"{type(error).__name__}: {error}"}
    pages = sorted(folder.glob("*.html")) if folder.is_dir() else []
    if not result["success"]:
        for page in pages:
            page.unlink()
        lines = [line for line in str(result.get("log", "")).splitlines() if line.strip()]
        raise RuntimeError(f"nbgrader could not render it: {(lines or ['?'])[-1][:300]}")
    for page in pages:
        text = page.read_text(errors="replace")
        if HIDDEN_BEGIN in text:
            for other in pages:
                other.unlink(missing_ok=True)
            raise RuntimeError(
                f"its page would show the marker {HIDDEN_BEGIN!r} (printed by the notebook, or a "
                "hidden test not removed); it was withheld"
            )
        page.write_text(inert_page(text))
    return pages


def generate_feedback(
    root: Path, only_assignments: list[str] | None = None, only_students: list[str] | None = None
) -> ClassRun:
    """HTML feedback for every autograded submission (or those named): the pages written, and
    the students who got none, with the reason."""
    api = course_api(root)
    run = ClassRun()
    for assignment, student in _autograded(root):
        if (only_assignments and assignment not in only_assignments) or (
            only_students and student not in only_students
        ):
            continue
        if (root / "autograded" / student / assignment / "GRADING-FAILED.txt").exists():
            continue
        try:
            run.written += _pages(api, root, assignment, student)
        except RuntimeError as error:
            run.failures.append(StudentFailure(assignment, student, str(error)))
    return run
