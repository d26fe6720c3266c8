"""Feedback shows the results of hidden tests, never their code."""

from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool

from instructor.records.cells import HIDDEN_BEGIN, HIDDEN_END, without_block

NOTE = "# (hidden tests ran here; their results are below)"


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback: replace every hidden-test block by a one-line note (the results stay)."""

    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and HIDDEN_BEGIN in cell.source:
            cell.source = without_block(cell.source, HIDDEN_BEGIN, HIDDEN_END, keep=NOTE)
        return cell, resources
