"""The README's first command ends in `jupyter lab notebooks/`: the server starts, serves the
Lab page, and opens every released notebook (loopback only, stopped at the end)."""

from __future__ import annotations

import json
import sys

import pytest

import course_tools

pytestmark = pytest.mark.slow
TOKEN = "course-test-token"


def test_jupyter_lab_serves_the_notebooks(tmp_path):
    with course_tools.jupyter_lab(
        sys.executable, course_tools.ROOT / "notebooks", tmp_path / "lab.log", TOKEN
    ) as base:
        status, page = course_tools.http_get(f"{base}/lab?token={TOKEN}")
        assert status == 200 and b"JupyterLab" in page
        for assignment in course_tools.assignments():
            name = course_tools.notebook_path(course_tools.ROOT / "notebooks", assignment).name
            status, body = course_tools.http_get(
                f"{base}/api/contents/{assignment}/{name}?token={TOKEN}"
            )
            model = json.loads(body)
            assert status == 200 and model["type"] == "notebook" and model["content"]["cells"]
