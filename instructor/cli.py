"""`rnn-course`: one command per step of the instructor's workflow.

rnn-course release                       notebooks/ from solutions/ (and the gradebook)
rnn-course collect DOWNLOADS -a 01_bptt  student files -> submitted/<student>/01_bptt/
rnn-course autograde [-a ID] [-s NAME]   grade on dask (local or a cluster), resumable
rnn-course adjust -a ID -s NAME --points P --reason TEXT
                                         adjust a grade by hand (--list, --remove)
rnn-course feedback [-a ID] [-s NAME]    HTML feedback without hidden tests
    [--lms moodle]                       ... and a zip for Moodle's bulk feedback upload
rnn-course report [-a ID] [-o DIR]       class report: HTML page and CSV per assignment
rnn-course export [-o grades.csv]        grades as CSV
    [--format canvas|moodle]             ... or as the LMS's gradebook import file
rnn-course publish DEST | --branch NAME  a student-only copy of the course
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from instructor.infrastructure import course_folder
from instructor.output.inert_terminal import inert_line
from instructor.records.problems import ClassRun


def _release(args) -> int:
    from instructor.infrastructure.selection import check_assignments

    check_assignments(args.root, args.assignment)
    ids = course_folder.generate_release(args.root, args.assignment or None)
    print(f"regenerated notebooks/ for {', '.join(ids)}")
    from instructor.diagnosis import known_mistakes_table

    built = known_mistakes_table.write(args.root)
    print(f"wrote {known_mistakes_table.TABLE} for every notebook")
    print("\n".join(built.lines()))
    return 0


def _collect(args) -> int:
    from instructor.commands.collect import collect
    from instructor.infrastructure.selection import check_assignments

    check_assignments(args.root, [args.assignment])
    report = collect(args.root, Path(args.source), args.assignment)
    print("\n".join(inert_line(line) for line in report.lines()))  # students named the files
    return 0


def _autograde(args) -> int:
    from instructor.commands.autograde import autograde

    summary = autograde(
        args.root,
        args.assignment or None,
        args.student or None,
        workers=args.workers,
        force=args.force,
        student_timeout=args.student_timeout,
        progress=not args.quiet,
        scheduler=args.scheduler,
    )
    print("\n".join(summary.lines()))  # inert already
    print(f"logs: {args.root / '.grading' / 'logs'}")
    return 1 if summary.ungraded else 0


def _adjust(args) -> int:
    from instructor.infrastructure.selection import check_assignments, check_students
    from instructor.records import adjustments
    from instructor.records.final_score import final_scores, graded_digest

    check_assignments(args.root, args.assignment)
    check_students(args.root, args.student)
    if args.list:
        scores = final_scores(args.root)
        shown = [
            a
            for (assignment, student), a in adjustments.load(args.root).items()
            if (not args.assignment or assignment in args.assignment)
            and (not args.student or student in args.student)
        ]
        for a in shown:
            score = scores.of(a.assignment).get(a.student)
            print(inert_line(a.line(stale=bool(score and score.stale))))
        print(f"{len(shown)} adjustment(s), kept in {adjustments.store(args.root)}")
        return 0
    if len(args.assignment or []) != 1 or len(args.student or []) != 1:
        raise ValueError("adjust needs one -a ID and one -s STUDENT (or --list)")
    assignment, student = args.assignment[0], args.student[0]
    if args.remove:
        gone = adjustments.remove(args.root, assignment, student)
        print(inert_line(f"removed {gone.line()}"))
        return 0
    if args.points is None or args.reason is None:
        raise ValueError("adjust needs --points P and --reason TEXT (or --remove, or --list)")
    digest = graded_digest(args.root, assignment, student)
    made = adjustments.adjust(args.root, assignment, student, args.points, args.reason, digest)
    score = final_scores(args.root, [assignment]).of(assignment)[student]
    print(inert_line(f"recorded {made.line()}"))
    print(f"final score now {score.score:g} / {score.max_score:g} (automatic {score.automatic:g})")
    return 0


def _failures(run: ClassRun, what: str) -> int:
    """Print the students a class-wide command failed for (inert lines); its exit status."""
    if not run.failures:
        return 0
    print(f"{what} FAILED for {len(run.failures)} submission(s); every other one was done:")
    for failure in run.failures:
        print(inert_line(failure.line()))
    return 1


def _feedback(args) -> int:
    from instructor.commands.feedback import generate_feedback
    from instructor.infrastructure.selection import check_assignments, check_students

    check_assignments(args.root, args.assignment)
    check_students(args.root, args.student)
    if args.lms == "canvas":
        from instructor.output.feedback_bundle import CANVAS_REFUSAL

        raise ValueError(CANVAS_REFUSAL)
    run = generate_feedback(args.root, args.assignment or None, args.student or None)
    print(f"wrote {len(run.written)} feedback file(s) under {args.root / 'feedback'}")
    if args.lms == "moodle":
        from instructor.output.feedback_bundle import moodle_bundle

        packed = moodle_bundle(args.root, run.written)
        print("\n".join(inert_line(line) for line in packed.lines()))
    return _failures(run, "feedback")


def _report(args) -> int:
    from instructor.commands import report
    from instructor.infrastructure.selection import check_assignments

    check_assignments(args.root, args.assignment)
    out = Path(args.output)
    run = report.write_reports(
        args.root, out if out.is_absolute() else args.root / out, args.assignment or None
    )
    if not run.written:
        raise ValueError("nothing graded yet: run `rnn-course autograde` first")
    print("wrote " + ", ".join(str(p) for p in run.written))
    return _failures(run, "the report")


def _export(args) -> int:
    from instructor.commands import export as grades_csv
    from instructor.infrastructure.selection import check_assignments
    from instructor.records import lms

    check_assignments(args.root, args.assignment)
    if args.format == "nbgrader":
        if args.assignment or args.lms_assignment:
            raise ValueError("-a and --lms-assignment go with --format canvas or moodle")
        run = grades_csv.export(args.root, Path(args.output))
        print(f"wrote {run.written[0]}")
        return _failures(run, "the export")
    ids = dict(pair.split("=", 1) for pair in args.lms_assignment or [] if "=" in pair)
    if len(ids) != len(args.lms_assignment or []):
        raise ValueError("--lms-assignment takes ID=LMS_ID, e.g. 01_bptt=4567")
    out = Path(args.output)
    done = lms.export(
        args.root,
        lms.Lms(args.format),
        out if out.is_absolute() else args.root / out,
        args.assignment or None,
        ids,
    )
    print("\n".join(inert_line(line) for line in done.lines()))
    return 0


def _publish(args) -> int:
    from instructor.commands import publish

    if bool(args.dest) == bool(args.branch):
        raise ValueError("publish needs a destination folder or --branch, not both")
    where = publish.address(args.root, args.github, args.branch)
    if args.branch:
        commit = publish.to_branch(args.root, args.branch, where)
        print(f"published the student edition to branch {args.branch} ({commit[:10]})")
    else:
        files = publish.build(args.root, Path(args.dest), where)
        print(f"published the student edition ({len(files)} files) to {args.dest}")
    print(f"its Colab badges open and its set-up cells install {where.url()} at {where.ref}")
    return 0


def _selection(sub: argparse.ArgumentParser, students: bool = True) -> None:
    """-a (and -s): the assignments (and students) a command works on."""
    sub.add_argument(
        "-a",
        "--assignment",
        action="append",
        help="assignment id, e.g. 01_bptt (repeatable; default: all)",
    )
    if students:
        sub.add_argument(
            "-s", "--student", action="append", help="student id (repeatable; default: all)"
        )


def _release_args(sub: argparse.ArgumentParser) -> None:
    _selection(sub, students=False)


def _collect_args(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("source", help="a folder of notebooks, zips or folders, or a bulk zip")
    sub.add_argument(
        "-a",
        "--assignment",
        required=True,
        help="the one assignment these files are for, e.g. 01_bptt (required)",
    )


def _autograde_args(sub: argparse.ArgumentParser) -> None:
    _selection(sub)
    sub.add_argument(
        "-j",
        "--workers",
        type=int,
        default=None,
        help="worker processes of the local cluster (default: one per core)",
    )
    sub.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="grade on this dask cluster instead of a local one (its workers need "
        "the course installed)",
    )
    sub.add_argument("--force", action="store_true", help="regrade unchanged submissions too")
    sub.add_argument(
        "--student-timeout",
        type=float,
        default=600.0,
        help="seconds one submission may take in all (default 600)",
    )
    sub.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _adjust_args(sub: argparse.ArgumentParser) -> None:
    _selection(sub)
    sub.add_argument("--points", type=float, help="points to add (negative: to take away)")
    sub.add_argument(
        "--reason", help="why: the report, the exports, --list and the feedback page show it"
    )
    sub.add_argument("--list", action="store_true", help="list the adjustments (of -a, -s)")
    sub.add_argument("--remove", action="store_true", help="remove the adjustment of -a, -s")


def _feedback_args(sub: argparse.ArgumentParser) -> None:
    _selection(sub)
    sub.add_argument(
        "--lms",
        choices=["moodle", "canvas"],
        help="also pack the pages for the LMS's bulk feedback upload: moodle writes "
        "feedback/<ID>-moodle.zip per assignment (Upload multiple feedback files in a zip); "
        "Canvas has no such upload (the command says why)",
    )


def _report_args(sub: argparse.ArgumentParser) -> None:
    _selection(sub, students=False)
    sub.add_argument(
        "-o",
        "--output",
        default="reports",
        help="folder to write, relative to the course folder (default: reports)",
    )


def _export_args(sub: argparse.ArgumentParser) -> None:
    _selection(sub, students=False)
    sub.add_argument("-o", "--output", default="grades.csv")
    sub.add_argument(
        "--format",
        choices=["nbgrader", "canvas", "moodle"],
        default="nbgrader",
        help="nbgrader's CSV (default); Canvas's gradebook import CSV; Moodle's "
        "grading worksheet, one per assignment (-o's name plus -<ID>)",
    )
    sub.add_argument(
        "--lms-assignment",
        action="append",
        metavar="ID=LMS_ID",
        help="Canvas: the LMS's id of an assignment, so that the import updates "
        "it instead of creating one (repeatable)",
    )


def _publish_args(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "dest",
        nargs="?",
        help="folder to write: a clone of the student repository, or a new folder (nothing "
        "publish did not write there is changed or deleted)",
    )
    sub.add_argument(
        "--branch",
        help="commit the copy to this git branch of the course's repository instead, to push "
        "to the student repository (never to the course's own remote)",
    )
    sub.add_argument(
        "--github",
        default=None,
        help="owner/name[@ref] on GitHub where the copy will live, which its Colab "
        "badges open and its set-up cells install (default: the student edition in "
        'pyproject.toml, [project.urls] "Student edition", at the --branch or the configured ref)',
    )


# Each command: (name, what it does, its handler, its arguments), in the semester's order.
COMMANDS = [
    ("release", "regenerate notebooks/ from solutions/", _release, _release_args),
    ("collect", "lay out downloaded student files for grading", _collect, _collect_args),
    ("autograde", "autograde submissions in parallel", _autograde, _autograde_args),
    ("adjust", "adjust a grade by hand, with a reason (or list, remove)", _adjust, _adjust_args),
    ("feedback", "write HTML feedback (hidden tests removed)", _feedback, _feedback_args),
    (
        "report",
        "write the class report (HTML page and CSV per assignment)",
        _report,
        _report_args,
    ),
    (
        "export",
        "export grades as CSV: nbgrader's, or an LMS's import file",
        _export,
        _export_args,
    ),
    ("publish", "write a student-only copy of the course", _publish, _publish_args),
]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="rnn-course",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    top.add_argument(
        "--root",
        type=Path,
        default=None,
        help="the course folder (default: found from the working directory)",
    )
    steps = top.add_subparsers(dest="step", required=True)
    for name, help_, handler, arguments in COMMANDS:
        sub = steps.add_parser(name, help=help_, description=help_)
        sub.set_defaults(func=handler)
        arguments(sub)
    return top


# What a student's install ([lab]) lacks and the instructor's tools need ([dev]).
DEV_ONLY = frozenset({"nbgrader", "distributed", "dask", "nbclient", "jupytext", "sqlalchemy"})


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    warnings.filterwarnings("ignore", module="sqlalchemy")
    try:
        args.root = course_folder.find_root(args.root or Path(os.getcwd()))
        return args.func(args)
    except ModuleNotFoundError as error:
        if error.name and error.name.split(".")[0] in DEV_ONLY:
            print(
                f"rnn-course {args.step}: the instructor's tools need the course's [dev] extra "
                f"({error.name} is missing): in the course folder, run\n"
                '    python -m pip install -e ".[dev]"',
                file=sys.stderr,
            )
            return 2
        raise
    except (ValueError, RuntimeError, FileNotFoundError) as error:
        print(inert_line(f"rnn-course {args.step}: {error}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
