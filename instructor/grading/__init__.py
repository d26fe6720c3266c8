"""Grading one submission inside a job: nbgrader's preprocessors (`preprocessors`, named in
nbgrader_config.py) rebuild the submission from its exercise cells, run it for its outputs in a
confined kernel, and run the instructor's tests in the grader against the student's functions,
which run in sandboxes (`trusted_run`)."""
