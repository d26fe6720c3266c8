"""Maths as pictures drawn here, for a page that fetches nothing: TeX between dollars becomes an
inline SVG image (matplotlib's mathtext, glyphs drawn as paths, in a `data:` URL).

A feedback page forbids scripts and network fetches (`instructor.output.inert_html`), so MathJax
from a CDN never runs and formulas showed as raw TeX. mathtext understands most of the TeX the
course's headings use; a few common spellings it lacks are rewritten first (`\\le`, `\\tfrac`,
`\\bigl(`, `\\sqrt H`), and a formula it still cannot draw stays as its TeX in a code span. Each
formula is drawn at most once per process (the same headings recur in every student's page).
"""

from __future__ import annotations

import base64
import functools
import html
import io
import re

SIZE_PT = 10.0  # drawn at this size; shown scaled to the text around it (em units)
MAX_TEX_CHARS = 400  # longer formulas are left as TeX (mathtext's parser is not linear)
MAX_PER_TEXT = 60  # and so are the formulas of a text past this many
# $$display$$ or $inline$ (not `\$`, not a `$` followed by a space or a digit after it)
MATH = re.compile(r"\$\$(?P<display>.+?)\$\$|(?<![\\$])\$(?!\s)(?P<inline>[^$\n]+?)(?<![\s\\])\$")
CODE_SPAN = re.compile(r"(`+)(?:.+?)\1", re.DOTALL)
# TeX that mathtext spells differently or not at all, rewritten before drawing
REWRITES = (
    (re.compile(r"\\le(?![a-zA-Z])"), r"\\leq"),
    (re.compile(r"\\ge(?![a-zA-Z])"), r"\\geq"),
    (re.compile(r"\\tfrac(?![a-zA-Z])"), r"\\frac"),
    (re.compile(r"\\[bB]ig+[lr]?(?![a-zA-Z])"), ""),
    (re.compile(r"\\(sqrt|mathcal|mathbb)\s*([A-Za-z0-9])"), r"\\\1{\2}"),
)


def _normalised(tex: str) -> str:
    for pattern, replacement in REWRITES:
        tex = pattern.sub(replacement, tex)
    return tex


@functools.lru_cache(maxsize=512)
def tex_image(tex: str) -> str | None:
    """An `<img>` tag showing the formula `tex` (without dollars), sized and aligned to sit in a
    line of text; None when mathtext cannot draw it."""
    if len(tex) > MAX_TEX_CHARS:
        return None
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import MathTextParser

    formula = f"${_normalised(tex)}$"
    prop = FontProperties(size=SIZE_PT)
    style = {"mathtext.fontset": "cm", "svg.fonttype": "path", "svg.hashsalt": "rnn-course"}
    try:
        with matplotlib.rc_context(style):
            width, height, depth, *_ = MathTextParser("path").parse(formula, dpi=72, prop=prop)
            figure = Figure(figsize=(width / 72, height / 72))
            figure.text(0, depth / height, formula, fontproperties=prop)
            out = io.BytesIO()
            figure.savefig(out, dpi=72, format="svg", transparent=True, metadata={"Date": None})
    except Exception:  # noqa: BLE001 (mathtext's parse errors, and anything else: keep the TeX)
        return None
    data = base64.b64encode(out.getvalue()).decode()
    return (
        f'<img class="tex" alt="{html.escape(tex, quote=True)}" '
        f'style="height:{height / SIZE_PT:.2f}em;vertical-align:{-depth / SIZE_PT:.2f}em" '
        f'src="data:image/svg+xml;base64,{data}">'
    )


def _drawn(match: re.Match, budget: list[int]) -> str:
    tex = match["display"] if match["display"] is not None else match["inline"]
    image = tex_image(tex.strip()) if budget[0] > 0 else None
    budget[0] -= 1
    if image is None:
        return f"<code>{html.escape(match.group(0), quote=False)}</code>"
    return f'<div class="tex-display">{image}</div>' if match["display"] is not None else image


def with_drawn_maths(markdown: str) -> str:
    """`markdown` with every formula outside code spans replaced by its picture (`tex_image`),
    or by its TeX in a code span when it cannot be drawn."""
    budget = [MAX_PER_TEXT]
    parts, last = [], 0
    for code in CODE_SPAN.finditer(markdown):
        parts.append(MATH.sub(lambda m: _drawn(m, budget), markdown[last : code.start()]))
        parts.append(code.group(0))
        last = code.end()
    parts.append(MATH.sub(lambda m: _drawn(m, budget), markdown[last:]))
    return "".join(parts)
