"""Instructor tooling: release, collect, autograde (in parallel, tamper-proof), feedback, export
and publish, on top of nbgrader. Installed with the course as the `rnn-course` command.

Students never need this package; `helpers` never imports it.
"""

import sys

# jsonschema (under nbformat and nbgrader) imports the optional `rfc3987_syntax`, which builds a
# grammar at import and so adds about a second to every process that reads a notebook: the
# command line, each grading worker (python-jsonschema/jsonschema#1428). It only checks the
# "iri" and "iri-reference" string formats, which no notebook or gradebook schema uses; these
# processes skip it.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
