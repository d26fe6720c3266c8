"""Feedback keeps a student's markup inside its own cell (attack, round three): an unclosed
`<style>` in a markdown cell turned the rest of the feedback page into style text, so every
exercise and hidden-test result was gone and the student's CSS drew "Score: 15.0 / 15.0" over
the real score. `ContainMarkup` passes each student markdown cell and each HTML, markdown or SVG
output through `inert_fragment` before nbconvert builds the page."""

from __future__ import annotations

import nbformat
from nbconvert import HTMLExporter

from instructor.output.inert_html import inert_fragment, inert_page
from instructor.output.preprocessors import ContainMarkup

HIDE = (
    "<style>body{visibility:hidden}.s{visibility:visible;position:fixed;top:0;left:0;right:0;"
    "bottom:0;background:#fff;z-index:99999}</style>\n"
    '<div class="s">Score: 15.0 / 15.0 &mdash; every hidden test passed.</div>\n<style>'
)
RESULT = "GRADER-RESULT-AFTER-THE-ATTACK"


def _page(nb) -> str:
    nb, resources = ContainMarkup().preprocess(nb, {})
    body, _ = HTMLExporter(template_name="classic").from_notebook_node(nb, resources)
    return inert_page(body)


def _attacked_notebook(markdown: str):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(markdown),
        nbformat.v4.new_code_cell(
            "print(1)",
            outputs=[nbformat.v4.new_output("stream", name="stdout", text=RESULT + "\n")],
        ),
        nbformat.v4.new_code_cell(
            "x",
            outputs=[
                nbformat.v4.new_output(
                    "display_data", data={"text/html": "<b>open<style>", "text/plain": "x"}
                )
            ],
        ),
        nbformat.v4.new_markdown_cell("closing words " + RESULT + "-2"),
    ]
    return nb


def test_an_unclosed_style_or_script_cannot_swallow_the_cells_after_it():
    for markdown in (HIDE, "<script>", "<b><i>open", "<svg><style>"):
        page = _page(_attacked_notebook(markdown))
        assert RESULT in page and RESULT + "-2" in page, markdown
        assert "visibility:hidden" not in page and "z-index:99999" not in page


def test_a_fragment_keeps_markdown_and_closes_what_it_opened():
    assert inert_fragment("**bold** a < b <div><b>x") == "**bold** a &lt; b <div><b>x</b></div>"
    assert inert_fragment(HIDE) == (
        "\n<div>Score: 15.0 / 15.0 — every hidden test passed.</div>\n"  # its class dropped
    )
    assert inert_fragment("<svg><style>x{}</style><circle r='1'/></svg>") == (
        '<svg><circle r="1"></circle></svg>'
    )
    assert inert_fragment("<script>alert(1)") == ""


def test_the_instructors_read_only_markdown_is_left_as_written():
    nb = _attacked_notebook("a < b")
    nb.cells[0].metadata["nbgrader"] = {"locked": True, "grade_id": "intro", "solution": False,
                                        "grade": False, "schema_version": 3}  # fmt: skip
    out, _ = ContainMarkup().preprocess(nb, {})
    assert out.cells[0].source == "a < b"
    assert out.cells[3].source == "closing words " + RESULT + "-2"


def test_a_cells_markup_cannot_be_placed_over_the_page_or_pass_for_its_parts():
    """Attack (issue 26 review): an output `<div style="position:fixed...">` covered the page
    with a forged grade, and a class of the page's own (final-score, Bootstrap's fixed navbar)
    or an id of its anchors passed for the page's parts. Outside SVG drawings, a cell's markup
    keeps no style, class or id; inside one, a drawing keeps its own styles."""
    forged = (
        '<div style="position:fixed;top:0;left:0;width:100%;height:100%;z-index:99" '
        'class="final-score navbar-fixed-top" id="toc">Final grade: 10 / 10</div>'
    )
    kept = inert_fragment(forged)
    for attribute in ("style=", "class=", "id=", "position"):
        assert attribute not in kept, kept
    assert "Final grade: 10 / 10" in kept  # the text stays, as the student's own output
    drawing = inert_fragment(
        '<svg width="10" height="10" style="overflow:visible" transform="scale(99)">'
        '<rect width="5" height="5" style="fill:red" class="bar"/></svg>'
    )
    assert 'style="fill:red"' in drawing and 'class="bar"' in drawing, drawing
    assert "overflow" not in drawing and "scale(99)" not in drawing, drawing
    after = inert_fragment("<svg><g></g></svg><div style='position:fixed'>x</div>")
    assert "position" not in after, after
