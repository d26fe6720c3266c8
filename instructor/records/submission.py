"""Where one student's submission of one assignment lives, and what grading writes about it:
every path of a submission is spelled here, once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

WORK = ".grading"  # the coordinator's own files: logs, done-markers, the run lock
# A submitted notebook larger than this is neither collected nor graded: reading and checking it
# (JSON, schema) happens in the grader's own process, before any of the student's limits apply.
MAX_NOTEBOOK_BYTES = 32 * 2**20


@dataclass(frozen=True)
class Submission:
    """submitted/<student>/<assignment>/ in the course at `root`, and its grading records."""

    root: Path
    assignment: str
    student: str

    @property
    def folder(self) -> Path:
        """What the student handed in (nbgrader's layout)."""
        return self.root / "submitted" / self.student / self.assignment

    @property
    def autograded(self) -> Path:
        """The graded copy nbgrader's feedback step reads."""
        return self.root / "autograded" / self.student / self.assignment

    @property
    def marker(self) -> Path:
        """Written once the grade is in the gradebook: the digest of what was graded."""
        return self.root / WORK / "done" / self.assignment / f"{self.student}.json"

    @property
    def log(self) -> Path:
        """Everything grading said about this submission."""
        return self.root / WORK / "logs" / self.assignment / f"{self.student}.log"

    def files(self) -> dict[str, bytes]:
        """Every file of the submission, by its path relative to the folder."""
        if not self.folder.is_dir():
            return {}
        return {
            str(p.relative_to(self.folder)): p.read_bytes()
            for p in sorted(self.folder.rglob("*"))
            if p.is_file() and not p.is_symlink()
        }

    def digest(self) -> str:
        """sha256 over the names and bytes of every file of the submission."""
        return self.digest_of(self.files())

    @staticmethod
    def digest_of(files: dict[str, bytes]) -> str:
        """sha256 over the names and bytes of `files` (as `files()` returns them)."""
        digest = hashlib.sha256()
        for name, data in sorted(files.items()):
            digest.update(name.encode() + b"\0" + data + b"\0")
        return digest.hexdigest()

    def __str__(self) -> str:
        return f"{self.assignment}/{self.student}"
