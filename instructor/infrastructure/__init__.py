"""What the layers above stand on: the course folder and nbgrader's API on it
(`course_folder`), the instructor's notebook read once (`source_notebook`), the course's
settings and address (`stamp`), the names a command may be asked about (`selection`),
confinement of student code (`confine`), the sandboxes it runs in (`sandbox`) and the reaping of
what it leaves (`reaper`)."""
