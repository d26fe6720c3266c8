"""A class's grading run. The coordinator process lists the submissions, sends them as jobs to
dask.distributed workers and alone writes the gradebook (`autograde`, `engine`, `gradebook`);
each worker gets ready once (`worker`) and grades a job in a private folder (`grade_job`); a job
and its result travel as plain data (`job`)."""
