"""`rnn-course collect` and `rnn-course publish`: student files in every shape an instructor
receives them, and a student-only copy of the course."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile

import pytest

import course_tools
from instructor.commands.collect import collect, student_from_name
from instructor.commands.publish import MANIFEST, address, build, to_branch
from instructor.infrastructure import stamp

NOTEBOOK = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _zip(path, members: dict[str, str]):
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


@pytest.fixture()
def course(tmp_path):
    return course_tools.copy_course(tmp_path / "course")


@pytest.mark.parametrize(
    "name, student",
    [
        ("alice.ipynb", "alice"),
        ("Bob_01_bptt.ipynb", "bob"),
        ("01_bptt-carol-2.ipynb", "carol_2"),
        ("smithdana_12345_67890_01_bptt.ipynb", "smithdana"),
        ("smithdana_late_12345_67890_01_bptt-1.ipynb", "smithdana"),
        ("Erin Jones_4242_assignsubmission_file_", "erin_jones"),
        ("frank.zip", "frank"),
    ],
)
def test_student_names_are_read_from_file_names(name, student):
    assert student_from_name(name, "01_bptt", "01_bptt") == student


def test_a_folder_of_notebooks_zips_and_folders(course, tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    (downloads / "alice.ipynb").write_text(NOTEBOOK)
    (downloads / "bob_01_bptt.ipynb").write_text(NOTEBOOK)
    _zip(downloads / "carol.zip", {"carol/work/01_bptt.ipynb": NOTEBOOK, "notes.txt": "hi"})
    _zip(downloads / "dan.zip", {"readme.md": "no notebook"})
    (downloads / "Erin Jones_4242_assignsubmission_file_").mkdir()
    (downloads / "Erin Jones_4242_assignsubmission_file_" / "01_bptt (2).ipynb").write_text(
        NOTEBOOK
    )
    (downloads / "report.pdf").write_bytes(b"%PDF")
    (downloads / "broken.zip").write_bytes(b"not a zip")
    report = collect(course, downloads, "01_bptt")
    placed = {student for student, _ in report.placed}
    assert placed == {"alice", "bob", "carol", "erin_jones"}
    for student in placed:
        folder = course / "submitted" / student / "01_bptt"
        assert (folder / "01_bptt.ipynb").read_text() == NOTEBOOK
        assert (folder / "timestamp.txt").read_text().endswith("UTC")
    problems = "\n".join(report.problems)
    for expected in (
        "dan.zip: holds no notebook",
        "report.pdf: not a notebook or a zip",
        "broken.zip: not a readable zip file",
    ):
        assert expected in problems


def test_a_canvas_bulk_download_and_a_resubmission(course, tmp_path):
    bulk = _zip(
        tmp_path / "submissions.zip",
        {
            "smithdana_12345_67890_01_bptt.ipynb": NOTEBOOK,
            "leeeve_late_222_333_01_bptt-1.ipynb": NOTEBOOK,
            "leeeve_222_334_01_bptt.ipynb": NOTEBOOK.replace("[]", "[ ]", 1),
        },
    )
    report = collect(course, bulk, "01_bptt")
    assert {s for s, _ in report.placed} == {"smithdana", "leeeve"}
    assert any("leeeve: 2 notebooks" in p for p in report.problems)
    (tmp_path / "again").mkdir()
    (tmp_path / "again" / "smithdana.ipynb").write_text(NOTEBOOK.replace("{}", '{"v": 2}'))
    again = collect(course, tmp_path / "again", "01_bptt")
    assert again.replaced == ["smithdana"]
    assert '"v": 2' in (course / "submitted/smithdana/01_bptt/01_bptt.ipynb").read_text()


def _course_repo(tmp_path):
    """A git repository holding a copy of the course, on branch main."""
    root = tmp_path / "repo"
    root.mkdir()
    for item in ("notebooks", "helpers", "pyproject.toml", "solutions", "nbgrader_config.py"):
        subprocess.run(["cp", "-r", str(course_tools.ROOT / item), str(root)], check=True)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "course")
    return root


def _git(root, *args):
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_publish_writes_a_student_copy_without_answers(tmp_path):
    dest = tmp_path / "student"
    files = build(course_tools.ROOT, dest, address(course_tools.ROOT, "someone/course@spring"))
    names = {str(p.relative_to(dest)) for p in files}
    assert "README.md" in names and "pyproject.toml" in names
    assert any(n.startswith("notebooks/01_bptt/") for n in names)
    assert not any(n.startswith(("solutions", "instructor", "tests")) for n in names)
    text = "\n".join(p.read_text(errors="ignore") for p in files)
    for secret in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "nbgrader_config"):
        assert secret not in text
    notebook = (dest / "notebooks/01_bptt/01_bptt.ipynb").read_text()
    assert (
        "colab.research.google.com/github/someone/course/blob/spring/notebooks/01_bptt/"
        "01_bptt.ipynb"
    ) in notebook
    assert "git+https://github.com/someone/course@spring" in notebook
    assert stamp.configured(course_tools.ROOT).repository not in notebook
    project = tomllib.loads((dest / "pyproject.toml").read_text())
    assert project["tool"]["setuptools"]["packages"] == ["helpers"]
    assert project["project"]["urls"]["Repository"] == "https://github.com/someone/course"
    # A local version label from helpers/: Colab's pip reinstalls a copy whose helpers changed.
    version = project["project"]["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+\+[0-9a-f]{10}", version), version
    assert "nbgrader" not in str(project["project"]["optional-dependencies"]["lab"])


def test_publish_to_a_branch_points_the_badges_at_that_branch(tmp_path):
    root = _course_repo(tmp_path)
    who = {
        f"GIT_{role}_{key}": value
        for role in ("AUTHOR", "COMMITTER")
        for key, value in (("NAME", "t"), ("EMAIL", "t@example.org"))
    }
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "instructor.cli",
            "--root",
            str(root),
            "publish",
            "--branch",
            "student",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **who},
    )
    assert out.returncode == 0, out.stderr
    notebook = _git(root, "show", "student:notebooks/04_eigenvalues/04_eigenvalues.ipynb")
    repository = stamp.configured(root).repository
    assert (
        f"colab.research.google.com/github/{repository}/blob/student/notebooks/04_eigenvalues/"
        "04_eigenvalues.ipynb"
    ) in notebook
    assert f"git+https://github.com/{repository}@student" in notebook
    assert "/blob/main/" not in notebook and "@main" not in notebook


def test_publish_refuses_a_leaking_release(tmp_path):
    root = course_tools.copy_course(tmp_path / "course")
    for folder in ("notebooks", "helpers"):
        subprocess.run(["cp", "-r", str(course_tools.ROOT / folder), str(root)], check=True)
    subprocess.run(["cp", str(course_tools.ROOT / "pyproject.toml"), str(root)], check=True)
    leaked = root / "notebooks/01_bptt/01_bptt.ipynb"
    leaked.write_text(leaked.read_text().replace("# YOUR CODE HERE", "### BEGIN SOLUTION", 1))
    with pytest.raises(RuntimeError, match="refusing to publish"):
        build(root, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_publish_into_a_clone_of_the_student_repository_keeps_what_it_did_not_write(tmp_path):
    """Issue 26: publish deleted DEST, a clone's .git with it. Now it writes its files, records
    them, and on the next publish replaces exactly those."""
    clone = tmp_path / "student"
    subprocess.run(["git", "init", "-q", str(clone)], check=True)
    (clone / ".github").mkdir()
    (clone / ".github" / "ci.yml").write_text("on: push\n")
    head = (clone / ".git" / "HEAD").read_text()
    first = build(course_tools.ROOT, clone)
    assert (clone / ".git" / "HEAD").read_text() == head
    assert (clone / ".github" / "ci.yml").read_text() == "on: push\n"
    assert (clone / "notebooks/01_bptt/01_bptt.ipynb") in first
    listed = (clone / MANIFEST).read_text().split()
    assert sorted(listed) == sorted(p.relative_to(clone).as_posix() for p in first)
    # A file an earlier publish wrote and the new copy lacks goes; the instructor's own stays.
    stale = clone / "notebooks/00_retired/00_retired.ipynb"
    stale.parent.mkdir()
    stale.write_text("{}")
    (clone / MANIFEST).write_text(
        (clone / MANIFEST).read_text() + "notebooks/00_retired/00_retired.ipynb\n../outside.txt\n"
    )
    (tmp_path / "outside.txt").write_text("not the course's")
    (clone / "notebooks" / "extra.md").write_text("the instructor's own")
    second = build(course_tools.ROOT, clone)
    assert not stale.exists() and not stale.parent.exists()
    assert (tmp_path / "outside.txt").exists(), "a manifest line outside the folder was followed"
    assert (clone / "notebooks" / "extra.md").read_text() == "the instructor's own"
    assert (clone / ".git" / "HEAD").read_text() == head
    assert [p.relative_to(clone) for p in second] == [p.relative_to(clone) for p in first]


def test_publish_refuses_to_overwrite_what_it_did_not_write(tmp_path):
    dest = tmp_path / "student"
    dest.mkdir()
    (dest / "README.md").write_text("the student repository's own README")
    with pytest.raises(ValueError, match="did not write") as refused:
        build(course_tools.ROOT, dest)
    assert "README.md" in str(refused.value)
    assert sorted(p.name for p in dest.iterdir()) == ["README.md"], "something was written"
    assert (dest / "README.md").read_text() == "the student repository's own README"


@pytest.mark.parametrize(
    "trap", ["manifest_line_through_a_link", "manifest_is_a_link", "helpers_is_a_link"]
)
def test_publish_follows_no_symbolic_link_in_dest(tmp_path, trap):
    """Attack on publish (issue 26 review): a link inside DEST (a clone anyone can push to) made
    publish delete, overwrite or write files outside it."""
    outside, dest = tmp_path / "outside", tmp_path / "dest"
    (outside / "hdir").mkdir(parents=True)
    dest.mkdir()
    (outside / "victim.txt").write_text("precious")
    if trap == "manifest_line_through_a_link":
        (dest / "link").symlink_to(outside)
        (dest / MANIFEST).write_text("link/victim.txt\n")
    elif trap == "manifest_is_a_link":
        (dest / MANIFEST).symlink_to(outside / "victim.txt")
    else:
        (dest / "helpers").symlink_to(outside / "hdir")
    before = {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()}
    with pytest.raises(ValueError, match="symbolic link"):
        build(course_tools.ROOT, dest)
    after = {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()}
    assert after == before, "publish changed files outside DEST"


@pytest.mark.parametrize("where", ["root", "parent", "notebooks"])
def test_publish_refuses_the_course_and_what_holds_it(tmp_path, where):
    root = course_tools.copy_course(tmp_path / "course")
    dest = {"root": root, "parent": tmp_path, "notebooks": root / "notebooks" / "copy"}[where]
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(ValueError, match="refusing to publish into"):
        build(root, dest)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_publish_to_a_branch_leaves_the_working_tree_alone(tmp_path):
    root = _course_repo(tmp_path)

    def git(*args):
        return _git(root, *args)

    first = to_branch(root, "student")
    second = to_branch(root, "student")
    assert git("rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert git("status", "--porcelain") == ""
    tree = git("ls-tree", "-r", "--name-only", "student").split()
    assert "notebooks/01_bptt/01_bptt.ipynb" in tree and not any("solutions" in t for t in tree)
    assert git("rev-parse", "student~1").strip() == first != second


def test_the_console_script_explains_itself_and_fails_clearly(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "instructor.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for step in ("release", "collect", "autograde", "feedback", "export", "publish"):
        assert step in out
    bad = subprocess.run(
        [sys.executable, "-m", "instructor.cli", "--root", str(tmp_path), "export"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "no course found" in bad.stderr


def _zip_with(path, entries):
    """entries: (ZipInfo or name, bytes) pairs, written as given."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return path


def _link(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o120777 << 16
    return info


def test_hostile_archives_are_reported_and_nothing_is_written_outside_the_course(course, tmp_path):
    """A zip bomb, path tricks, links, non-UTF-8 names and a notebook of another language: each
    is refused with a reason; the honest submission beside them is placed."""
    from instructor.commands import collect as collect_module

    outside = tmp_path / "outside"
    outside.mkdir()
    bomb_size = collect_module.MAX_NOTEBOOK_BYTES + 1024
    r_notebook = json.dumps(
        {
            "cells": [],
            "metadata": {"kernelspec": {"language": "R", "name": "ir"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )
    bulk = _zip_with(
        tmp_path / "bulk.zip",
        [
            ("alice_1_2_01_bptt.ipynb", NOTEBOOK.encode()),
            ("bomb_1_2_01_bptt.ipynb", b"{" + b" " * bomb_size + b"}"),
            ("../../outside/climb_1_2_01_bptt.ipynb", NOTEBOOK.encode()),
            ("/abs/evil_1_2_01_bptt.ipynb", NOTEBOOK.encode()),
            (_link("linky_1_2_01_bptt.ipynb"), b"/etc/passwd"),
            ("cafX_1_2_01_bptt.ipynb", NOTEBOOK.encode()),
            ("rstudent_1_2_01_bptt.ipynb", r_notebook.encode()),
        ],
    )
    # a member name in Latin-1, without the UTF-8 flag (as old Windows tools write them)
    bulk.write_bytes(bulk.read_bytes().replace(b"cafX_1_2", b"caf\xe9_1_2"))
    assert bulk.stat().st_size < 2**20, "the bomb should be small on disk"
    report = collect(course, bulk, "01_bptt")
    assert {s for s, _ in report.placed} == {"alice"}
    text = "\n".join(report.problems)
    for expected in (
        "bomb_1_2_01_bptt.ipynb: larger than",
        "climb_1_2_01_bptt.ipynb: refused, its path is absolute or climbs out",
        "evil_1_2_01_bptt.ipynb: refused, its path is absolute or climbs out",
        "linky_1_2_01_bptt.ipynb: refused, it is a symbolic link",
        "refused, its name is not UTF-8",
        "rstudent_1_2_01_bptt.ipynb: refused, a notebook for R",
    ):
        assert expected in text, text
    assert not list(outside.iterdir())
    placed = sorted(p.relative_to(course) for p in (course / "submitted").rglob("*") if p.is_file())
    assert [str(p) for p in placed] == [
        "submitted/alice/01_bptt/01_bptt.ipynb",
        "submitted/alice/01_bptt/timestamp.txt",
    ]


def test_links_in_a_downloads_folder_are_refused(course, tmp_path):
    downloads = tmp_path / "downloads"
    (downloads / "bob_folder").mkdir(parents=True)
    (downloads / "alice.ipynb").write_text(NOTEBOOK)
    (downloads / "mallory.ipynb").symlink_to(course / "nbgrader_config.py")
    (downloads / "bob_folder" / "01_bptt.ipynb").symlink_to(
        next((course / "solutions" / "01_bptt").glob("*.ipynb"))
    )
    report = collect(course, downloads, "01_bptt")
    assert {s for s, _ in report.placed} == {"alice"}
    text = "\n".join(report.problems)
    assert "mallory.ipynb: refused, it is a symbolic link" in text
    assert "bob_folder/01_bptt.ipynb: refused, it is a symbolic link" in text


def test_the_instructor_tools_say_what_a_student_install_lacks(tmp_path):
    """A student's install ([lab]) ships `rnn-course` without nbgrader: say how to get it."""
    script = tmp_path / "without_nbgrader.py"
    script.write_text(
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'nbgrader':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from instructor import cli\n"
        "sys.exit(cli.main(sys.argv[1:]))\n"
    )
    out = subprocess.run(
        [sys.executable, str(script), "--root", str(course_tools.ROOT), "release"],
        capture_output=True,
        text=True,
        cwd=course_tools.ROOT,
    )
    assert out.returncode == 2, out.stderr
    assert "[dev] extra (nbgrader is missing)" in out.stderr
    assert 'pip install -e ".[dev]"' in out.stderr and "Traceback" not in out.stderr
