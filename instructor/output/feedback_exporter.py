"""The exporter of the course's feedback pages, with its own configuration section.

nbgrader's API sets `HTMLExporter.template_name = "feedback"` on every feedback run, over any
course setting; an exporter class of the course's own (`GenerateFeedback.exporter_class`) is
configured by its own section, `FeedbackExporter`, which wins over `HTMLExporter`'s. Its template
is `templates/course_feedback/`, built on nbgrader's `feedback` template.
"""

from __future__ import annotations

from pathlib import Path

from nbconvert.exporters import HTMLExporter

TEMPLATE_NAME = "course_feedback"
TEMPLATES = Path(__file__).resolve().parent / "templates"


def _formgrader() -> Path:
    import nbgrader

    return Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"


def template_dirs() -> list[str]:
    """The folders nbconvert searches for templates by name: the course's, then nbgrader's
    (where its `feedback` template lives)."""
    return [str(TEMPLATES), str(_formgrader() / "templates")]


def template_paths() -> list[str]:
    """The folders nbconvert searches for files by path: nbgrader's templates (the course's
    template extends `feedback/index.html.j2`) and the Bootstrap CSS that template inlines."""
    bootstrap = _formgrader() / "static" / "node_modules" / "bootstrap" / "dist" / "css"
    return [str(_formgrader() / "templates"), str(bootstrap)]


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTML exporter, under a configuration section of the course's own."""
