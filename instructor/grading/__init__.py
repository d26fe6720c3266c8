"""Trusted grading of one submission, inside a job: the instructor's notebook read once
(`source_notebook`), the instructor's tests run in the grader (`trusted_run`) against the
student's functions in confined sandboxes (`sandbox`), through nbgrader's preprocessors
(`preprocessors`)."""
