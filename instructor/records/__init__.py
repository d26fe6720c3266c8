"""The typed facts that travel between parts, each defined once: problems, phases, cell
markers and their parsing, the grader's record in a notebook, diagnoses, a submission's paths
and flags, LMS ids. The bottom layer: it imports no other part of `instructor`."""
