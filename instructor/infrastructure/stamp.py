"""The course's address in its notebooks: the Open-in-Colab badge and the Colab install.

The address is configured once, in pyproject.toml: `[project.urls] "Student edition"` (the
GitHub repository students clone and Colab opens, which `rnn-course publish` fills; the
course's own `Repository`, with solutions and hidden tests, stays private) and the git ref
learners get (`[tool.rnn-course] ref`, by default "v" + the version). The notebooks in
solutions/ hold two marker lines instead of an address:

    <!-- colab-badge -->     a line of the title cell (markdown)
    # colab-install          a line of the set-up cell (the first code cell)

`rnn-course release` replaces them in notebooks/ with the badge and the install block for the
configured address (`stamp_release`); `rnn-course publish` stamps the published copy's own
address over them (`stamp`). The install block installs the course at a fixed ref and, when
pip fails, stops with a sentence that says what failed and what to do.

A released notebook is never paired by jupytext (a text twin written beside it by a student's
editor would hold their answers outside the notebook), and its checking-tools cells are
collapsed (`student_metadata`).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

BADGE_MARKER = "<!-- colab-badge"
INSTALL_MARKER = "# colab-install"

BADGE = (
    "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
    "(https://colab.research.google.com/github/$repository/blob/$ref/$path)"
)

# The set-up cell's first lines in a released notebook. Plain Python (no %pip magic): pip's exit
# status is checked, and a failure stops the notebook here with the cause. pip's default upgrade
# strategy leaves every package that already satisfies the course's lower bounds alone, so
# nothing Colab has imported (numpy, IPython, ipykernel, tornado, pyzmq) is upgraded.
INSTALL = """import sys

if "google.colab" in sys.modules:  # on Colab: install the course's `helpers` (once a session)
    import subprocess

    COURSE = "git+https://github.com/$repository@$ref"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                          f"$package @ {COURSE}"], capture_output=True, text=True)
    if pip.returncode != 0:
        raise RuntimeError(
            f"Could not install the course's helpers from {COURSE}, so the cells below cannot "
            "run. Run this cell again; if it fails again, open this notebook anew from the "
            "course's page (its Open in Colab badge): this copy may point at an old address. "
            "pip said:\\n" + pip.stderr[-2000:])
"""

_FIELD = {
    "repository": r"(?P<repository>[\w.-]+/[\w.-]+)",
    "ref": r"(?P<ref>[^\s/@\"]+)",
    "path": r"(?P<path>[^)\s]+)",
    "package": r"(?P<package>[\w.-]+)",
}


def _pattern(template: str) -> re.Pattern:
    """A regex matching `template` filled in with any address (to re-stamp a stamped copy)."""
    parts = re.split(r"\$(\w+)", template)
    seen: set[str] = set()
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(re.escape(part))
        else:
            out.append(f"(?P={part})" if part in seen else _FIELD[part])
            seen.add(part)
    return re.compile("".join(out))


BADGE_RE = _pattern(BADGE)
INSTALL_RE = _pattern(INSTALL)


@dataclass(frozen=True)
class Address:
    """Where learners get the course: `repository` ("owner/name" on GitHub) at git `ref` (a tag
    or a branch); `package` is the distribution name pip installs."""

    repository: str
    ref: str
    package: str = "rnn-gradients-course"

    def __post_init__(self) -> None:
        if not re.fullmatch(_FIELD["repository"], self.repository):
            raise ValueError(
                f"the repository must look like owner/name (a GitHub repository), "
                f"got {self.repository!r}"
            )
        if not re.fullmatch(_FIELD["ref"], self.ref):
            raise ValueError(
                f"the git ref must be a tag or branch name without spaces, '/' or "
                f"'@', got {self.ref!r}"
            )

    def badge(self, path: str) -> str:
        """The Open-in-Colab badge (markdown) of the notebook at `path` in the repository."""
        return string.Template(BADGE).substitute(
            repository=self.repository, ref=self.ref, path=path
        )

    def install(self) -> str:
        """The set-up cell's install block (Python source, ending with a newline)."""
        return string.Template(INSTALL).substitute(
            repository=self.repository, ref=self.ref, package=self.package
        )

    def url(self) -> str:
        """The git URL pip installs from (without the ref)."""
        return f"https://github.com/{self.repository}"


def pyproject(root: Path) -> dict:
    """The course's pyproject.toml: the one at `root`, or, for a course folder without one (a
    scratch copy, a grading folder), the one of the course these tools belong to."""
    import tomllib

    path = root / "pyproject.toml"
    if not path.is_file():
        path = Path(__file__).resolve().parents[2] / "pyproject.toml"
    return tomllib.loads(path.read_text())


# [project.urls] keys: the course's own repository (instructors: solutions, hidden tests, the
# mistake catalogue; private), and the student edition `rnn-course publish` writes (public: what
# students clone, what Colab opens and installs from).
COURSE_URL_KEY = "Repository"
STUDENT_URL_KEY = "Student edition"


def configured(root: Path) -> Address:
    """Where learners get the course, as pyproject.toml configures it (see `pyproject`): the
    student edition's GitHub address ([project.urls] "Student edition"; a course without one
    uses its Repository) at [tool.rnn-course] ref (default "v" + [project] version)."""
    data = pyproject(root)
    project = data["project"]
    urls = project.get("urls", {})
    key = STUDENT_URL_KEY if STUDENT_URL_KEY in urls else COURSE_URL_KEY
    url = urls.get(key, "")
    found = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?/?", url)
    if not found:
        raise ValueError(
            f'pyproject.toml: [project.urls] "{key}" must be a GitHub address, '
            f"https://github.com/owner/name; got {url!r}"
        )
    ref = data.get("tool", {}).get("rnn-course", {}).get("ref") or f"v{project['version']}"
    return Address(found.group(1), ref, project["name"])


def stamp(nb, address: Address, path: str) -> None:
    """Write `address` into notebook `nb` (in place): its badge marker or badge, and its
    set-up cell's install marker or install block. path: the notebook's path in the
    repository (notebooks/<id>/<name>.ipynb), which the badge opens.

    Raises ValueError when the notebook has no badge or no install to stamp."""
    badges = installs = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            lines = cell.source.split("\n")
            for i, line in enumerate(lines):
                if line.strip().startswith(BADGE_MARKER) or BADGE_RE.fullmatch(line.strip()):
                    lines[i], badges = address.badge(path), badges + 1
            cell.source = "\n".join(lines)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if code:
        setup = code[0]
        lines = setup.source.split("\n")
        marked = [i for i, line in enumerate(lines) if line.strip().startswith(INSTALL_MARKER)]
        if marked:  # a source notebook: the block (and a blank line) replaces the marker
            for i in reversed(marked):
                lines[i : i + 1] = [*address.install().split("\n")]
            setup.source, installs = "\n".join(lines), len(marked)
        else:  # a stamped notebook: the block for another address is replaced
            setup.source, installs = INSTALL_RE.subn(lambda _: address.install(), setup.source)
    if badges != 1 or installs != 1:
        raise ValueError(
            f"{path}: found {badges} Colab badge(s) and {installs} Colab install(s), expected "
            f"one each: put a line starting with `{BADGE_MARKER} -->` in the title cell and a "
            f"line `{INSTALL_MARKER}` in the set-up cell (the first code cell) of the source "
            f"notebook; `rnn-course release` replaces them (see CONTRIBUTING.md)"
        )


def student_metadata(nb) -> None:
    """A released notebook's metadata (in place): without jupytext's pairing, and with each
    checking-tools cell's code collapsed (JupyterLab's and Notebook 7's `jupyter.source_hidden`;
    Colab's `cellView: form`), so that a student sees an
    exercise, then its check, with the read-only checking code one click away."""
    from instructor.records import cells

    nb.metadata.pop("jupytext", None)
    for cell in nb.cells:
        if cells.is_checking_tools_cell(cell):
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
            cell.metadata["cellView"] = "form"


def stamp_file(notebook: Path, address: Address, path: str) -> None:
    """Stamp the notebook file at `notebook` in place (see `stamp`, `student_metadata`)."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    stamp(nb, address, path)
    student_metadata(nb)
    nbformat.write(nb, notebook)


def stamp_release(root: Path, assignments: list[str], address: Address | None = None) -> None:
    """Stamp notebooks/<id>/*.ipynb of each assignment with `address` (default: configured)."""
    address = address or configured(root)
    for assignment in assignments:
        for notebook in sorted((root / "notebooks" / assignment).glob("*.ipynb")):
            stamp_file(notebook, address, notebook.relative_to(root).as_posix())
