"""Text from a submission made inert for a terminal or a log file.

A submission controls many strings that end up on the instructor's screen: an exception's type
name, a cell's output, a student's folder name. A terminal obeys the control characters in them
(ESC starts a sequence that can erase a line, move the cursor or hide text; CR rewrites the
line; a newline starts a line the grader never wrote). Every line the grader prints or logs that
holds submission text goes through `inert_line` (one line: no control character at all) or
`inert_text` (several lines: newlines and tabs kept), which show each control character as a
visible escape (`\\x1b`) instead.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from instructor.records.problems import ClassRun

# C0 controls, DEL, C1 controls (0x9b is a one-byte CSI), and the Unicode characters that reorder
# or hide the text around them (bidirectional overrides and isolates, zero-width characters, line
# and paragraph separators).
_OTHERS = "\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
_ANY = re.compile(f"[\x00-\x1f{_OTHERS}]")
_BUT_LINES = re.compile(f"[\x00-\x08\x0b-\x1f{_OTHERS}]")  # all but tab (09) and newline (0a)


def _shown(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert_line(text: object) -> str:
    """`text` as one line a terminal shows as it is: every control character, newlines
    included, written as an escape (`\\x1b`, `\\n`)."""
    return _ANY.sub(_shown, str(text))


def inert_text(text: object) -> str:
    """`text` as lines a terminal shows as they are: newlines and tabs kept, every other control
    character (CR included) written as an escape."""
    return _BUT_LINES.sub(_shown, str(text))


def print_failures(run: ClassRun, what: str) -> int:
    """Print the students a class-wide command failed for (inert lines); its exit status."""
    if not run.failures:
        return 0
    print(f"{what} FAILED for {len(run.failures)} submission(s); every other one was done:")
    for failure in run.failures:
        print(inert_line(failure.line()))
    return 1
