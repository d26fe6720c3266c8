"""The coordinator: a class's submissions become grading jobs (`job`), run on
dask.distributed workers (`engine`, `worker`); their results come back as data and only the
coordinator writes the gradebook (`gradebook`)."""
