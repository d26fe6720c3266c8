"""The feedback page of a submission that could not be graded: it says why, and what to do.

Grading records why (`instructor.coordinator.gradebook.recorded`: the problems, such as
"01_bptt.ipynb is not a valid notebook (broken JSON)"); every sentence is escaped here, and the page
is made inert like every other (`inert_page`): a file name in a sentence is the student's.
"""

from __future__ import annotations

import html

from instructor.output.inert_html import inert_page

ADVICE = (
    "Open your notebook in Jupyter or Colab: if it does not open, download it again from where "
    "you worked on it (File &gt; Download .ipynb) and submit that file. If it opens, run it "
    "from the top, save it and submit it again."
)
STYLE = (
    "body{font-family:sans-serif;font-size:15px;max-width:50em;margin:2em auto;padding:0 1em}"
    "li,p{white-space:pre-wrap;overflow-wrap:anywhere}.failed{color:#c9302c}"
)


def ungraded_page(assignment: str, reasons: list[str], max_score: float) -> str:
    """An HTML page telling a student that their submission of `assignment` was not graded,
    with `reasons` (plain sentences) and the score it got (0 of `max_score`)."""
    title = html.escape(assignment)
    items = "".join(f"<li>{html.escape(r)}</li>" for r in reasons) or "<li>no reason recorded</li>"
    score = f"0 / {max_score:g}" if max_score else "0"
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h2>{title}: your submission could not be graded</h2>"
        f"<p class='failed'><b>Score: {score}</b></p>"
        f"<p>Why:</p><ul>{items}</ul><p>{ADVICE}</p></body></html>"
    )
    return inert_page(page)
