"""`rnn-course autograde [-a ID] [-s NAME]`: grade the submitted work of a class in parallel,
on dask (a local cluster or an existing one), resumably; the run itself is
`instructor.coordinator.autograde`."""

from __future__ import annotations

import argparse

from instructor.commands.selection import add_selection
from instructor.coordinator.autograde import autograde

HELP = "autograde submissions in parallel"


def add_arguments(sub: argparse.ArgumentParser) -> None:
    add_selection(sub)
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


def run(args: argparse.Namespace) -> int:
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
