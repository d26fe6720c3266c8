"""The grader's record in a notebook: written only by the grader, read without trusting it.

The grader's preprocessors keep what they found (problems, diagnoses, the time of each phase)
under the notebook-level metadata key `notebook_record.METADATA_KEY`, which the autograded notebook
carries to the coordinator. A student owns the submitted notebook's metadata too, so a copy of
that key in a submission would otherwise reach the coordinator as the grader's word (forged
problems, diagnoses and times). Hence:

- on the way in, `remove_from_files` (the job, before nbgrader runs) and `remove` (the
  sanitizing preprocessor, for a plain `nbgrader autograde`) delete any copy the submission
  brings, and report it (`Kind.FORGED_RECORD`); the grader then writes its record fresh;
- on the way out, `read` takes the record apart entry by entry: an entry of an unknown kind or
  shape (another version of the course on a worker, say) becomes a problem of its own
  (`Kind.UNREADABLE_RECORD`), never an exception.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from nbformat.notebooknode import NotebookNode

from instructor.records.diagnosis import Diagnosis
from instructor.records.notebook_record import METADATA_KEY
from instructor.records.problems import Kind, Problem


@dataclass
class Record:
    """What the grader recorded in one autograded notebook."""

    problems: list[Problem] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)


def remove(nb: NotebookNode) -> bool:
    """Delete the notebook's own copy of the grader's key (in place); True when it had one."""
    metadata = nb.get("metadata")
    return isinstance(metadata, dict) and metadata.pop(METADATA_KEY, None) is not None


def remove_from_files(
    files: dict[str, bytes], max_bytes: int
) -> tuple[dict[str, bytes], list[str]]:
    """`files` (a submission, by relative path) with the grader's key deleted from every
    notebook that has one, and the names of those notebooks. A file that is not a JSON
    notebook, or is larger than `max_bytes` (not read at all), is left as it is: grading
    reports it."""
    cleaned, forged = dict(files), []
    for name, data in files.items():
        if not name.endswith(".ipynb") or len(data) > max_bytes:
            continue
        try:
            nb = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(nb, dict) and isinstance(nb.get("metadata"), dict):
            if nb["metadata"].pop(METADATA_KEY, None) is not None:
                cleaned[name] = json.dumps(nb, ensure_ascii=False).encode()
                forged.append(name)
    return cleaned, forged


def _unreadable(part: str, entry: object) -> Problem:
    return Problem(Kind.UNREADABLE_RECORD, detail=f"{part}: {repr(entry)[:120]}")


def read(nb: NotebookNode) -> Record:
    """The grader's record in `nb` (see the module docstring); never raises."""
    record = Record()
    metadata = nb.get("metadata")
    store = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
    if store is None:
        return record
    if not isinstance(store, dict):
        record.problems.append(_unreadable(METADATA_KEY, store))
        return record
    for part, parse, into in (
        ("problems", Problem.from_json, record.problems),
        ("diagnoses", Diagnosis.from_json, record.diagnoses),
    ):
        entries = store.get(part, [])
        if not isinstance(entries, list):
            record.problems.append(_unreadable(part, entries))
            continue
        for entry in entries:
            try:
                if not isinstance(entry, dict):
                    raise ValueError(entry)
                into.append(parse(entry))
            except (ValueError, TypeError, KeyError):
                record.problems.append(_unreadable(part, entry))
    seconds = store.get("seconds", {})
    if not isinstance(seconds, dict):
        record.problems.append(_unreadable("seconds", seconds))
        seconds = {}
    for phase, value in seconds.items():
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            record.phases[str(phase)] = float(value)
        else:
            record.problems.append(_unreadable("seconds", {phase: value}))
    return record
