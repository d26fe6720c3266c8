"""Autograde a class: how submissions become scores, read top-down.

1. `find_submissions` lists submitted/<student>/<assignment>/ folders; those graded before and
   unchanged since (same digest) are skipped, so an interrupted run resumes where it stopped
   and a resubmission is graded again.
2. Each assignment to grade becomes a `Kit` (`instructor.coordinator.job`): its source
   notebooks, mistake catalogue, the course's nbgrader configuration and a snapshot of the
   gradebook; each remaining submission becomes a `Job`: its files and their digest.
3. Jobs run as tasks on dask.distributed (`instructor.coordinator.engine`: a LocalCluster on
   this machine, or an existing cluster), each assignment's kit sent to the workers once; each
   job grades on a worker in a private temporary course folder
   (`instructor.coordinator.grade_job`) and returns a `Result` as data.
4. As each result arrives, the coordinator (this process, alone) restores and reports any
   change to the course's own files, writes the student's log and records the grades
   (`instructor.coordinator.gradebook.Recorder`). It commits several students per transaction
   (up to 16, or whatever has arrived when no other result is waiting) and only then puts each
   one's autograded files in place and marks the submission done, so a run interrupted before
   a commit grades those students again when resumed.
5. The `Summary` names every problem of every student (`instructor.records.problems`). A
   submission the cluster or the tooling failed to grade is listed as NOT GRADED and recorded
   nowhere, so the next run grades it.

A submission that raises, hangs, kills its kernel, prints gigabytes, is not valid JSON, or has
lost its notebook costs that student points and gets a line in the summary; nothing else. One
run at a time per course (a lock); everything a run starts dies with it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from instructor.coordinator import engine
from instructor.coordinator.gradebook import Recorder, ensure_assignments, is_current, snapshot
from instructor.coordinator.job import CONFIG_NAME, Job, Kit, Result, malformed
from instructor.diagnosis import catalogue
from instructor.infrastructure import confine
from instructor.infrastructure.course_folder import assignments, notebook_path
from instructor.output.inert_terminal import inert_line, inert_text
from instructor.records.problems import Kind, Problem, sentences
from instructor.records.submission import WORK, Submission

RUN_PREFIX = "rnn-course-run-"


@dataclass
class Summary:
    """What a run graded and skipped, and how long it took."""

    graded: list[Result] = field(default_factory=list)
    skipped: list[Submission] = field(default_factory=list)
    ungraded: list[Result] = field(default_factory=list)  # nothing recorded: the next run grades
    seconds: float = 0.0

    def lines(self) -> list[str]:
        """The summary's lines, each inert for a terminal (a student's name, an exception's
        type and any other text from a submission are shown, never obeyed)."""
        out = [
            f"graded {len(self.graded)} submission(s) in {self.seconds:.1f} s; "
            f"{len(self.skipped)} unchanged since their last grading (use --force to regrade)"
        ]
        for r in sorted(self.graded, key=lambda r: (r.assignment, r.student)):
            if r.problems:
                out.append(
                    f"  {r.assignment}/{r.student}: {r.score:g}/{r.max_score:g} points; "
                    + "; ".join(sentences(r.problems))
                )
        if self.ungraded:
            out.append(
                f"NOT GRADED: {len(self.ungraded)} submission(s), through no fault of theirs; "
                "nothing was recorded for them: run the same command again to grade them"
            )
        for r in sorted(self.ungraded, key=lambda r: (r.assignment, r.student)):
            out.append(f"  {r.assignment}/{r.student}: " + "; ".join(sentences(r.problems)))
        return [inert_line(line) for line in out]


def find_submissions(
    root: Path, only_assignments: list[str] | None = None, only_students: list[str] | None = None
) -> list[Submission]:
    """Every submitted/<student>/<assignment>/ folder, filtered."""
    known = set(assignments(root))
    wanted = set(only_assignments or known)
    unknown = wanted - known
    if unknown:
        raise ValueError(f"unknown assignment(s) {sorted(unknown)}; the course has {sorted(known)}")
    submitted = root / "submitted"
    found = (
        [
            Submission(root, a.name, s.name)
            for s in sorted(submitted.iterdir())
            if s.is_dir()
            for a in sorted(s.iterdir())
            if a.is_dir() and a.name in wanted
        ]
        if submitted.is_dir()
        else []
    )
    if only_students:
        missing = set(only_students) - {sub.student for sub in found}
        if missing:
            raise ValueError(f"no submissions for {sorted(missing)} under {submitted}")
        found = [sub for sub in found if sub.student in only_students]
    return found


def make_kit(root: Path, assignment: str, config: str, gradebook: bytes) -> Kit:
    """What every job of `assignment` is graded with: its source notebook and mistake catalogue,
    the course's configuration `config` and the gradebook snapshot `gradebook`, as data."""
    source = notebook_path(root / "solutions", assignment)
    mistakes = catalogue.path_of(root / "solutions", assignment)
    return Kit(
        assignment,
        {source.name: source.read_bytes()},
        config,
        gradebook,
        catalogue=mistakes.read_bytes() if mistakes.is_file() else b"",
    )


def make_job(sub: Submission) -> Job:
    """The job that grades `sub`: its files and their digest, as data."""
    files = sub.files()
    return Job(sub.assignment, sub.student, files, digest=Submission.digest_of(files))


class ProtectedFiles:
    """The course's own code and sources, as bytes: after each student, anything changed is
    put back and reported. Student code with a private view of the machine cannot even see
    these; this is the guard for machines where it runs without one (see
    instructor.infrastructure.confine)."""

    def __init__(self, root: Path):
        import helpers
        import instructor

        folders = [Path(helpers.__file__).parent, Path(instructor.__file__).parent]
        paths = [p for f in folders for p in f.rglob("*.py")]
        paths += [
            root / CONFIG_NAME,
            *sorted((root / "solutions").rglob("*.ipynb")),
            *sorted((root / "solutions").rglob(catalogue.CATALOGUE_NAME)),
        ]
        self.saved = {p: p.read_bytes() for p in paths if p.is_file()}

    def restore(self) -> list[str]:
        """Put back every changed or deleted file; return their names."""
        changed = []
        for path, data in self.saved.items():
            try:
                same = path.read_bytes() == data
            except OSError:
                same = False
            if not same:
                path.write_bytes(data)
                changed.append(path.name)
        return changed


class RunLock:
    """One autograde at a time on a course: an exclusive lock on .grading/lock, released by
    the kernel the moment the run's process ends, however it ends."""

    def __init__(self, root: Path, wait_seconds: float = 10.0):
        self.path, self.wait_seconds = root / WORK / "lock", wait_seconds
        self.fd: int | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(self.fd)
                    raise RuntimeError(
                        f"another autograde is running on this course (it holds "
                        f"{self.path}); wait for it, or stop it"
                    ) from None
                time.sleep(0.2)

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)


def run_folder() -> tuple[str, int]:
    """A fresh temporary folder for this run's workers (their job folders, kernels' and
    sandboxes' scratch folders), locked while the run lives; folders of earlier runs whose lock
    is free (the run died without cleaning up) are removed first. Returns (path, lock fd)."""
    base = Path(tempfile.gettempdir())
    for stale in base.glob(f"{RUN_PREFIX}*"):
        try:
            fd = os.open(stale / "lock", os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            shutil.rmtree(stale, ignore_errors=True)
        except BlockingIOError:
            pass
        finally:
            os.close(fd)
    path = tempfile.mkdtemp(prefix=RUN_PREFIX)
    os.chmod(path, 0o755)  # confined student code (nobody) reaches its scratch folder through it
    fd = os.open(os.path.join(path, "lock"), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return path, fd


def well_formed(result: Result) -> Result:
    """`result`, or, when it is malformed (`job.malformed`), a NOT GRADED result in its place
    that says so: a grader fault with a line in the summary, never a crash of the run."""
    wrong = malformed(result)
    if wrong is None:
        return result
    return Result(
        str(getattr(result, "assignment", "?")),
        str(getattr(result, "student", "?")),
        problems=[Problem(Kind.MALFORMED_RESULT, detail=wrong)],
        failed=True,
        ungraded=True,
        digest=str(getattr(result, "digest", "")),
    )


def write_log(sub: Submission, result: Result) -> None:
    """The student's log: what nbgrader said, every problem, the score. A result not graded is
    added after the log of the last grading (whose grades still stand), not in its place. Its
    text is inert for a terminal (`cat` or `less -R` shows a student's escape sequences as
    text), and each problem and diagnosis is one line."""
    sub.log.parent.mkdir(parents=True, exist_ok=True)
    with sub.log.open("a" if result.ungraded else "w") as log:
        log.write(
            inert_text(f"grading {sub.student}/{sub.assignment}\n" + result.log)
            + "".join(f"PROBLEM: {inert_line(s)}\n" for s in sentences(result.problems))
            + "".join(f"DIAGNOSIS: {inert_line(d.sentence())}\n" for d in result.diagnoses)
            + (
                "not graded: nothing was recorded, and the next run grades it\n"
                if result.ungraded
                else f"score {result.score:g}/{result.max_score:g} in {result.seconds:.1f} s\n"
            )
        )


class _ResultSink:
    """What the coordinator does with each result as it arrives: restore protected files (and
    say so), write the student's log, record the grades (an ungraded result is reported, not
    recorded: the next run grades it), and move the progress bar."""

    def __init__(self, root: Path, summary: Summary, recorder: Recorder, bar, protected) -> None:
        self.root, self.summary, self.recorder = root, summary, recorder
        self.bar, self.protected = bar, protected

    def __call__(self, result: Result, others: list[str]) -> None:
        result = well_formed(result)
        changed = self.protected.restore() if self.protected else []
        if changed:
            also = f"; also being graded then: {', '.join(others)}" if others else ""
            result.problems.append(Problem(Kind.FILES_RESTORED, detail=", ".join(changed) + also))
        sub = Submission(self.root, result.assignment, result.student)
        if result.ungraded:
            write_log(sub, result)
            self.summary.ungraded.append(result)
            self.bar.update(1)
            return
        if not result.grades:
            self.recorder.zero_grades(result)
        write_log(sub, result)
        self.recorder.record(result)
        self.summary.graded.append(result)
        self.bar.update(1)
        self.bar.set_postfix_str(
            inert_line(f"{result.student}: {result.score:g}/{result.max_score:g}")
        )


def autograde(
    root: Path,
    only_assignments: list[str] | None = None,
    only_students: list[str] | None = None,
    workers: int | None = None,
    force: bool = False,
    student_timeout: float = 600.0,
    progress: bool = True,
    scheduler: str | None = None,
) -> Summary:
    """Grade every submission under submitted/ (or the ones named): on a LocalCluster of
    `workers` processes (default: one per core), or on the dask cluster at `scheduler`."""
    started = time.monotonic()
    summary = Summary()
    with RunLock(root):
        found = find_submissions(root, only_assignments, only_students)
        todo = [sub for sub in found if force or not is_current(sub)]
        summary.skipped = [sub for sub in found if sub not in todo]
        if todo:
            _grade(root, todo, summary, workers, student_timeout, progress, scheduler)
    summary.seconds = time.monotonic() - started
    return summary


def _grade(
    root: Path,
    todo: list[Submission],
    summary: Summary,
    workers: int | None,
    student_timeout: float,
    progress: bool,
    scheduler: str | None,
) -> None:
    """Grade the submissions `todo` on the engine, recording into `summary`."""
    from tqdm.auto import tqdm

    cannot = None if scheduler else confine.student_code_cannot_run()
    if cannot:  # every student would lose the points of every exercise: grade nobody
        raise RuntimeError(f"cannot grade on this machine: {cannot}")
    names = sorted({sub.assignment for sub in todo})
    ensure_assignments(root, names)
    config, gradebook = (root / CONFIG_NAME).read_text(), snapshot(root)
    kits = {name: make_kit(root, name, config, gradebook) for name in names}
    jobs: Iterator[Job] = (make_job(sub) for sub in todo)  # read when a worker is free
    protected = None if confine.mode().private else ProtectedFiles(root)
    bar = tqdm(total=len(todo), desc="autograding", unit="submission", disable=not progress)
    folder, lock = run_folder()
    try:
        with Recorder(root) as recorder:
            engine.run(
                jobs,
                kits,
                len(todo),
                _ResultSink(root, summary, recorder, bar, protected),
                on_idle=recorder.flush,  # commit while no other result waits
                workers=workers or os.cpu_count() or 1,
                scheduler=scheduler,
                limit=student_timeout,
                tmpdir=folder,
                logs=root / WORK / "logs",
            )
    finally:
        bar.close()
        os.close(lock)
        shutil.rmtree(folder, ignore_errors=True)
