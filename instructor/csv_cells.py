"""CSV cells a spreadsheet shows as text: student-controlled text never becomes a formula.

A spreadsheet (Excel, LibreOffice Calc, Google Sheets) evaluates a CSV cell that starts with
`=`, `+`, `-` or `@` as a formula, and some of them skip a leading tab or carriage return
first; a formula can fetch a link (`=HYPERLINK(...)`), read other cells into it, or start a
program. Every CSV this course writes passes its text cells (names, ids, titles: anything that
is not a number it formatted itself) through `inert_cell`. Numbers must not go through it: a
negative score would gain a quote.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert_cell(value: str) -> str:
    """`value` as a CSV cell that no spreadsheet reads as a formula.

    A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a single quote in
    front (OWASP's advice against CSV injection); the spreadsheet shows the text after it and
    evaluates nothing. Any other cell is returned unchanged. Quoting commas, quotes and line
    breaks is the csv module's job, not this function's.
    """
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value
