"""Instructor tooling: release, collect, autograde (in parallel, tamper-proof), feedback, export
and publish, on top of nbgrader. Installed with the course as the `rnn-course` command.

Students never need this package; `helpers` never imports it.

Laid out by layer. A submission goes down the layers and its grades come back up as data:

    commands/        one module per `rnn-course` command (`cli` lists them)
    coordinator/     a class's run: jobs on dask workers; the gradebook, written by the coordinator
    grading/         one submission: nbgrader's grading preprocessors, the instructor's tests run
                     in the grader against the student's functions (`trusted_run`)
    diagnosis/       a failing exercise's recorded calls replayed against the mistake catalogue
    output/          what reaches a person, made inert: feedback pages (and nbgrader's feedback
                     preprocessors), the class report, CSV files, terminal lines
    scores/          the final score: automatic, adjusted by hand, late penalty
    infrastructure/  the course folder and its notebooks, settings, confinement, sandboxes
    records/         the typed facts that travel between all of them (problems, cell markers, ...)

A module imports only from its own layer and the layers listed after it (`LAYERS`, checked by
tests/test_layout.py); an import needed for type annotations alone is exempt.
"""

import sys

LAYERS = (
    "commands",
    "coordinator",
    "grading",
    "diagnosis",
    "output",
    "scores",
    "infrastructure",
    "records",
)

# jsonschema (under nbformat and nbgrader) imports the optional `rfc3987_syntax`, which builds a
# grammar at import and so adds about a second to every process that reads a notebook: the
# command line, each grading worker (python-jsonschema/jsonschema#1428). It only checks the
# "iri" and "iri-reference" string formats, which no notebook or gradebook schema uses; these
# processes skip it.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
