"""The typed facts that travel between parts, each defined once: problems, phases, cell markers
(`cells`) and the parsing of cell source (`ipython_source`), the grader's record in a notebook,
diagnoses, a submission's paths and flags, who a student is in the LMS (`lms`), and the class
report's data. The bottom layer: it imports no other part of `instructor` (annotations aside)."""
