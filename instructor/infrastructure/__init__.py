"""What every layer stands on: the course folder and nbgrader's API on it
(`course_folder`), the course's settings and address (`stamp`), the names a command may be
asked about (`selection`), and confinement of student code with the reaping of what it leaves
(`confine`, `reaper`)."""
