"""The markdown-number rule: prose states no measured number that the notebook does not account for.

    python tests/markdown_numbers.py [solutions/03_exploding/03_exploding.ipynb ...]

prints every unaccounted number of the given solution notebooks (all of them by default).
The rule (CONTRIBUTING.md, "Numbers in the prose"):

A number in a markdown cell LOOKS LIKE A MEASUREMENT when it
  1. has a decimal point or an exponent: 0.61, 2.118, 1e-3, 1.2e-5, $10^{-7}$, $3 \\times 10^{-4}$;
  2. or is followed by %, "percent", "x"/"×" (a factor), "times", "-fold" or "orders (of
     magnitude)": 84 %, 8.6x, 100 times, 5 orders of magnitude;
  3. or follows an approximation word (about, around, roughly, approximately, nearly, almost,
     ~, ≈, \\approx, \\sim), with at most one word between: "about -6", "after about step 150".
Not measurements: other integers (sizes, counts, years, section numbers); time estimates
("≈ 10 min", "about 75 minutes"); dotted labels after Section, sec., §, eq., chapter, Table,
Figure or version ("Section 10.7"); numbers inside identifiers (h_1, float64, 01_bptt); URLs.

It is ACCOUNTED FOR when
  a. its value, rounded as the prose shows it, equals a float literal (written with a point or
     an exponent) in one of the notebook's code cells, not in a comment or a string: a
     parameter the notebook sets (lr = 1e-2, sigma_max in (0.5, 1.0, 2.0)), or a value the
     code checks, e.g.
     `claims.claim("x* = 0.9575", abs(x_star - 0.9575) < 5e-5, ...)`; so a printed number may
     be restated in prose only where the code checks it against that same literal;
  b. or it is a mathematical constant of CONSTANTS below (1/2, 1/4, 1/6, ln 2, pi, ...);
  c. or its sentence cites a source: an author and a year, "Le et al. 2015",
     "(Pascanu, Mikolov and Bengio 2013)", "Tallec and Ollivier (2017)";
  d. or the markdown cell declares it: `<!-- numbers-ok: 17.7, 116; reason -->` (an HTML
     comment, invisible when rendered, listing the numbers as written, then a reason).
"""

from __future__ import annotations

import io
import math
import re
import sys
import tokenize
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

CONSTANTS = {
    "0": 0.0,
    "1": 1.0,
    "1/2": 0.5,
    "1/4": 0.25,
    "3/4": 0.75,
    "1/3": 1 / 3,
    "2/3": 2 / 3,
    "1/6": 1 / 6,
    "1/8": 0.125,
    "ln 2": math.log(2),
    "ln 10": math.log(10),
    "pi": math.pi,
    "e": math.e,
    "sqrt 2": math.sqrt(2),
    "1/sqrt 2": 1 / math.sqrt(2),
    "sqrt 3": math.sqrt(3),
}
_APPROX = r"(?:about|around|roughly|approximately|nearly|almost|~|≈|\\approx|\\sim)"
_FACTOR = r"\s*(?:%|\\%|percent\b|[x×](?![\w])|times\b|-?fold\b|orders?\b|decades?\b)"
_TIME = r"\s*(?:min\b|minutes?\b|hours?\b|h\b)"
_LABEL = (
    r"(?:section|sec\.|§|eqs?\.|equation|chapter|ch\.|table|fig\.|figure|version|v)"
    r"\s*$"
)
_NAME = r"[A-Z][A-Za-z'\-]+"
CITATION = re.compile(
    rf"{_NAME}(?:\s+et\s+al\.?|(?:,\s*{_NAME})*,?\s+and\s+{_NAME})?,?\s+\(?"
    r"(?:19[5-9]\d|20[0-4]\d)[a-z]?\b"
)
_ABBREVIATIONS = re.compile(
    r"\b(?:al|e\.g|i\.e|sec|eqs?|fig|vs|cf|Proc|Trans|Vol|no|pp)\.$", re.IGNORECASE
)
_DECLARATION = re.compile(r"<!--\s*numbers-ok:\s*([^;>]*);\s*([^>]*?)\s*-->", re.DOTALL)
_POWER = re.compile(
    r"(?:(\d+(?:\.\d+)?)\s*(?:\\times|×|\\cdot)\s*)?10\s*\^\s*\{?\s*([-−+]?\d+)"
    r"\s*\}?"
)
_NUMBER = re.compile(
    r"(?<![\w.\\^])[-−]?\d+(?:\.\d+)?(?:[eE][-+−]?\d+)?"
    r"(?!\.\d)(?=\W|$|x(?!\w))"
)


@dataclass(frozen=True)
class Finding:
    """One number in the prose that looks like a measurement and is not accounted for."""

    cell: int
    text: str
    sentence: str

    def __str__(self) -> str:
        return f"markdown cell {self.cell}: {self.text!r} in: {self.sentence.strip()[:160]}"


def code_literals(sources: list[str]) -> list[float]:
    """Every FLOAT literal (written with a point or an exponent: 0.5, 1e-3, 2.) in the code
    cells; integers (sizes, seeds, indices) are too common to vouch for a number in the prose.
    Comments, strings and magics are excluded."""
    values = []
    for source in sources:
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline))
        except (tokenize.TokenError, IndentationError, SyntaxError):
            continue
        for token in tokens:
            text = token.string.lower()
            if (
                token.type == tokenize.NUMBER
                and not text.endswith("j")
                and not text.startswith(("0x", "0o", "0b"))
                and ("." in text or "e" in text)
            ):
                values.append(float(token.string.replace("_", "")))
    return values


def _sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; no split after 'et al.', 'e.g.', 'sec.', ..."""
    spans, start = [], 0
    for match in re.finditer(r"[.!?](?=\s+[A-Z$(\[*`])|\n\s*\n|\n\s*[-*] ", text):
        if match.group().startswith(".") and _ABBREVIATIONS.search(text[start : match.end()]):
            continue
        spans.append((start, match.end()))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def _tolerance(text: str) -> float:
    exponent = Decimal(text.replace("−", "-").lstrip("-")).as_tuple().exponent
    return 0.5 * 10.0**exponent  # half a unit in the last digit shown


def _matches(value: float, tol: float, candidates: list[float], percent: bool) -> bool:
    """True when |value| is one of the candidates as the prose rounds it (x100 for a percent).
    Code literals carry no sign (tokenize reads -6 as '-' and '6'), so signs are ignored."""
    value = abs(value)
    return any(
        abs(abs(c) - value) < tol or (percent and abs(100 * abs(c) - value) < tol)
        for c in candidates
    )


def scan_markdown(text: str, literals: list[float], cell: int = 0) -> list[Finding]:
    """The unaccounted measurement-like numbers of one markdown cell's text."""
    declared = set()
    for numbers, reason in _DECLARATION.findall(text):
        if reason.strip():
            declared.update(n.strip() for n in re.split(r"[,\s]+", numbers) if n.strip())
    text = _DECLARATION.sub(" ", text)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.DOTALL)
    # link targets, URLs and arXiv / DOI identifiers
    text = re.sub(r"\]\([^)]*\)|https?://\S+|arXiv:\s*\S+|doi:\s*\S+", " ", text)
    spans = _sentences(text)
    candidates = literals + list(CONSTANTS.values())
    found = []
    covered: list[tuple[int, int]] = []
    tokens = []
    for m in _POWER.finditer(text):
        mantissa = float(m.group(1)) if m.group(1) else 1.0
        exponent = int(m.group(2).replace("−", "-"))
        tokens.append(
            (
                m.start(),
                m.end(),
                m.group(),
                mantissa * 10.0**exponent,
                abs(mantissa * 10.0**exponent) * 1e-9,
                True,
            )
        )
        covered.append((m.start(), m.end()))
    for m in _NUMBER.finditer(text):
        if any(a <= m.start() < b for a, b in covered):
            continue
        raw = m.group()
        value = float(raw.replace("−", "-"))
        before, after = text[max(0, m.start() - 40) : m.start()], text[m.end() : m.end() + 30]
        decimal = "." in raw or "e" in raw.lower()
        factor = re.match(_FACTOR, after) is not None
        approx = re.search(_APPROX + r"\s*\$?\s*(?:[A-Za-z]+\s+)?$", before) is not None
        if re.match(_TIME, after) or (decimal and re.search(_LABEL, before, re.IGNORECASE)):
            continue
        if decimal or factor or approx:
            percent = re.match(r"\s*(?:%|\\%|percent\b)", after) is not None
            tokens.append((m.start(), m.end(), raw, value, _tolerance(raw), percent))
    for start, _, raw, value, tol, percent in sorted(tokens):
        if raw in declared or raw.lstrip("-−") in declared:
            continue
        if _matches(value, tol, candidates, percent):
            continue
        a, b = next((a, b) for a, b in spans if a <= start < b or b == len(text))
        if CITATION.search(text[a:b]):
            continue
        found.append(Finding(cell, raw, text[a:b]))
    return found


def scan_notebook(path: Path) -> list[Finding]:
    """Every unaccounted measurement-like number in the markdown of one notebook."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    literals = code_literals([c.source for c in nb.cells if c.cell_type == "code"])
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            found.extend(scan_markdown(cell.source, literals, cell=index))
    return found


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parents[1]
    paths = [Path(a) for a in argv] or sorted((root / "solutions").glob("*/*.ipynb"))
    bad = 0
    for path in paths:
        findings = scan_notebook(path)
        bad += len(findings)
        print(f"{path.name}: {len(findings)} unaccounted number(s)")
        for finding in findings:
            print(f"  {finding}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
