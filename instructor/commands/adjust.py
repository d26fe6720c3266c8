"""`rnn-course adjust -a ID -s STUDENT --points P --reason TEXT`: a grade adjusted by hand, with
its reason (`instructor.scores.adjustments`); `--list` shows the adjustments, `--remove` takes
one back. The final score every page and export reads is `instructor.scores.final_score`."""

from __future__ import annotations

import argparse

from instructor.commands.selection import add_selection, check_assignments, check_students
from instructor.output.inert_terminal import inert_line
from instructor.scores import adjustments
from instructor.scores.final_score import final_scores, graded_digest

HELP = "adjust a grade by hand, with a reason (or list, remove)"


def add_arguments(sub: argparse.ArgumentParser) -> None:
    add_selection(sub)
    sub.add_argument("--points", type=float, help="points to add (negative: to take away)")
    sub.add_argument(
        "--reason", help="why: the report, the exports, --list and the feedback page show it"
    )
    sub.add_argument("--list", action="store_true", help="list the adjustments (of -a, -s)")
    sub.add_argument("--remove", action="store_true", help="remove the adjustment of -a, -s")


def _list(args: argparse.Namespace) -> int:
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


def run(args: argparse.Namespace) -> int:
    check_assignments(args.root, args.assignment)
    check_students(args.root, args.student)
    if args.list:
        return _list(args)
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
