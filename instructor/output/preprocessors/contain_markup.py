"""Feedback: a student's markup stays inside its own cell."""

from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool

from instructor.output.inert_html import inert_fragment
from instructor.records.cells import nbgrader_meta

# Outputs a page shows as markup (nbconvert writes them into the page as they are).
MARKUP_TYPES = ("text/html", "text/markdown", "image/svg+xml")


class ContainMarkup(NbGraderPreprocessor):
    """Feedback: every student markdown cell and every HTML, markdown or SVG output passes through
    `inert_fragment` before nbconvert builds the page. An unclosed `<style>` or `<script>` in one
    cell used to turn the rest of the page into its content (the grader's results gone, a fake
    score drawn by the student's CSS); the whole page is still rebuilt by `inert_page` after."""

    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        # read-only cells are the instructor's (RebuildCells restored them); every other
        # markdown cell is the student's
        if cell.cell_type == "markdown" and not nbgrader_meta(cell).get("locked"):
            cell.source = inert_fragment(cell.source)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for kind in MARKUP_TYPES:
                if kind in data:
                    text = data[kind]
                    text = "".join(text) if isinstance(text, list) else str(text)
                    data[kind] = inert_fragment(text)
        return cell, resources
