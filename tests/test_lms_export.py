"""Grades back to the LMS: `collect` records the ids in bulk-download names, and
`rnn-course export --format canvas|moodle` writes the file each LMS's import reads.

The column layouts are spelled here as the importers document them, independently of
instructor/records/lms.py: Canvas's gradebook import (Canvas Instructor Guide, "How do I import
grades in the Gradebook?": Student, ID, SIS User ID, SIS Login ID, Section, then one column per
assignment, "Name (assignment id)"); Moodle's grading worksheet upload
(mod/assign/feedback/offline/importgradeslib.php: it needs the columns get_string('recordid',
'assign') = "Identifier", get_string('gradenoun') = "Grade" and get_string('lastmodifiedgrade',
'assign') = "Last modified (grade)", and reads the participant id after "Participant ").
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import zipfile
from datetime import datetime

import pytest

import course_tools
from instructor.commands.collect import collect
from instructor.coordinator.gradebook import Recorder, ensure_assignments
from instructor.coordinator.job import Grade, Result
from instructor.records import lms

CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_REQUIRED = ["Identifier", "Grade", "Last modified (grade)"]
NOTEBOOK = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
ASSIGNMENTS = ["01_bptt", "02_vanishing"]


@pytest.mark.parametrize(
    "name, expected",
    [
        ("smithdana_12345_67890_01_bptt.ipynb", (lms.Lms.CANVAS, "12345", "smithdana")),
        ("smithdana_late_12345_67890_01_bptt-1.ipynb", (lms.Lms.CANVAS, "12345", "smithdana")),
        ("Erin Jones_4242_assignsubmission_file_", (lms.Lms.MOODLE, "4242", "Erin Jones")),
        ("alice.ipynb", None),
    ],
)
def test_ids_are_read_from_bulk_download_names(name, expected):
    found = lms.identify(name)
    assert (found and (found.lms, found.id, found.name)) == expected


def _grade(root, assignment, student, fraction):
    """Record `fraction` of every cell's points for a student, as grading would."""
    nb = course_tools.read(course_tools.notebook_path(root / "solutions", assignment))
    cells = course_tools.grade_cells(nb)
    name = course_tools.notebook_path(root / "solutions", assignment).stem
    with Recorder(root) as recorder:
        recorder.record(
            Result(assignment, student, [Grade(name, c, fraction * p, p) for c, p in cells.items()])
        )
    return fraction * sum(cells.values())


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lms")
    root = course_tools.copy_course(tmp / "course")
    ensure_assignments(root, ASSIGNMENTS)
    for assignment, members in (
        (
            "01_bptt",
            {
                "smithdana_12345_67890_01_bptt.ipynb": NOTEBOOK,
                "leeeve_late_222_333_01_bptt.ipynb": NOTEBOOK,
            },
        ),
        ("02_vanishing", {"smithdana_12345_999_02.ipynb": NOTEBOOK}),
    ):
        with zipfile.ZipFile(tmp / f"{assignment}.zip", "w") as bulk:
            for name, text in members.items():
                bulk.writestr(name, text)
        collect(root, tmp / f"{assignment}.zip", assignment)
    moodle = tmp / "moodle" / "Erin Jones_4242_assignsubmission_file_"
    moodle.mkdir(parents=True)
    (moodle / "01_bptt.ipynb").write_text(NOTEBOOK)
    (tmp / "plain").mkdir()
    (tmp / "plain" / "alice.ipynb").write_text(NOTEBOOK)
    for folder in (tmp / "moodle", tmp / "plain"):
        collect(root, folder, "01_bptt")
    scores = {
        ("01_bptt", "smithdana"): _grade(root, "01_bptt", "smithdana", 1.0),
        ("01_bptt", "leeeve"): _grade(root, "01_bptt", "leeeve", 0.5),
        ("02_vanishing", "smithdana"): _grade(root, "02_vanishing", "smithdana", 0.25),
        ("01_bptt", "erin_jones"): _grade(root, "01_bptt", "erin_jones", 0.75),
        ("01_bptt", "alice"): _grade(root, "01_bptt", "alice", 1.0),
    }
    return root, scores


def _export(root, *args):
    out = subprocess.run(
        [sys.executable, "-m", "instructor.cli", "--root", str(root), "export", *args],
        capture_output=True,
        text=True,
        env=os.environ,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_collect_records_the_lms_ids(course):
    root, _ = course
    assert lms.recorded(root, "01_bptt") == {
        "smithdana": lms.LmsId(lms.Lms.CANVAS, "12345", "smithdana"),
        "leeeve": lms.LmsId(lms.Lms.CANVAS, "222", "leeeve"),
        "erin_jones": lms.LmsId(lms.Lms.MOODLE, "4242", "Erin Jones"),
    }
    assert set(lms.recorded(root, "02_vanishing")) == {"smithdana"}


def test_canvas_gradebook_import_file(course):
    root, scores = course
    said = _export(
        root, "--format", "canvas", "-o", "canvas.csv", "--lms-assignment", "01_bptt=4567"
    )
    with open(root / "canvas.csv", newline="") as table:
        rows = list(csv.reader(table))
    assert rows[0] == [*CANVAS_HEADER, "01_bptt (4567)", "02_vanishing"]
    body = {row[1]: row for row in rows[1:]}
    assert set(body) == {"12345", "222"}
    assert body["12345"][0] == "smithdana" and body["12345"][2:5] == ["", "", ""]
    assert body["12345"][5:] == [
        f"{scores['01_bptt', 'smithdana']:g}",
        f"{scores['02_vanishing', 'smithdana']:g}",
    ]
    assert body["222"][5:] == [f"{scores['01_bptt', 'leeeve']:g}", ""]
    # Graded students without a Canvas id are listed, not dropped silently.
    assert "2 grade(s) not exported" in said
    assert "01_bptt/alice" in said and "01_bptt/erin_jones" in said


def test_moodle_grading_worksheet(course):
    root, scores = course
    said = _export(root, "--format", "moodle", "-o", "moodle.csv", "-a", "01_bptt")
    with open(root / "moodle-01_bptt.csv", newline="") as table:
        rows = list(csv.DictReader(table))
    assert set(MOODLE_REQUIRED) <= set(rows[0])
    assert [(r["Identifier"], r["Full name"]) for r in rows] == [("Participant 4242", "Erin Jones")]
    assert float(rows[0]["Grade"]) == pytest.approx(scores["01_bptt", "erin_jones"])
    datetime.strptime(rows[0]["Last modified (grade)"], "%A, %d %B %Y, %I:%M %p")
    for student in ("alice", "leeeve", "smithdana"):
        assert f"01_bptt/{student}" in said
    assert not (root / "moodle-02_vanishing.csv").exists()


def test_export_explains_a_bad_request(course):
    root, _ = course
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "instructor.cli",
            "--root",
            str(root),
            "export",
            "--format",
            "canvas",
            "--lms-assignment",
            "01_bptt",
        ],
        capture_output=True,
        text=True,
        env=os.environ,
        timeout=300,
    )
    assert out.returncode == 2 and "ID=LMS_ID" in out.stderr
