"""Typed facts that travel between parts, each defined once: problems, phases, cell
markers, the grader's record in a notebook, a submission's paths, final scores, adjustments,
lateness and LMS ids. Records import nothing from the other layers except `output` (inert text)
and `infrastructure` settings."""
