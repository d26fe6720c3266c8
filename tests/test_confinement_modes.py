"""Where student code cannot run at all, the grader says so once and grades nobody (rather than
giving every student zero for every exercise)."""

from __future__ import annotations

import pytest

import course_tools
from instructor import cli
from instructor.infrastructure import confine

REASON = "the 'nobody' user cannot read /root/.pyenv/versions/3.11.7/bin/python3.11"


@pytest.fixture()
def nobody_without_access(monkeypatch):
    monkeypatch.setattr(confine, "mode", lambda: confine.Mode.NOBODY)
    monkeypatch.setattr(confine, "nobody_cannot_run", lambda: REASON)


def test_private_and_unconfined_modes_need_nothing_of_nobody(monkeypatch):
    monkeypatch.setattr(confine, "nobody_cannot_run", lambda: REASON)
    for mode in (confine.Mode.ROOT_NAMESPACES, confine.Mode.USER_NAMESPACES, confine.Mode.NONE):
        monkeypatch.setattr(confine, "mode", lambda mode=mode: mode)
        assert confine.student_code_cannot_run() is None, mode


def test_autograde_refuses_before_grading_anyone(nobody_without_access, tmp_path, capsys):
    root = course_tools.copy_course(tmp_path / "course")
    assignment = course_tools.assignments(root)[0]
    folder = root / "submitted" / "student1" / assignment
    folder.mkdir(parents=True)
    (folder / f"{assignment}.ipynb").write_text("{}")

    assert cli.main(["--root", str(root), "autograde", "-q"]) == 2
    err = capsys.readouterr().err
    assert "cannot grade on this machine" in err and REASON in err, err
    assert not (root / "autograded").exists(), "a refused run graded someone"
