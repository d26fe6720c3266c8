"""What diagnosis concluded about a failing exercise, as typed records.

When a test of an exercise fails, the grader compares the student's function with the mistake
catalogue (`instructor.diagnosis.replay`) and writes one `Diagnosis` per failing exercise. Like
problems (`instructor.records.problems`), diagnoses travel in the autograded notebook's metadata
(`instructor.records.notebook_record`), so the coordinator reads them from any machine and writes
them into the submission's done-marker, where the class report reads them. A diagnosis never changes
a score.
"""

from __future__ import annotations

import enum
import html
from dataclasses import dataclass

import nbformat
from nbformat.notebooknode import NotebookNode

from instructor.records import notebook_record


class Verdict(enum.Enum):
    """What diagnosis concluded, with the sentence the report shows ({detail} filled)."""

    KNOWN = "behaves like a known mistake"
    UNKNOWN = "not a known mistake"
    UPSTREAM = "not diagnosed: it calls {detail}, which failed its own tests"
    NOT_DIAGNOSABLE = "not diagnosable: {detail}"


@dataclass(frozen=True)
class Diagnosis:
    """The verdict on one failing exercise; for a known mistake, the catalogue entry's id,
    description and hint (copied, so that reading a diagnosis needs no catalogue)."""

    exercise: str
    verdict: Verdict
    mistake: str = ""
    description: str = ""
    hint: str = ""
    detail: str = ""

    def sentence(self) -> str:
        """One line for the report and the log."""
        if self.verdict is Verdict.KNOWN:
            return f"{self.exercise} {self.verdict.value}: {self.description} ({self.mistake})"
        return f"{self.exercise}: {self.verdict.value.format(detail=self.detail)}"

    def feedback(self) -> str:
        """What the student reads next to the failed test (known mistakes only)."""
        text = f"Your `{self.exercise}` {self.verdict.value}: {self.description}"
        return f"{text}\nHint: {self.hint}" if self.hint else text

    def to_json(self) -> dict[str, str]:
        return {
            "exercise": self.exercise,
            "verdict": self.verdict.name,
            "mistake": self.mistake,
            "description": self.description,
            "hint": self.hint,
            "detail": self.detail,
        }

    @classmethod
    def from_json(cls, data: dict) -> Diagnosis:
        """The inverse of to_json; an unknown verdict is a ValueError."""
        try:
            verdict = Verdict[str(data["verdict"])]
        except KeyError:
            raise ValueError(f"not a diagnosis record: {data!r}") from None
        return cls(
            str(data.get("exercise", "")),
            verdict,
            *(str(data.get(k, "")) for k in ("mistake", "description", "hint", "detail")),
        )


def record(nb: NotebookNode, diagnosis: Diagnosis) -> None:
    """Add `diagnosis` to the notebook's record (once)."""
    store = notebook_record.section(nb, "diagnoses", [])
    entry = diagnosis.to_json()
    if entry not in store:
        store.append(entry)


def recorded(nb: NotebookNode) -> list[Diagnosis]:
    """The diagnoses recorded in a notebook (an autograded one, say)."""
    entries = notebook_record.read_section(nb, "diagnoses", [])
    return [Diagnosis.from_json(e) for e in entries if isinstance(e, dict)]


def output(diagnosis: Diagnosis) -> NotebookNode:
    """The output cell content that shows a known mistake next to the failed test."""
    text = diagnosis.feedback()
    name, _, rest = text.partition("\n")
    box = (
        '<div style="border-left: 4px solid #d9822b; background: #fff6ec; padding: 6px 10px; '
        'margin: 4px 0"><b>'
        + html.escape(name).replace(
            f"`{html.escape(diagnosis.exercise)}`",
            f"<code>{html.escape(diagnosis.exercise)}</code>",
        )
        + "</b>"
        + (f"<br>{html.escape(rest)}" if rest else "")
        + "</div>"
    )
    return nbformat.v4.new_output("display_data", data={"text/plain": text, "text/html": box})
