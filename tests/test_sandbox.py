"""The sandbox that runs student functions for the grader, and the wire format they answer in."""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings

import numpy as np
import pytest

from helpers.checks import InputChanged
from instructor.infrastructure import confine
from instructor.infrastructure.sandbox import Limits, ProcessDied, Sandbox, TimeLimitExceeded, codec
from instructor.records.problems import Kind, Problem

STUDENT = """
import numpy as np

def matmul(a, b):
    return a @ b

def restores(f, x):
    old = x[0]
    x[0] = old + 1
    value = f(x)
    x[0] = old
    return value

def scribbles(x):
    x[...] = 7.0
    return None


def scribbles_in_a_list(xs):
    xs[1] *= 2.0
    return len(xs)

def draws(rng, n):
    return rng.normal(size=n)

class Anything(np.ndarray):
    def __eq__(self, other):
        return True
    def __sub__(self, other):
        return np.zeros(np.shape(other))

def fake_array():
    return np.ones(3).view(Anything)

class Always:
    def __eq__(self, other):
        return True

def fake_object():
    return {"W": Always(), "ok": [1, 2.5, None, "s", (True,)]}

def loops():
    while True:
        pass

def exits():
    import os
    os._exit(3)

def overflows():
    return np.exp(np.array([1000.0]))

def not_done():
    raise NotImplementedError()

def writes(path):
    open(path, "w").write("tampered")


def parallel_work():
    import torch
    x = torch.randn(1500, 1500)
    return float((x @ x).sum() + torch.randn(10**6).exp().sum())


def sgd_step(model, inputs, targets, loss_fn, optimizer):
    seen = [p.grad.clone() for p in model.parameters()]   # gradients as they arrived
    loss = loss_fn(model(inputs), targets)
    loss.backward()                                       # adds to them: no zero_grad
    optimizer.step()
    return float(loss), [g.sum().item() for g in seen]
"""


def _sandbox_of(cells: str, call_seconds: float, allow_torch: bool):
    """A sandbox holding `cells` as the student's, in its own scratch folder, then cleaned up."""
    scratch = confine.make_scratch()
    box = Sandbox(
        "import numpy as np",
        [("student", cells)],
        Limits(setup_seconds=10, call_seconds=call_seconds),
        scratch,
        allow_torch=allow_torch,
    )
    yield box
    box.close()
    confine.remove_scratch(scratch)


@pytest.fixture()
def sandbox():
    yield from _sandbox_of(STUDENT, 2, allow_torch=False)


@pytest.fixture()
def torch_sandbox():
    yield from _sandbox_of(STUDENT, 20, allow_torch=True)


def test_codec_round_trips_plain_data_and_refuses_objects():
    value = {
        "a": np.arange(6.0).reshape(2, 3),
        "b": [1, 2.5, float("nan"), None, "x", (True,)],
        "c": np.float32(1.5),
        "d": 1 + 2j,
        "e": np.array(2.5),
        "f": np.ones((2, 3)).T,
    }
    back = codec.decode(codec.encode(value))
    assert back["e"].shape == () and back["e"] == 2.5
    assert np.array_equal(back["f"], np.ones((3, 2)))
    assert np.array_equal(back["a"], value["a"]) and back["a"].dtype == np.float64
    assert (
        back["b"][:2] == [1, 2.5]
        and np.isnan(back["b"][2])
        and back["b"][3:] == [None, "x", (True,)]
    )
    assert back["c"] == np.float32(1.5) and back["d"] == 1 + 2j
    opaque = codec.decode(codec.encode(object()))
    assert isinstance(opaque, codec.Opaque) and type(opaque).__name__ == "object"
    for bad in (
        b"\x80",
        b"[1]",
        b'{"x": 1}',
        b'{"a": "AAAA", "dtype": "|O", "shape": [1]}',
        b'{"a": "AAAA", "dtype": "<f8", "shape": [9]}',
    ):
        with pytest.raises(codec.DecodeError):
            codec.decode(bad)


def test_calls_return_real_arrays(sandbox):
    got = sandbox.call("matmul", (np.eye(2), np.ones((2, 2))), {})
    assert type(got) is np.ndarray and np.array_equal(got, np.ones((2, 2)))


def test_fake_comparisons_do_not_survive_the_trip(sandbox):
    got = sandbox.call("fake_array", (), {})
    assert type(got) is np.ndarray and not np.array_equal(got, np.zeros(3))
    found = sandbox.call("fake_object", (), {})
    assert isinstance(found["W"], codec.Opaque) and found["W"] != 1
    assert type(found["W"]).__name__ == "Always"


def test_callbacks_run_in_the_grader_and_in_place_changes_fail_the_call(sandbox):
    seen = []
    x = np.array([1.0, 2.0])
    value = sandbox.call("restores", (lambda v: seen.append(v.copy()) or float(v.sum()), x), {})
    assert value == 4.0 and np.array_equal(seen[0], [2.0, 2.0]) and np.array_equal(x, [1.0, 2.0])
    with pytest.raises(InputChanged, match="scribbles changed its argument x in place"):
        sandbox.call("scribbles", (x,), {}, ("x",))
    assert np.array_equal(x, [1.0, 2.0])  # the grader's own array never changes
    assert sandbox.problems == [Problem(Kind.INPUT_CHANGED, "scribbles", "x")]


def test_warnings_and_exceptions_come_back_by_name(sandbox):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sandbox.call("overflows", (), {})
    assert [w.category for w in caught] == [RuntimeWarning]
    with pytest.raises(NotImplementedError):
        sandbox.call("not_done", (), {})
    with pytest.raises(NameError, match="not defined by your exercise cells"):
        sandbox.call("missing", (), {})
    with pytest.raises(ValueError, match="mismatch"):
        sandbox.call("matmul", (np.eye(2), np.eye(3)), {})


def test_hangs_and_exits_cost_one_call_only(sandbox):
    with pytest.raises(TimeLimitExceeded, match="did not return within 2 s"):
        sandbox.call("loops", (), {})
    with pytest.raises(ProcessDied, match="exit code 3"):
        sandbox.call("exits", (), {})
    assert np.array_equal(sandbox.call("matmul", (np.eye(2), np.eye(2)), {}), np.eye(2))


@pytest.mark.skipif(
    not confine.namespaces_available() and confine.sandbox_ids() is None,
    reason="confinement needs user namespaces or root",
)
def test_confined_code_cannot_write_the_instructors_files(sandbox, tmp_path):
    target = tmp_path / "gradebook.db"
    target.write_text("original")
    os.chmod(tmp_path, 0o755)
    with pytest.raises(Exception) as error:
        sandbox.call("writes", (str(target),), {})
    # EACCES or EROFS; with a private view the folder does not even exist for student code
    assert type(error.value).__name__ in ("PermissionError", "OSError", "FileNotFoundError")
    assert target.read_text() == "original"


def test_a_hanging_or_crashing_cell_is_left_out_and_the_others_still_graded():
    cells = [
        ("good", "def f():\n    return 1.0\n"),
        ("hangs", "while True:\n    try:\n        pass\n    except BaseException:\n        pass\n"),
        ("dies", "import os\nos._exit(5)\n"),
        ("later", "def g():\n    return 2.0\n"),
    ]
    with Sandbox("", cells, Limits(setup_seconds=2, call_seconds=2)) as box:
        assert box.call("f", (), {}) == 1.0 and box.call("g", (), {}) == 2.0
        assert "did not finish within 2 s" in box.cell_errors["hangs"]
        assert "exit code 5" in box.cell_errors["dies"]


def test_a_torch_training_step_sees_the_gradients_and_its_update_comes_back(torch_sandbox):
    import torch

    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2).double()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    for p in model.parameters():
        p.grad = torch.full_like(p, 0.25)
    before = [p.detach().clone() for p in model.parameters()]
    inputs, targets = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 2, dtype=torch.float64)
    loss, seen = torch_sandbox.call(
        "sgd_step", (model, inputs, targets, torch.nn.MSELoss(), optimizer), {}
    )
    assert seen == [0.25 * p.numel() for p in before]  # pickling drops .grad; it came
    reference = torch.nn.Linear(3, 2).double()
    with torch.no_grad():
        for r, b in zip(reference.parameters(), before, strict=True):
            r.copy_(b)
    expected_loss = torch.nn.functional.mse_loss(reference(inputs), targets)
    expected_loss.backward()
    assert loss == pytest.approx(float(expected_loss.detach()))
    for p, b, r in zip(model.parameters(), before, reference.parameters(), strict=True):
        total = r.grad + 0.25  # accumulated onto the old .grad
        assert torch.allclose(p.grad, total)
        assert torch.allclose(p.detach(), b - 0.5 * total)  # the child's update, mirrored


def test_a_child_forked_after_the_grader_ran_parallel_torch_code_does_not_hang(tmp_path):
    # The pool of OpenMP threads does not survive a fork: without care, the child's first
    # parallel region waits forever and a correct answer times out.
    import torch

    x = torch.randn(1500, 1500)
    float((x @ x).sum() + torch.randn(10**6).exp().sum())  # the grader's own oracle work
    with Sandbox(
        "import numpy as np",
        [("student", STUDENT)],
        Limits(setup_seconds=10, call_seconds=20),
        None,
    ) as box:
        box.start()
        assert np.isfinite(box.call("parallel_work", (), {}))


def test_in_place_changes_to_arrays_inside_a_list_fail_the_call(sandbox):
    grads = [np.ones(2), np.arange(3.0)]
    with pytest.raises(InputChanged, match="changed its argument argument 1 in place"):
        sandbox.call("scribbles_in_a_list", (grads,), {})
    assert np.array_equal(grads[0], np.ones(2)) and np.array_equal(grads[1], [0.0, 1.0, 2.0])


def test_a_random_generator_argument_advances_as_in_a_kernel(sandbox):
    rng = np.random.default_rng(3)
    first, second = sandbox.call("draws", (rng, 4), {}), sandbox.call("draws", (rng, 2), {})
    again = np.random.default_rng(3)
    assert np.array_equal(first, again.normal(size=4))  # the grader's generator was used
    assert np.array_equal(second, again.normal(size=2))  # and it moved on, as in a kernel
    assert rng.bit_generator.state == again.bit_generator.state


SNOOP = """
import gc, os, socket, sys

def what_it_sees(paths):
    seen = {}
    for path in paths:
        try:
            seen[path] = sorted(os.listdir(path)) if os.path.isdir(path) else open(path).read()
        except OSError as error:
            seen[path] = type(error).__name__
    return seen

def processes():
    return sorted(int(p) for p in os.listdir("/proc") if p.isdigit()), os.getppid()

def reaches_torch():
    import ctypes, importlib
    tries = {}
    for name, attempt in (("import", lambda: __import__("torch").tensor),
                          ("importlib", lambda: importlib.import_module("to" + "rch").tensor),
                          ("functorch", lambda: importlib.import_module("functorch").vmap)):
        try:
            attempt()
            tries[name] = "reached"
        except BaseException as error:
            tries[name] = type(error).__name__
    tries["in memory"] = [m for m in sys.modules if m.split(".")[0] in ("torch", "functorch")]
    for folder in sys.path:
        lib = os.path.join(folder, "torch", "lib", "libtorch_cpu.so")
        if os.path.exists(lib):
            try:
                ctypes.CDLL(lib)
                tries["ctypes"] = "reached"
            except OSError:
                tries["ctypes"] = "OSError"
    return tries

def connects(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return "connected"
    except OSError as error:
        return type(error).__name__

def environment():
    return dict(os.environ)

def finds(marker):
    return [type(o).__name__ for o in gc.get_objects()
            if isinstance(o, (str, bytes, dict, list)) and marker in str(o)[:100000]][:5]
"""
# Held in the grader's memory while the sandbox runs: the child must not have it.
GRADER_SECRET = "hidden-test-" + "marker-4d1f"


@pytest.fixture()
def snooper():
    yield from _sandbox_of(SNOOP, 20, allow_torch=False)


needs_a_view = pytest.mark.skipif(
    not confine.namespaces_available(), reason="a private view needs Linux namespaces"
)


@needs_a_view
def test_student_code_sees_the_python_environment_and_nothing_of_the_course(snooper, tmp_path):
    from course_tools import ROOT

    secret = tmp_path / "gradebook.db"
    secret.write_text("grades")
    os.chmod(tmp_path, 0o755)
    os.chmod(secret, 0o644)
    home = os.path.expanduser("~")
    seen = snooper.call(
        "what_it_sees",
        ([str(secret), str(ROOT / "solutions"), str(ROOT), home, "/etc/shadow"],),
        {},
    )
    assert seen[str(secret)] == "FileNotFoundError"
    assert seen[str(ROOT / "solutions")] == "FileNotFoundError"
    assert not {"solutions", "notebooks", "nbgrader_config.py", "tests"} & set(seen[str(ROOT)])
    assert seen["/etc/shadow"] in ("PermissionError", "FileNotFoundError")
    # of the home folder, only the way to a Python environment that lives there (pyenv, conda)
    leading = {
        os.path.relpath(p, home).split(os.sep)[0]
        for p in confine.python_paths()
        if p.startswith(home.rstrip("/") + "/")
    }
    assert seen[home] == "FileNotFoundError" or set(seen[home]) <= leading, seen[home]


@needs_a_view
def test_student_code_sees_no_other_process_and_no_parent(snooper):
    pids, parent = snooper.call("processes", (), {})
    assert pids == [1, 2] and parent == 1, pids  # itself, and its namespace's init (trusted)


@needs_a_view
def test_from_scratch_code_cannot_reach_torch_however_it_imports_it(snooper):
    tries = snooper.call("reaches_torch", (), {})
    assert tries["import"] == tries["importlib"] == "ImportError", tries
    assert tries["functorch"] in ("ImportError", "ModuleNotFoundError"), tries
    assert tries["in memory"] == [] and tries.get("ctypes", "OSError") == "OSError", tries


@needs_a_view
def test_student_code_has_no_network(snooper):
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    try:
        assert snooper.call("connects", (server.getsockname()[1],), {}) != "connected"
    finally:
        server.close()


def test_the_child_holds_nothing_the_grader_read(snooper):
    secret = GRADER_SECRET * 2  # built at run time, so the test's own code does not hold it
    assert snooper.call("finds", (secret[:20] + "X",), {}) == []  # the search works on misses
    assert snooper.call("finds", (GRADER_SECRET,), {}) == []


def test_student_code_inherits_no_variable_of_the_grader(snooper, monkeypatch):
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", "/somewhere/of/the/graders")
    monkeypatch.setenv("GRADER_TOKEN", "s3cret")
    snooper.close()  # a fresh child, forked after the grader's environment changed
    env = snooper.call("environment", (), {})
    allowed = {*confine.KEPT_ENVIRONMENT, *confine.STUDENT_ENVIRONMENT, "PYTHONDONTWRITEBYTECODE"}
    assert set(env) <= allowed, set(env) - allowed
    assert env["HOME"] == env["TMPDIR"] == snooper.scratch
    assert env["OMP_NUM_THREADS"] == "1" and "PATH" in env  # what it needs, it keeps


def test_a_torch_exercise_still_gets_torch(torch_sandbox):
    assert torch_sandbox.call("parallel_work", (), {}) > 0


@needs_a_view
def test_a_python_environment_under_tmp_stays_visible_beneath_the_fresh_tmp(tmp_path):
    """A checkout (and its virtual environment) under /tmp, as in a CI job's scratch clone, is
    bound on top of the view's own /tmp, not hidden under it; the rest of /tmp stays hidden."""
    folder = tempfile.mkdtemp(prefix="rnn-course-env-")
    try:
        os.chmod(folder, 0o755)
        marker = os.path.join(folder, "marker.txt")
        with open(marker, "w") as f:
            f.write("here")
        os.chmod(marker, 0o644)
        scratch = confine.make_scratch()
        view = confine.View(scratch, readable=confine.python_paths() + (folder,))
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                confine._enter_namespaces(view, confine.mode() is confine.Mode.ROOT_NAMESPACES)
                with open(marker) as f:
                    code = 0 if f.read() == "here" and not os.path.exists(tmp_path) else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        confine.remove_scratch(scratch)
        assert os.waitstatus_to_exitcode(status) == 0, (
            "exit 1: a folder under /tmp named as readable was hidden beneath the view's /tmp; "
            "exit 2: the rest of /tmp was visible"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_kernels_scratch_gets_the_font_list_and_matplotlib_uses_it(tmp_path):
    """A fresh kernel reads the grader's matplotlib font list instead of rebuilding it."""
    import subprocess
    import sys

    scratch = confine.make_scratch()
    try:
        confine.seed_font_cache(scratch)
        seeded = [n for n in os.listdir(scratch) if n.startswith("fontlist-")]
        assert seeded, "no font list was copied into the scratch folder"
        path = os.path.join(scratch, seeded[0])
        before = os.stat(path).st_mtime_ns
        probe = "import matplotlib.font_manager as f; print(len(f.fontManager.ttflist))"
        command = [sys.executable, "-m", "instructor.infrastructure.confine", "--scratch",
                   scratch, "--", sys.executable, "-c", probe]  # fmt: skip
        out = subprocess.run(command, env=confine.clean_environment(scratch), capture_output=True,
                             text=True, timeout=60)  # fmt: skip
        assert out.returncode == 0 and int(out.stdout) > 0, out.stderr[-2000:]
        assert os.stat(path).st_mtime_ns == before, "matplotlib rebuilt the font list"
    finally:
        confine.remove_scratch(scratch)


def test_a_cell_nested_too_deep_is_read_as_unparsable_not_a_grader_fault():
    """Attack (issue 26 review): `-` * 100000 in an answer raised RecursionError in the grader's
    own parse of the cell, recorded as the grader's fault. It is now an unparsable cell."""
    from instructor.infrastructure.sandbox import static

    deep = "def f():\n    return " + "-" * 100_000 + "1\n"
    assert static.function_codes(deep) == {} and static.defined_functions(deep) == []
    assert static.uses_torch(deep) == set() and static.import_aliases(deep) == {}
