"""Lay out student files the way nbgrader wants them: submitted/<student>/<assignment>/.

Accepted, as instructors really receive them:
- a folder of notebooks named by student (`alice.ipynb`, `alice_01_bptt.ipynb`, ...);
- a folder of zips, one per student (`alice.zip`, holding the notebook anywhere inside);
- a folder of per-student folders (Moodle's layout: `Alice Smith_123_assignsubmission_file_/`);
- a zip of any of these: an LMS bulk download (Canvas names files
  `smithalice_12345_67890_01_bptt.ipynb`, with `_late_` after the name when late).
Zip members are read in memory (no extraction, so no path tricks), each read stops at a size cap
whatever the archive claims (a zip bomb inflates to nothing), and nothing is written anywhere but
submitted/<student>/<assignment>/. Refused, each with a line in the report: members whose names
are absolute or climb out with `..`, symbolic links (in a zip or on disk), names that are not
UTF-8, notebooks for another kernel language, and anything over the cap.
"""

from __future__ import annotations

import io
import json
import re
import stat
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from instructor import lms
from instructor.course_folder import notebook_path
from instructor.lms import LmsId

MAX_NOTEBOOK_BYTES = 50 * 2**20
MAX_ARCHIVE_BYTES = 4 * MAX_NOTEBOOK_BYTES  # a student's zip inside a bulk download


@dataclass
class Found:
    student: str
    origin: str
    data: bytes
    modified: datetime
    lms: LmsId | None = None  # the student's id in the LMS whose download named the file


@dataclass
class CollectReport:
    placed: list[tuple[str, str]] = field(default_factory=list)  # (student, origin)
    replaced: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"placed {len(self.placed)} submission(s)"
            + (f" ({len(self.replaced)} replaced an earlier one)" if self.replaced else "")
        ]
        out += [f"  not placed: {p}" for p in self.problems]
        return out


def normalise(name: str) -> str:
    """A student id nbgrader accepts: lower case letters, digits and underscores."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def student_from_name(name: str, assignment: str, notebook: str) -> str:
    """The student a file or folder name refers to (LMS patterns first)."""
    stem = Path(name).name
    for suffix in (".ipynb", ".zip"):
        stem = stem.removesuffix(suffix)
    known = lms.identify(stem)
    if known:
        return normalise(known.name)
    cleaned = normalise(stem)
    for token in sorted({normalise(assignment), normalise(notebook)}, key=len, reverse=True):
        cleaned = cleaned.replace(token, "_")
    return re.sub(r"_+", "_", cleaned).strip("_")


class TooLarge(Exception):
    """A member inflated past its cap."""


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """A member's bytes, reading at most cap + 1 of them whatever its header claims."""
    if info.file_size > cap:
        raise TooLarge()
    with archive.open(info) as member:
        data = member.read(cap + 1)
    if len(data) > cap:
        raise TooLarge()
    return data


def unsafe_member(info: zipfile.ZipInfo) -> str:
    """Why a zip member must not be used ("" when it may)."""
    name = info.filename
    if (
        name.startswith(("/", "\\"))
        or re.match(r"^[A-Za-z]:", name)
        or ".." in re.split(r"[/\\]", name)
    ):
        return "its path is absolute or climbs out with '..'"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "it is a symbolic link"
    if not info.flag_bits & 0x800 and not name.isascii():
        return "its name is not UTF-8"
    return ""


def foreign_language(data: bytes) -> str:
    """The kernel language of a notebook when it is not Python ("" otherwise, and for bytes
    that are not a notebook at all: grading reports those)."""
    try:
        meta = json.loads(data).get("metadata", {})
    except (ValueError, AttributeError, UnicodeDecodeError):
        return ""
    language = (
        meta.get("kernelspec", {}).get("language")
        or meta.get("language_info", {}).get("name")
        or "python"
    )
    return "" if str(language).lower() == "python" else str(language)


def _pick_notebook(names: list[str], notebook: str) -> tuple[str | None, str]:
    notebooks = [
        n
        for n in names
        if n.endswith(".ipynb")
        and "/." not in f"/{n}"
        and "__MACOSX" not in n
        and ".ipynb_checkpoints" not in n
    ]
    exact = [n for n in notebooks if Path(n).name == f"{notebook}.ipynb"]
    if len(exact) == 1:
        return exact[0], ""
    if len(notebooks) == 1:
        return notebooks[0], ""
    if not notebooks:
        return None, "holds no notebook"
    return None, f"holds {len(notebooks)} notebooks ({', '.join(sorted(notebooks)[:4])})"


def _from_zip(
    data: bytes,
    origin: str,
    student: str,
    notebook: str,
    report: CollectReport,
    ident: LmsId | None = None,
) -> Found | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        report.problems.append(f"{origin}: not a readable zip file")
        return None
    infos = {i.filename: i for i in _safe_members(archive, origin, report)}
    chosen, why = _pick_notebook(list(infos), notebook)
    if chosen is None:
        report.problems.append(f"{origin}: {why}")
        return None
    info = infos[chosen]
    try:
        data = _read_capped(archive, info, MAX_NOTEBOOK_BYTES)
    except TooLarge:
        report.problems.append(f"{origin}: {chosen} is larger than {MAX_NOTEBOOK_BYTES} bytes")
        return None
    return Found(student, f"{origin}:{chosen}", data, datetime(*info.date_time, tzinfo=UTC), ident)


def _safe_members(
    archive: zipfile.ZipFile, origin: str, report: CollectReport
) -> list[zipfile.ZipInfo]:
    """The archive's file members, each unsafe one reported and left out."""
    kept = []
    for info in archive.infolist():
        if info.is_dir() or "__MACOSX" in info.filename:
            continue
        why = unsafe_member(info)
        if why:
            report.problems.append(f"{origin}:{info.filename}: refused, {why}")
        else:
            kept.append(info)
    return kept


def _entries(source: Path, assignment: str, notebook: str, report: CollectReport) -> list[Found]:
    """Every (student, notebook) the folder or bulk zip holds."""
    found: list[Found] = []
    if source.is_file() and source.suffix == ".zip":
        archive = zipfile.ZipFile(source)
        members = _safe_members(archive, source.name, report)
        top_folders = {i.filename.split("/")[0] for i in members if "/" in i.filename}
        if len(top_folders) == 1 and all("/" in i.filename for i in members):
            prefix = top_folders.pop() + "/"  # a bulk download wrapped in one folder
            members = [i for i in members if i.filename.startswith(prefix)]
        else:
            prefix = ""
        groups: dict[str, list[zipfile.ZipInfo]] = {}
        for info in members:
            rest = info.filename[len(prefix) :]
            head = rest.split("/")[0]
            groups.setdefault(head if "/" in rest else rest, []).append(info)
        for head, infos in groups.items():
            student = student_from_name(head, assignment, notebook)
            ident = lms.identify(head)
            if len(infos) == 1 and "/" not in infos[0].filename[len(prefix) :]:
                info = infos[0]
                try:
                    data = _read_capped(archive, info, MAX_ARCHIVE_BYTES)
                except TooLarge:
                    report.problems.append(
                        f"{source.name}:{head}: larger than {MAX_ARCHIVE_BYTES} bytes"
                    )
                    continue
                found += _one_file(
                    head,
                    data,
                    len(data),
                    datetime(*info.date_time, tzinfo=UTC),
                    student,
                    assignment,
                    notebook,
                    report,
                    ident,
                )
            else:  # a per-student folder inside the zip
                names = [i.filename for i in infos]
                chosen, why = _pick_notebook(names, notebook)
                if chosen is None:
                    report.problems.append(f"{source.name}:{head}/: {why}")
                    continue
                info = next(i for i in infos if i.filename == chosen)
                try:
                    data = _read_capped(archive, info, MAX_NOTEBOOK_BYTES)
                except TooLarge:
                    report.problems.append(
                        f"{source.name}:{chosen}: larger than {MAX_NOTEBOOK_BYTES} bytes"
                    )
                    continue
                found.append(
                    Found(
                        student,
                        f"{source.name}:{chosen}",
                        data,
                        datetime(*info.date_time, tzinfo=UTC),
                        ident,
                    )
                )
        return found
    if not source.is_dir():
        raise ValueError(f"{source} is neither a folder nor a .zip file")
    for path in sorted(source.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_symlink():
            report.problems.append(f"{path.name}: refused, it is a symbolic link")
            continue
        try:
            path.name.encode()
        except UnicodeEncodeError:
            report.problems.append(
                f"{path.name.encode(errors='replace').decode()}: refused, its name is not UTF-8"
            )
            continue
        student = student_from_name(path.name, assignment, notebook)
        ident = lms.identify(path.name)
        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        if path.is_dir():
            links = [p for p in path.rglob("*") if p.is_symlink()]
            for link in links:
                report.problems.append(
                    f"{link.relative_to(source)}: refused, it is a symbolic link"
                )
            names = [
                str(p.relative_to(path))
                for p in path.rglob("*")
                if p.is_file()
                and not p.is_symlink()
                and not any(p.is_relative_to(link) for link in links)
            ]
            chosen, why = _pick_notebook(names, notebook)
            if chosen is None:
                report.problems.append(f"{path.name}/: {why}")
                continue
            found.append(
                Found(
                    student, f"{path.name}/{chosen}", (path / chosen).read_bytes(), modified, ident
                )
            )
        else:
            size = path.stat().st_size
            found += _one_file(
                path.name,
                path.read_bytes() if size <= MAX_ARCHIVE_BYTES else b"",
                size,
                modified,
                student,
                assignment,
                notebook,
                report,
                ident,
            )
    return found


def _one_file(
    name: str,
    data: bytes,
    size: int,
    modified: datetime,
    student: str,
    assignment: str,
    notebook: str,
    report: CollectReport,
    ident: LmsId | None = None,
) -> list[Found]:
    if name.endswith(".zip"):
        hit = _from_zip(data, name, student, notebook, report, ident)
        return [hit] if hit else []
    if not name.endswith(".ipynb"):
        report.problems.append(f"{name}: not a notebook or a zip")
        return []
    if size > MAX_NOTEBOOK_BYTES:
        report.problems.append(f"{name}: larger than {MAX_NOTEBOOK_BYTES} bytes")
        return []
    return [Found(student, name, data, modified, ident)]


def _placeable(item: Found, report: CollectReport) -> bool:
    language = foreign_language(item.data)
    if language:
        report.problems.append(f"{item.origin}: refused, a notebook for {language}, not Python")
    return not language


def collect(root: Path, source: Path, assignment: str) -> CollectReport:
    """Place every notebook found in `source` as submitted/<student>/<assignment>/<name>.ipynb
    with a timestamp.txt; report what could not be placed."""
    notebook = notebook_path(root / "solutions", assignment).stem
    report = CollectReport()
    found = _entries(Path(source), assignment, notebook, report)
    by_student: dict[str, list[Found]] = {}
    for item in found:
        if not item.student:
            report.problems.append(f"{item.origin}: no student name in it")
            continue
        if _placeable(item, report):
            by_student.setdefault(item.student, []).append(item)
    ids: dict[str, LmsId] = {}  # for `rnn-course export --format canvas|moodle`
    for student, items in sorted(by_student.items()):
        items.sort(key=lambda f: f.modified)
        if len(items) > 1:
            report.problems.append(
                f"{student}: {len(items)} notebooks ({', '.join(i.origin for i in items)}); "
                f"kept the newest, {items[-1].origin}"
            )
        item = items[-1]
        folder = root / "submitted" / student / assignment
        if not folder.resolve().is_relative_to((root / "submitted").resolve()):
            report.problems.append(f"{student}: refused, not a usable student id")
            continue
        if item.lms:
            ids[student] = item.lms
        target = folder / f"{notebook}.ipynb"
        if target.exists():
            if target.read_bytes() == item.data:
                report.placed.append((student, item.origin))
                continue
            report.replaced.append(student)
        folder.mkdir(parents=True, exist_ok=True)
        target.write_bytes(item.data)
        (folder / "timestamp.txt").write_text(item.modified.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
        report.placed.append((student, item.origin))
    if ids:
        lms.record(root, assignment, ids)
    return report
