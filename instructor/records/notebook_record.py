"""The grader's record inside an autograded notebook: its notebook-level metadata under
`METADATA_KEY`, one section per kind of fact (problems, diagnoses, seconds per phase).

Every module that writes or reads a section goes through `section` and `read_section`, so the
key and the shape of the record are spelled here once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # nbformat is slow to import, and the sandbox zygote never needs it
    from nbformat.notebooknode import NotebookNode

METADATA_KEY = "rnn_course"


def section(nb: NotebookNode, name: str, empty: Any) -> Any:
    """The record's section `name`, created as `empty` (a list or a dict) when missing; the
    caller adds to it in place."""
    return nb.metadata.setdefault(METADATA_KEY, {}).setdefault(name, empty)


def read_section(nb: NotebookNode, name: str, empty: Any) -> Any:
    """The record's section `name` as found, or `empty`; nothing is created."""
    found = nb.get("metadata", {}).get(METADATA_KEY, {})
    value = found.get(name, empty) if isinstance(found, dict) else empty
    return value if isinstance(value, type(empty)) else empty
