"""`rnn-course release [-a ID]`: the student notebooks in notebooks/ from solutions/, the
assignments in the gradebook (nbgrader's generate_assignment, `instructor.infrastructure.release`),
and the table by which a student's visible check names a known mistake
(`instructor.diagnosis.known_mistakes_table`), rebuilt for every notebook."""

from __future__ import annotations

import argparse

from instructor.commands.selection import add_selection, check_assignments
from instructor.diagnosis import known_mistakes_table
from instructor.infrastructure import release

HELP = "regenerate notebooks/ from solutions/"


def add_arguments(sub: argparse.ArgumentParser) -> None:
    add_selection(sub, students=False)


def run(args: argparse.Namespace) -> int:
    check_assignments(args.root, args.assignment)
    ids = release.generate_release(args.root, args.assignment or None)
    print(f"regenerated notebooks/ for {', '.join(ids)}")
    built = known_mistakes_table.write(args.root)
    print(f"wrote {known_mistakes_table.TABLE} for every notebook")
    print("\n".join(built.lines()))
    return 0
