"""What the layers above stand on: the course folder and nbgrader's API on it
(`course_folder`), the release nbgrader generates there (`release`), the instructor's notebook
read once (`source_notebook`), the course's settings and address (`stamp`), confinement of
student code (`confine`), the sandboxes it runs in (`sandbox`) and the reaping of what it leaves
(`reaper`)."""
