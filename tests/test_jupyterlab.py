"""The README's first command ends in `jupyter lab notebooks/`: the server starts, serves the
Lab page, and opens every released notebook (loopback only, stopped at the end)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

import course_tools

pytestmark = pytest.mark.slow
TOKEN = "course-test-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback only)
        return response.status, response.read()


def test_jupyter_lab_serves_the_notebooks(tmp_path):
    port = _free_port()
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={TOKEN}", "--ServerApp.open_browser=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    server = subprocess.Popen(cmd + [str(course_tools.ROOT / "notebooks")],
                              stdout=subprocess.DEVNULL, stderr=open(tmp_path / "lab.log", "w"))
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = _get(f"{base}/api/status?token={TOKEN}")
                if status == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, (tmp_path / "lab.log").read_text()
            assert time.monotonic() < deadline, "JupyterLab did not start within 60 s"
            time.sleep(0.5)
        status, page = _get(f"{base}/lab?token={TOKEN}")
        assert status == 200 and b"JupyterLab" in page
        for assignment in course_tools.assignments():
            name = course_tools.notebook_path(course_tools.ROOT / "notebooks", assignment).name
            status, body = _get(f"{base}/api/contents/{assignment}/{name}?token={TOKEN}")
            model = json.loads(body)
            assert status == 200 and model["type"] == "notebook" and model["content"]["cells"]
    finally:
        server.terminate()
        server.wait(timeout=20)
