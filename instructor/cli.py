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
import importlib
import os
import sys
import warnings
from pathlib import Path
from types import ModuleType

from instructor.infrastructure import course_folder
from instructor.output.inert_terminal import inert_line

# The commands, in the semester's order: each is the module instructor.commands.<name>, which
# holds its HELP line, its arguments (`add_arguments`) and what it does (`run`).
COMMANDS = ("release", "collect", "autograde", "adjust", "feedback", "report", "export", "publish")


def command(name: str) -> ModuleType:
    """The module of command `name` (imported here: some need the [dev] extra)."""
    return importlib.import_module(f"instructor.commands.{name}")


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
    for name in COMMANDS:
        module = command(name)
        sub = steps.add_parser(name, help=module.HELP, description=module.HELP)
        sub.set_defaults(run=module.run)
        module.add_arguments(sub)
    return top


# What a student's install ([lab]) lacks and the instructor's tools need ([dev]).
DEV_ONLY = frozenset({"nbgrader", "distributed", "dask", "nbclient", "jupytext", "sqlalchemy"})


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", module="sqlalchemy")
    args = argparse.Namespace(step=None)
    try:
        args = parser().parse_args(argv)
        args.root = course_folder.find_root(args.root or Path(os.getcwd()))
        return args.run(args)
    except ModuleNotFoundError as error:
        if error.name and error.name.split(".")[0] in DEV_ONLY:
            step = f"rnn-course {args.step}" if args.step else "rnn-course"
            print(
                f"{step}: the instructor's tools need the course's [dev] extra "
                f"({error.name} is missing): in the course folder, run\n"
                '    python -m pip install -e ".[dev]"',
                file=sys.stderr,
            )
            return 2
        raise
    except (ValueError, RuntimeError, FileNotFoundError) as error:
        step = f"rnn-course {args.step}" if args.step else "rnn-course"
        print(inert_line(f"{step}: {error}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
