"""Feedback: formulas drawn on the page itself, with no network."""

from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool

from instructor.output.tex_image import with_drawn_maths


class DrawMaths(NbGraderPreprocessor):
    """Feedback: every formula of a markdown cell becomes an inline SVG picture
    (`instructor.output.tex_image`). The page runs no script and fetches nothing (its policy forbids
    both), so MathJax never drew them: offline, a student saw raw TeX. Runs after
    `ContainMarkup`: the pictures are `<img>` tags with a `data:image/svg+xml` source, which the
    page's rebuild (`inert_page`) and its policy both allow."""

    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown":
            cell.source = with_drawn_maths(cell.source)
        return cell, resources
