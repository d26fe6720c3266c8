"""CSV cells a spreadsheet shows as text: student-controlled text never becomes a formula.

A spreadsheet (Excel, LibreOffice Calc, Google Sheets) evaluates a CSV cell that starts with
`=`, `+`, `-` or `@` as a formula, and some of them skip a leading tab or carriage return
first; a formula can fetch a link (`=HYPERLINK(...)`), read other cells into it, or start a
program. Every CSV this course writes passes its text cells (names, ids, titles: anything that
is not a number it formatted itself) through `inert_cell`. Numbers must not go through it: a
negative score would gain a quote.
"""

from __future__ import annotations

from instructor.output.inert_terminal import inert_text

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert_cell(value: str) -> str:
    """`value` as a CSV cell that no spreadsheet reads as a formula.

    A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a single quote in
    front (OWASP's advice against CSV injection); the spreadsheet shows the text after it and
    evaluates nothing. Control characters other than newline and tab are written as escapes
    (`\\x1b`), as for a terminal (`inert_terminal.inert_text`), so that printing the file obeys
    none of them (a carriage return is one: the cell then starts with its escape, not a
    formula). Any other cell is returned unchanged. Quoting commas, quotes and line
    breaks is the csv module's job, not this function's.
    """
    value = inert_text(value)  # `cat` of the file must not obey an escape sequence either
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value
