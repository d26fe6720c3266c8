"""The final score at the top of each feedback page, so that a student reads the grade the
instructor exports (`instructor.scores.final_score`): nbgrader's own score line shows the automatic
score only (and any formgrader mark, which the final score ignores)."""

from __future__ import annotations

import html
import re
from pathlib import Path

from instructor.scores.final_score import FinalScore, final_scores

_BODY = re.compile(r"<body[^>]*>", re.IGNORECASE)
STYLE = "border:2px solid #4c72b0;padding:0.5em 1em;margin:1em;font-size:1.1em"
_BOX_START = '<div class="final-score"'


def note(final: FinalScore) -> str:
    """The grade and what it is made of, for the student (HTML, every text escaped)."""
    parts = [f"automatic score {final.automatic:g}"]
    if final.adjustment:
        parts.append(f"adjusted {final.adjustment.points:+g}: {final.adjustment.reason}")
    if final.lateness.late:
        parts.append(final.lateness.describe())
    if final.penalty:
        parts.append(f"late penalty -{final.penalty:g} ({final.late_percent:g} %)")
    text = f"Final grade: {final.score:g} / {final.max_score:g} ({'; '.join(parts)})"
    return f'{_BOX_START} style="{STYLE}">{html.escape(text)}</div>'


def add_final_scores(root: Path, pages: list[Path]) -> None:
    """Put the final score at the top of each page `feedback/<student>/<assignment>/*.html`
    that has one (a page of a submission not graded has none)."""
    finals = final_scores(root)
    for page in pages:
        student, assignment = page.parent.parent.name, page.parent.name
        final = finals.of(assignment).get(student)
        text = page.read_text(errors="replace")
        body = _BODY.search(text)
        # Added once, right after <body>: a page that has it there was done (a student's text
        # saying class="final-score" anywhere else does not count; their markup loses its
        # classes, instructor.output.inert_html).
        if final is None or body is None or text[body.end() :].startswith(_BOX_START):
            continue
        page.write_text(text[: body.end()] + note(final) + text[body.end() :])
