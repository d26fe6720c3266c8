"""The coordinator: a class's submissions become grading jobs (`job`), graded on
dask.distributed workers (`engine`, `worker`, `grade_job`); their results come back as data and
only the coordinator writes the gradebook (`gradebook`)."""
