"""IPython cell source as plain Python, in time linear in the cell's length.

IPython's `TransformerManager.transform_cell` turns special syntax (`%magic`, `!cmd`, `x = %m`,
`obj?`) into calls one instance at a time, and tokenizes the whole cell again after each: a cell
of n lines holding m magics costs m tokenizations of n lines. The grader turns every exercise
cell of every submission into Python in its own process, before any of the student's limits
apply, so a cell of 20,000 lines and 200 magics cost minutes there.

`transform_cell` here gives the same result with one tokenization of each line (plus the
lines of the logical line being transformed). After a transform, the lines before it are
unchanged, so they tokenize as before and hold no special syntax; tokenizing resumes at the start
of the transformed logical line instead of the top of the cell, with the tokenizer's state there
(open blocks' indentation, bracket level) rebuilt by a few header lines, and stops at the
first logical line holding special syntax.
IPython's own transformer classes find and apply every transform, in IPython's order; the
clean-up and cell-magic passes (linear already) are IPython's own. Like IPython, it gives up
with RuntimeError after `TRANSFORM_LOOP_LIMIT` transforms.
"""

from __future__ import annotations

import tokenize
from collections.abc import Iterator

from IPython.core import inputtransformer2 as it2
from IPython.utils import tokenutil

TRANSFORM_LOOP_LIMIT = it2.TRANSFORM_LOOP_LIMIT
TRANSFORMERS = tuple(it2.TransformerManager().token_transformers)  # in IPython's order


State = tuple[tuple[str, ...], int, int]  # open blocks' indentation, bracket levels (see below)


def _groups(lines: list[str], start: int, state: State) -> Iterator[tuple[int, list, State]]:
    """The logical lines of lines[start:], lazily, grouped as IPython's `make_tokens_by_line`
    groups them, and tokenized as if the cell were tokenized from its top: `state` is the state
    at `start`: the indentation of each open block and the tokenizer's bracket level (which an
    unmatched closing bracket leaves below zero), rebuilt by header lines, and the bracket
    level `make_tokens_by_line` counts (never below zero, so it can differ). Yields (offset,
    tokens, the state before the group); a token's row minus `offset` is its index in
    `lines`."""
    indents, level, parenlev = state
    headers = [indent + "pass\n" for indent in indents]  # the tokenizer's indentation stack
    if level < 0:  # and its bracket level (Python's tokenizer counts below zero)
        headers.append((indents[-1] if indents else "") + ")" * -level + "\n")
    offset = len(headers) + 1 - start  # token rows are 1-based
    stack, group, before = list(indents), [], state
    source = iter(headers + lines[start:])
    try:
        for token in tokenutil.generate_tokens_catch_errors(
            source.__next__, extra_errors_to_catch=["expected EOF"]
        ):
            if token.start[0] <= len(headers) and token.type != tokenize.DEDENT:
                continue  # the headers' own tokens
            if not group:
                before = (tuple(stack), level, parenlev)
            group.append(token)
            if token.type == tokenize.INDENT:
                stack.append(token.string)
            elif token.type == tokenize.DEDENT and stack:
                stack.pop()
            elif token.type == tokenize.OP and token.string in {"(", "[", "{"}:
                level += 1
            elif token.type == tokenize.OP and token.string in {")", "]", "}"}:
                level -= 1
            if token.type == tokenize.NEWLINE or (token.type == tokenize.NL and parenlev <= 0):
                yield offset, group, before
                group = []
            elif token.type == tokenize.OP and token.string in {"(", "[", "{"}:
                parenlev += 1
            elif token.type == tokenize.OP and token.string in {")", "]", "}"}:
                parenlev = max(0, parenlev - 1)
    except tokenize.TokenError:  # the cell ends inside a string or brackets: as IPython
        pass
    if group:
        yield offset, group, before


def _apply_first(
    lines: list[str], start: int, state: State, blocked: set[type]
) -> tuple[list[str], int, State] | None:
    """Apply the transform IPython would apply next, searching from line `start` on (no special
    syntax before it): the transformed lines, the line its logical line starts at and the
    tokenizer's state there (see `_groups`); None when IPython would apply none. As in IPython,
    only the first match of each transformer class counts: a class whose first match cannot be
    applied (SyntaxError) is added to `blocked`, and IPython never transforms with it again."""
    for offset, group, before in _groups(lines, start, state):
        candidates = []
        for transformer_cls in TRANSFORMERS:
            if transformer_cls in blocked:
                continue
            found = transformer_cls.find([group])
            if found:
                found.start_line -= offset - 1
                if hasattr(found, "q_line"):
                    found.q_line -= offset - 1
                candidates.append(found)
        for transformer in sorted(candidates, key=it2.TokenTransformBase.sortby):
            try:
                return transformer.transform(lines), group[0].start[0] - offset, before
            except SyntaxError:
                blocked.add(type(transformer))
    return None


def transform_cell(cell: str) -> str:
    """What `IPython.core.inputtransformer2.TransformerManager().transform_cell(cell)` returns,
    in linear time (see the module docstring)."""
    manager = it2.TransformerManager()
    if not cell.endswith("\n"):
        cell += "\n"
    lines = cell.splitlines(keepends=True)
    for transform in manager.cleanup_transforms + manager.line_transforms:
        lines = transform(lines)
    start, state, blocked = 0, ((), 0, 0), set()
    for _ in range(TRANSFORM_LOOP_LIMIT):
        step = _apply_first(lines, start, state, blocked)
        if step is None:
            return "".join(lines)
        lines, start, state = step
    raise RuntimeError(
        f"Input transformation still changing after {TRANSFORM_LOOP_LIMIT} iterations. Aborting."
    )
