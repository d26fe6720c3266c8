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

Who a submission belongs to comes from the LMS's own id when its name carries one (Canvas's user
id, Moodle's participant id), never from the name: two students of one name stay two students
(the second name gets the id: `smithjohn_5002`), a student keeps the nbgrader id recorded for
their LMS id whatever their name becomes, and a name that reads as two ids, or a file named
without an id that would land on an LMS student's, is refused with a line naming both. The time
recorded is the LMS's (the date of the bulk download's entry) or, without one, the file's time on
the instructor's disk: never a date the student chose (the entries of a student's own zip).
Lateness (`instructor.scores.lateness`: Canvas's `_late_` marker, that time against the configured
due date) is reported for each student placed; the marker is recorded with the LMS id.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import stat
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from instructor.commands.selection import check_assignments
from instructor.infrastructure.course_folder import assignments, notebook_path
from instructor.output.inert_terminal import inert_line
from instructor.records import lms
from instructor.records.lms import AmbiguousName, LmsId
from instructor.records.submission import MAX_NOTEBOOK_BYTES
from instructor.scores.lateness import Lateness, deadlines

MAX_ARCHIVE_BYTES = 4 * MAX_NOTEBOOK_BYTES  # a student's zip inside a bulk download


@dataclass
class Found:
    """A notebook found for one student: the student id its name proposes, where it came from,
    its bytes, when it was submitted (the LMS's or the instructor's disk's time), and the LMS id
    its name carried."""

    student: str
    origin: str
    data: bytes
    modified: datetime
    lms: LmsId | None = None  # the student's id in the LMS whose download named the file

    @property
    def key(self) -> LmsId | str:
        """Who it belongs to: the LMS id when there is one, else the student id of its name."""
        return self.lms or self.student

    def order(self) -> tuple[datetime, int]:
        """Sorts a student's notebooks oldest first (Canvas's upload id breaks ties)."""
        upload = self.lms.upload if self.lms else ""
        return self.modified, int(upload) if upload.isdigit() else 0


@dataclass
class CollectReport:
    placed: list[tuple[str, str]] = field(default_factory=list)  # (student, origin)
    replaced: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # placed, but the instructor should know
    late: dict[str, Lateness] = field(default_factory=dict)  # placed students handed in late

    def lines(self) -> list[str]:
        """The summary, then each student placed (replaced, late), then notes and problems."""
        counts = [f"{len(self.replaced)} replaced an earlier one"] if self.replaced else []
        counts += [f"{len(self.late)} late"] if self.late else []
        out = [f"placed {len(self.placed)} submission(s)"]
        if counts:
            out[0] += f" ({'; '.join(counts)})"
        for student, origin in sorted(self.placed):
            what = "replaced" if student in self.replaced else "placed"
            late = f"; {self.late[student].describe()}" if student in self.late else ""
            out.append(f"  {what} {student} from {origin}{late}")
        out += [f"  note: {n}" for n in self.notes]
        out += [f"  not placed: {p}" for p in self.problems]
        return out


def normalise(name: str) -> str:
    """A student id nbgrader accepts: lower case letters, digits and underscores."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def lms_student(ident: LmsId) -> str:
    """The student id an LMS student's name proposes; `<lms>_<id>` for a name with no letter or
    digit nbgrader accepts (a name in another script)."""
    return normalise(ident.name) or f"{ident.lms.value}_{ident.id}"


def student_from_name(name: str, assignment: str, notebook: str, folder: bool = False) -> str:
    """The student a file or folder name refers to (LMS patterns first). Raises
    lms.AmbiguousName for a bulk-download name that could be two LMS students."""
    stem = Path(name).name
    if not folder:
        for suffix in (".ipynb", ".zip"):
            stem = stem.removesuffix(suffix)
    known = lms.identify(stem, folder)
    if known:
        return lms_student(known)
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
    modified: datetime,
    ident: LmsId | None = None,
) -> Found | None:
    """The notebook in a student's own zip; `modified` is the zip's own time (the LMS's or the
    instructor's disk's), never its entries' dates, which the student chose."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        report.problems.append(f"{origin}: not a readable zip file")
        return None
    with archive:
        return _notebook_in(archive, origin, student, notebook, report, modified, ident)


def _notebook_in(
    archive: zipfile.ZipFile,
    origin: str,
    student: str,
    notebook: str,
    report: CollectReport,
    modified: datetime,
    ident: LmsId | None,
) -> Found | None:
    """The notebook chosen among an open zip's members (see `_from_zip`)."""
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
    return Found(student, f"{origin}:{chosen}", data, modified, ident)


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


def _who(
    name: str, folder: bool, assignment: str, notebook: str, origin: str, report: CollectReport
) -> tuple[str, LmsId | None] | None:
    """The student id a file or folder name proposes and the LMS id it carries; None, with a
    line in the report, when the name could be two LMS students."""
    try:
        return student_from_name(name, assignment, notebook, folder), lms.identify(name, folder)
    except AmbiguousName as error:
        report.problems.append(f"{origin}: {error.reason}")
        return None


def _entries(source: Path, assignment: str, notebook: str, report: CollectReport) -> list[Found]:
    """Every (student, notebook) the folder or bulk zip holds."""
    if source.is_file() and source.suffix == ".zip":
        with zipfile.ZipFile(source) as archive:
            return _zip_entries(archive, source.name, assignment, notebook, report)
    if not source.is_dir():
        raise ValueError(f"{source} is neither a folder nor a .zip file")
    found: list[Found] = []
    for path in sorted(source.iterdir()):
        found += _folder_entry(source, path, assignment, notebook, report)
    return found


def _zip_groups(
    archive: zipfile.ZipFile, label: str, report: CollectReport
) -> tuple[str, dict[str, list[zipfile.ZipInfo]]]:
    """(the prefix of a bulk download wrapped in one folder, or "", and its members grouped by
    their first name below it: a student's file or a student's folder)."""
    members = _safe_members(archive, label, report)
    top_folders = {i.filename.split("/")[0] for i in members if "/" in i.filename}
    prefix = ""
    if len(top_folders) == 1 and all("/" in i.filename for i in members):
        prefix = top_folders.pop() + "/"
        members = [i for i in members if i.filename.startswith(prefix)]
    groups: dict[str, list[zipfile.ZipInfo]] = {}
    for info in members:
        rest = info.filename[len(prefix) :]
        head = rest.split("/")[0]
        groups.setdefault(head if "/" in rest else rest, []).append(info)
    return prefix, groups


def _zip_entries(
    archive: zipfile.ZipFile, label: str, assignment: str, notebook: str, report: CollectReport
) -> list[Found]:
    """Every (student, notebook) a bulk zip holds: a file per student, or a folder each."""
    found: list[Found] = []
    prefix, groups = _zip_groups(archive, label, report)
    for head, infos in groups.items():
        is_file = len(infos) == 1 and "/" not in infos[0].filename[len(prefix) :]
        who = _who(head, not is_file, assignment, notebook, f"{label}:{head}", report)
        if who is None:
            continue
        student, ident = who
        if is_file:
            info, limit, where = infos[0], MAX_ARCHIVE_BYTES, head
        else:  # a per-student folder inside the zip
            chosen, why = _pick_notebook([i.filename for i in infos], notebook)
            if chosen is None:
                report.problems.append(f"{label}:{head}/: {why}")
                continue
            info = next(i for i in infos if i.filename == chosen)
            limit, where = MAX_NOTEBOOK_BYTES, chosen
        try:
            data = _read_capped(archive, info, limit)
        except TooLarge:
            report.problems.append(f"{label}:{where}: larger than {limit} bytes")
            continue
        when = datetime(*info.date_time, tzinfo=UTC)
        if is_file:
            found += _one_file(
                head, data, len(data), when, student, assignment, notebook, report, ident
            )
        else:
            found.append(Found(student, f"{label}:{chosen}", data, when, ident))
    return found


def _folder_entry(
    source: Path, path: Path, assignment: str, notebook: str, report: CollectReport
) -> list[Found]:
    """What one entry of a downloads folder holds: a student's file or a student's folder."""
    if path.name.startswith("."):
        return []
    if path.is_symlink():
        report.problems.append(f"{path.name}: refused, it is a symbolic link")
        return []
    try:
        path.name.encode()
    except UnicodeEncodeError:
        report.problems.append(
            f"{path.name.encode(errors='replace').decode()}: refused, its name is not UTF-8"
        )
        return []
    who = _who(path.name, path.is_dir(), assignment, notebook, path.name, report)
    if who is None:
        return []
    student, ident = who
    modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    if not path.is_dir():
        size = path.stat().st_size
        data = path.read_bytes() if size <= MAX_ARCHIVE_BYTES else b""
        return _one_file(
            path.name, data, size, modified, student, assignment, notebook, report, ident
        )
    links = [p for p in path.rglob("*") if p.is_symlink()]
    for link in links:
        report.problems.append(f"{link.relative_to(source)}: refused, it is a symbolic link")
    names = [
        str(p.relative_to(path))
        for p in path.rglob("*")
        if p.is_file() and not p.is_symlink() and not any(p.is_relative_to(k) for k in links)
    ]
    chosen, why = _pick_notebook(names, notebook)
    if chosen is None:
        report.problems.append(f"{path.name}/: {why}")
        return []
    return [Found(student, f"{path.name}/{chosen}", (path / chosen).read_bytes(), modified, ident)]


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
        hit = _from_zip(data, name, student, notebook, report, modified, ident)
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


Key = LmsId | str  # who a submission belongs to: an LMS id, or a student id named by hand
PINNED, RECORDED, PROPOSED = 0, 1, 2  # how firmly a student id is held, most firmly first


@dataclass
class _Claim:
    """An LMS student of this collect and the student ids they may take, with how firmly each
    is held (PINNED: recorded for this assignment; RECORDED: for another; PROPOSED: named)."""

    ident: LmsId
    origin: str
    candidates: list[tuple[str, int]]
    at: int = 0

    @property
    def student(self) -> str:
        return self.candidates[self.at][0]

    @property
    def rank(self) -> int:
        return self.candidates[self.at][1]

    def movable(self) -> bool:
        return self.at + 1 < len(self.candidates)

    def who(self) -> str:
        return f"{self.ident.describe()} ({self.origin})"


def _candidates(
    ident: LmsId, here: dict[LmsId, str], other: dict[LmsId, str], names: dict[str, set[LmsId]]
) -> list[tuple[str, int]]:
    """The student ids an LMS student may take, in order, with how firmly each is held: the one
    recorded for this assignment, alone; else the one recorded for another (Canvas ids are the
    same in every assignment), the one their name proposes unless an earlier collect saw that
    name on someone else (`names`), and that name with their id."""
    if ident in here:
        return [(here[ident], PINNED)]
    base = lms_student(ident)
    found = [(other[ident], RECORDED)] if ident in other else []
    if not names.get(base, set()) - {ident}:
        found.append((base, PROPOSED))
    found.append((f"{base}_{ident.id}", PROPOSED))
    unique: dict[str, int] = {}
    for student, rank in found:
        unique.setdefault(student, rank)
    return list(unique.items())


def _canvas_elsewhere(root: Path, assignment: str) -> dict[LmsId, str]:
    """Canvas user -> student id, as recorded for the course's other assignments."""
    known: dict[LmsId, str] = {}
    for other, ids in sorted(lms.recorded_everywhere(root).items()):
        if other != assignment:
            known |= {i: s for s, i in ids.items() if i.lms is lms.Lms.CANVAS}
    return known


def _crowds(
    claims: dict[LmsId, _Claim], held: dict[str, set[LmsId]], plain: Iterable[str]
) -> dict[str, list[Key]]:
    """Student ids that more than one person would take, with everyone who would take them."""
    takers: dict[str, list[Key]] = {s: list(owners) for s, owners in held.items()}
    for name in plain:
        takers.setdefault(name, []).append(name)
    for key, claim in claims.items():
        takers.setdefault(claim.student, []).append(key)
    return {s: t for s, t in takers.items() if len(t) > 1 and any(k in claims for k in t)}


def _all(people: list) -> str:
    return "both" if len(people) == 2 else "all"


def _describe(key: Key, claims: dict[LmsId, _Claim], groups: dict[Key, list[Found]]) -> str:
    if key in claims:
        return claims[key].who()
    if isinstance(key, LmsId):
        return f"{key.describe()}, recorded by an earlier collect"
    return f"{groups[key][-1].origin} (named without an LMS id)"


def _movers(takers: list[Key], claims: dict[LmsId, _Claim]) -> list[_Claim]:
    """Who in a crowd moves on to their next student id: those holding it less firmly than the
    firmest taker (a record, or a name without an LMS id, holds it most firmly); when all hold
    it alike, all who can."""
    mine = [claims[k] for k in takers if k in claims]
    firmest = min([c.rank for c in mine] + [PINNED] * (len(takers) - len(mine)))
    return [c for c in mine if c.movable() and c.rank > firmest] or [c for c in mine if c.movable()]


def _settle(
    claims: dict[LmsId, _Claim],
    held: dict[str, set[LmsId]],
    groups: dict[Key, list[Found]],
    report: CollectReport,
) -> None:
    """Give each LMS student a student id nobody else takes (`_movers`); a crowd where nobody
    can move is refused, naming everyone in it."""
    while crowds := _crowds(claims, held, [k for k in groups if isinstance(k, str)]):
        movers = {id(c): c for t in crowds.values() for c in _movers(t, claims)}
        for claim in movers.values():
            claim.at += 1
        if movers:
            continue
        for student, takers in crowds.items():
            named = " and ".join(_describe(k, claims, groups) for k in takers)
            report.problems.append(
                f"refused, {named} would {_all(takers)} be student {student}: one student id is "
                "one person. Collect each on its own, or rename the file that has no LMS id"
            )
            for key in takers:
                if isinstance(key, str):
                    groups.pop(key, None)
                else:
                    claims.pop(key, None)


def _refuse_names_on_lms_students(
    claims: dict[LmsId, _Claim], groups: dict[Key, list[Found]], report: CollectReport
) -> None:
    """A file named without an LMS id whose student id an LMS student of the same collect takes
    could be that student or another: both are refused, each named."""
    for name in [k for k in groups if isinstance(k, str)]:
        rivals = [c for c in claims.values() if c.candidates[0][0] == name]
        if rivals:
            report.problems.append(
                f"refused, {groups[name][-1].origin} (named without an LMS id) and "
                + " and ".join(c.who() for c in rivals)
                + f" would {_all([name, *rivals])} be student {name}: collect the file without an "
                "LMS id on its own"
            )
            del groups[name]
            for claim in rivals:
                del claims[claim.ident]


def _note_moves(
    claims: dict[LmsId, _Claim], outside: dict[LmsId, str], report: CollectReport
) -> None:
    """A line for each LMS student placed under another id than their name's, naming the others
    of that name (`outside`: student ids recorded earlier for people not in this collect)."""
    for claim in sorted(claims.values(), key=lambda c: c.student):
        base = lms_student(claim.ident)
        if claim.student == base:
            continue
        rivals = [
            c.who() for c in claims.values() if c is not claim and lms_student(c.ident) == base
        ]
        rivals += [
            f"{i.describe()}, student {s}"
            for i, s in sorted(outside.items(), key=lambda kv: kv[1])
            if base in (s, lms_student(i))
        ]
        report.notes.append(
            f"{claim.who()} placed as {claim.student}: {base} is also the name of "
            + " and ".join(rivals)
        )


def _student_ids(
    root: Path, assignment: str, groups: dict[Key, list[Found]], report: CollectReport
) -> dict[Key, str]:
    """The student id of everyone found: a name without an LMS id is its own; an LMS student
    keeps the id recorded for them, else takes their name's when nobody else has it or had it,
    else their name with their LMS id. Anyone who cannot be told apart is refused, with a line."""
    here = {i: s for s, i in lms.recorded(root, assignment).items()}
    other = _canvas_elsewhere(root, assignment)
    names: dict[str, set[LmsId]] = {}
    for ident in [*here, *other]:
        names.setdefault(lms_student(ident), set()).add(ident)
    claims = {
        k: _Claim(k, items[-1].origin, _candidates(k, here, other, names))
        for k, items in groups.items()
        if isinstance(k, LmsId)
    }
    outside = {i: s for i, s in [*other.items(), *here.items()] if i not in claims}
    held: dict[str, set[LmsId]] = {}
    for ident, student in outside.items():
        held.setdefault(student, set()).add(ident)
    _refuse_names_on_lms_students(claims, groups, report)
    _settle(claims, held, groups, report)
    _note_moves(claims, outside, report)
    ids: dict[Key, str] = {k: k for k in groups if isinstance(k, str)}
    return ids | {k: c.student for k, c in claims.items()}


def _newest(student: str, items: list[Found], report: CollectReport) -> Found:
    """A student's latest notebook, with a line naming the others when there are several."""
    items.sort(key=Found.order)
    if len(items) > 1:
        report.problems.append(
            f"{student}: {len(items)} notebooks ({', '.join(i.origin for i in items)}); "
            f"kept the newest, {items[-1].origin}"
        )
    return items[-1]


def _place(
    root: Path, assignment: str, notebook: str, student: str, item: Found, report: CollectReport
) -> bool:
    """Write a student's notebook and its timestamp.txt; False when the student id is unusable."""
    folder = root / "submitted" / student / assignment
    if not folder.resolve().is_relative_to((root / "submitted").resolve()):
        report.problems.append(f"{student}: refused, not a usable student id")
        return False
    target = folder / f"{notebook}.ipynb"
    if target.exists():
        if target.read_bytes() == item.data:
            report.placed.append((student, item.origin))
            return True
        report.replaced.append(student)
    folder.mkdir(parents=True, exist_ok=True)
    target.write_bytes(item.data)
    (folder / "timestamp.txt").write_text(item.modified.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    report.placed.append((student, item.origin))
    return True


def collect(root: Path, source: Path, assignment: str) -> CollectReport:
    """Place every notebook found in `source` as submitted/<student>/<assignment>/<name>.ipynb
    with a timestamp.txt, one student per LMS id; record the LMS ids; report what could not be
    placed."""
    notebook = notebook_path(root / "solutions", assignment).stem
    due = deadlines(root, assignments(root)).due.get(assignment)
    report = CollectReport()
    groups: dict[Key, list[Found]] = {}
    for item in _entries(Path(source), assignment, notebook, report):
        if not item.student:
            report.problems.append(f"{item.origin}: no student name in it")
        elif _placeable(item, report):
            groups.setdefault(item.key, []).append(item)
    students = _student_ids(root, assignment, groups, report)
    ids: dict[str, LmsId] = {}  # for `rnn-course export --format canvas|moodle`
    for key, student in sorted(students.items(), key=lambda kv: kv[1]):
        item = _newest(student, groups[key], report)
        if not _place(root, assignment, notebook, student, item, report):
            continue
        lateness = Lateness(item.modified, due, bool(item.lms and item.lms.late))
        if lateness.late:
            report.late[student] = lateness
        if item.lms:
            ids[student] = item.lms
    if ids:
        lms.record(root, assignment, ids)
    return report


HELP = "lay out downloaded student files for grading"


def add_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("source", help="a folder of notebooks, zips or folders, or a bulk zip")
    sub.add_argument(
        "-a",
        "--assignment",
        required=True,
        help="the one assignment these files are for, e.g. 01_bptt (required)",
    )


def run(args: argparse.Namespace) -> int:
    check_assignments(args.root, [args.assignment])
    report = collect(args.root, Path(args.source), args.assignment)
    print("\n".join(inert_line(line) for line in report.lines()))  # students named the files
    return 0
