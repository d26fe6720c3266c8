"""Build the table that lets a visible check name a known mistake (`helpers.known_mistakes`).

For every entry of every notebook's mistake catalogue, the entry's code is run as a student's
answer through the exercise's visible check (the set-up cell, the checking tools and the model
solution of every other exercise around it, as in a student's kernel). What the function
returned during the check that failed is its trace; the table stores, per rounding, the trace's
tag and the entry's description and hint sealed with it. `rnn-course release` writes the table
to `helpers/data/known_mistakes.json`, which ships with `helpers` (and so with Colab's install);
the catalogue never does.

Entries the table cannot hold are reported, not hidden: a mistake its visible check passes
(`escapes`: only the hidden tests catch it), one that is not reproducible (`diagnosable=False`),
and traces that two entries share (`ambiguous`: naming either could be wrong, so neither is).
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from instructor.diagnosis import catalogue
from instructor.infrastructure import course_folder, source_notebook
from instructor.infrastructure.stamp import INSTALL_MARKER
from instructor.records import cells

TABLE = Path("helpers") / "data" / "known_mistakes.json"


@dataclass
class Built:
    """What building the table found, per notebook."""

    notebooks: dict[str, list[str]] = field(default_factory=dict)  # id -> its exercises
    exercises: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    sealed: list[str] = field(default_factory=list)  # "<id>: <entry>" per entry in the table
    escapes: list[str] = field(default_factory=list)
    not_diagnosable: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        total = len(self.sealed) + len(self.escapes) + len(self.ambiguous)
        out = [
            f"known mistakes: {len(self.sealed)} of {total} diagnosable catalogue entries are "
            f"named by their visible check"
        ]
        for label, names in (
            ("passed by the visible check (only hidden tests catch them)", self.escapes),
            ("indistinguishable on the visible check's inputs", self.ambiguous),
            ("marked diagnosable=False in the catalogue (named by no table)", self.not_diagnosable),
        ):
            if names:
                out.append(f"  {len(names)} {label}: {', '.join(names)}")
        return out


def _trace_of_failure(namespace: dict, test_source: str, exercise: str):
    """Run a visible test cell in `namespace`; the failing exercise's trace, or None when the
    check passed."""
    from helpers import checks

    checks.start_check()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(test_source, f"<test_{exercise}>", "exec"), namespace)
    except checks.CheckFailure:
        return checks.last_failed_trace(exercise)
    except Exception:  # a check that crashes on this answer: nothing reproducible to name
        return None
    return None


def entry_traces(root: Path, assignment: str) -> tuple[list[str], list[tuple]]:
    """(the notebook's exercises, [(entry, its visible check's trace, or None when the check
    passed it)] for every catalogue entry whose exercise has a visible check)."""
    from helpers import checks

    nb = nbformat.read(course_folder.notebook_path(root / "solutions", assignment), 4)
    parsed = source_notebook.parse(nb)
    setup = "\n".join(  # the Colab install marker is a comment; the release replaces it
        line for line in parsed.setup.splitlines() if not line.strip().startswith(INSTALL_MARKER)
    )
    visible = {name: cells.released_source(src) for name, src in parsed.visible_tests().items()}
    models = {m.label: m.source for m in parsed.models}
    base: dict = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(setup, "<set-up>", "exec"), base)
        for label, source in parsed.tools:
            exec(compile(cells.python_source(source), f"<{label}>", "exec"), base)
        for label, source in models.items():
            exec(compile(source, f"<{label}>", "exec"), base)
    checks.NAME_KNOWN_MISTAKES = False
    found = []
    for entry in catalogue.load(root / "solutions", assignment):
        if entry.exercise not in visible:
            continue
        namespace = dict(base)
        exec(compile(entry.source, f"<{entry.id}>", "exec"), namespace)
        found.append((entry, _trace_of_failure(namespace, visible[entry.exercise], entry.exercise)))
    return list(models), found


def build_notebook(root: Path, assignment: str, built: Built) -> None:
    """Add one notebook's exercises and sealed entries to `built`."""
    from helpers import known_mistakes

    exercises, found = entry_traces(root, assignment)
    built.notebooks[assignment] = exercises
    by_tag: dict[str, tuple[str, dict]] = {}
    ambiguous: set[str] = set()
    for entry, trace in found:
        label = f"{assignment}:{entry.id}"
        if not entry.diagnosable:
            built.not_diagnosable.append(label)
            continue
        if trace is None:
            built.escapes.append(label)
            continue
        named = known_mistakes.Named(entry.id, entry.description, entry.hint)
        for sealed in known_mistakes.seal(entry.exercise, trace.entries, named):
            if sealed["tag"] in by_tag and by_tag[sealed["tag"]][0] != label:
                ambiguous.update([label, by_tag[sealed["tag"]][0]])
            by_tag.setdefault(sealed["tag"], (label, {"exercise": entry.exercise, **sealed}))
    for label, sealed in by_tag.values():
        if label in ambiguous:
            continue
        exercise = sealed.pop("exercise")
        built.exercises.setdefault(exercise, []).append(sealed)
        if label not in built.sealed:
            built.sealed.append(label)
    built.ambiguous.extend(sorted(ambiguous))


def build(root: Path, assignments: list[str] | None = None) -> Built:
    """The table for every (or each named) notebook."""
    built = Built()
    for assignment in assignments or course_folder.assignments(root):
        build_notebook(root, assignment, built)
    return built


def write(root: Path) -> Built:
    """Build the table for every notebook and write it to `TABLE` under root."""
    built = build(root)
    path = root / TABLE
    path.parent.mkdir(parents=True, exist_ok=True)
    table = {"version": 1, "notebooks": built.notebooks, "exercises": built.exercises}
    path.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    return built
