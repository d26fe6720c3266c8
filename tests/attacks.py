"""Attempts to earn points without doing the work, or to read what student code must not, from
inside a student's exercise cell, and submissions that break in other ways (BROKEN).

Each replaces one exercise cell (of notebook 01 unless it says otherwise) with a wrong answer
plus a trick. The tricks that fool plain nbgrader (its test cells run in the student's kernel)
must score zero on the exercises they attack and change nothing for anyone else. The tricks that
read (`leaks=True`) run both in the kernel, at the top level of the cell, which prints what it
found into the feedback, and in the sandbox, inside the function, which returns what it found
into a check's failure message: neither may show anything of the course's files, another
student's or the grader's. `{root}` in a source is the course folder being graded (an attacker
may well guess it).
"""

from __future__ import annotations

from dataclasses import dataclass

from course_tools import solution_sources


@dataclass(frozen=True)
class Attack:
    student: str
    cell: str
    trick: str
    source: str
    attacked: tuple[str, ...]  # exercises whose test cells must all score zero
    assignment: str = "01_bptt"
    leaks: bool = False  # it prints or returns what it can read: nothing secret may show


# Planted in the course folder by the class test; no student's output may ever contain it.
CANARY = "CANARY-7f3a9c-never-show-this"
# What only the instructor's files and other students' folders hold (a hidden test of notebook
# 01, the gradebook's table names, another student's id): none may reach what a student's code
# printed or returned, nor their feedback.
SECRETS = (CANARY, "_case.dhs[-1] = 1.0", "BEGIN HIDDEN TESTS", "submitted_assignment", "mistake0")

# Everything an attacker would try to read, from the top of a cell or inside a function.
_LOOT = (
    "def _loot():\n"
    "    import glob, os, pathlib, sys\n"
    "    found = []\n"
    "    places = ['{root}', os.path.expanduser('~'), '/root', '/home', '/tmp', os.getcwd()]\n"
    "    try:\n"
    "        import helpers\n"
    "        places.append(str(pathlib.Path(helpers.__file__).resolve().parents[1]))\n"
    "    except Exception:\n"
    "        pass\n"
    "    for place in places:\n"
    "        for pattern in ('*', '*/*', 'solutions/*/*.ipynb', 'submitted/*/*/*.ipynb',\n"
    "                        'gradebook.db', 'canary.txt', 'nbgrader_config.py'):\n"
    "            for path in glob.glob(os.path.join(place, pattern))[:200]:\n"
    "                found.append(path)\n"
    "                try:\n"
    "                    with open(path, 'rb') as f:\n"
    "                        found.append(f.read(200000).decode('utf-8', 'replace'))\n"
    "                except Exception:\n"
    "                    pass\n"
    "    for pid in os.listdir('/proc'):\n"
    "        for name in ('cmdline', 'environ'):\n"
    "            try:\n"
    "                data = open(f'/proc/{pid}/{name}', 'rb').read()\n"
    "                found.append(data.decode('utf-8', 'replace'))\n"
    "            except Exception:\n"
    "                pass\n"
    "    return '\\n'.join(found)\n"
)


_ZERO_STEP = (
    "def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
    "    return np.zeros((x_t.shape[0], W_hh.shape[0]))\n"
)
_ZERO_FORWARD = (
    "def rnn_forward(xs, h0, W_xh, W_hh, b_h):\n    return np.zeros((xs.shape[0],) + h0.shape)\n"
)

ATTACKS = [
    Attack(
        "rebinds_numpy",
        "rnn_step_forward",
        "rebinds numpy's comparisons and reductions",
        "import numpy as np\n"
        "np.allclose = lambda *a, **k: True\n"
        "np.array_equal = lambda *a, **k: True\n"
        "np.all = lambda *a, **k: True\n"
        "np.max = lambda *a, **k: 0.0\n"
        "np.abs = lambda x, *a, **k: x * 0\n" + _ZERO_STEP,
        ("rnn_step_forward",),
    ),
    Attack(
        "patches_helpers",
        "rnn_step_forward",
        "replaces the helpers.checks functions",
        "import helpers.checks as hc\n"
        "for _name in ('expect_close', 'expect', 'as_array', 'fail', 'close', 'passed',\n"
        "              'expect_from_scratch', 'first_bad_step'):\n"
        "    setattr(hc, _name, lambda *a, **k: a[2] if len(a) > 2 else None)\n"
        "hc.call = lambda exercise, fn, *a, inputs, **k: (fn(*a, **k), [])\n"
        "hc.CheckFailure = type('Silent', (Warning,), {})\n" + _ZERO_STEP,
        ("rnn_step_forward",),
    ),
    Attack(
        "patches_the_oracle",
        "rnn_forward",
        "replaces torch's tanh and the notebook's check functions",
        "import torch\n"
        "torch.tanh = lambda x: x * 0\n"
        "torch.nn.RNN = None\n"
        "for _name in list(globals()):\n"
        "    if _name.startswith(('check_', 'reference_')):\n"
        "        globals()[_name] = lambda *a, **k: None\n" + _ZERO_FORWARD,
        ("rnn_forward",),
    ),
    Attack(
        "skips_test_cells",
        "rnn_forward",
        "an IPython input transformer that turns every test cell into `pass`",
        "try:\n"
        "    get_ipython().input_transformers_post.append(\n"
        "        lambda lines: ['pass\\n'] if any('check' in l for l in lines) else lines)\n"
        "except Exception:\n"
        "    pass\n" + _ZERO_FORWARD,
        ("rnn_forward",),
    ),
    Attack(
        "silences_errors",
        "rnn_forward",
        "silenced tracebacks, a custom exception handler and a quiet excepthook",
        "import sys\n"
        "try:\n"
        "    _ip = get_ipython()\n"
        "    _ip.showtraceback = lambda *a, **k: None\n"
        "    _ip.set_custom_exc((BaseException,), lambda *a, **k: None)\n"
        "except Exception:\n"
        "    pass\n"
        "sys.excepthook = lambda *a: None\n" + _ZERO_FORWARD,
        ("rnn_forward",),
    ),
    Attack(
        "fakes_comparisons",
        "rnn_backward",
        "returns arrays and a dict that compare equal to anything",
        "import numpy as np\n"
        "class Anything(np.ndarray):\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "    def __sub__(self, other):\n"
        "        return np.zeros(np.shape(other))\n"
        "    __rsub__ = __sub__\n"
        "    def __abs__(self):\n"
        "        return np.zeros(self.shape)\n"
        "class AnyDict(dict):\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "def rnn_backward(dhs, xs, hs, h0, W_xh, W_hh, b_h):\n"
        "    shapes = {'W_xh': W_xh.shape, 'W_hh': W_hh.shape, 'b_h': b_h.shape,\n"
        "              'h0': h0.shape}\n"
        "    return AnyDict({k: np.ones(s).view(Anything) for k, s in shapes.items()})\n",
        ("rnn_backward",),
    ),
    Attack(
        "writes_files",
        "relative_error",
        "writes the installed helpers, the gradebook, the config and another student's files",
        "import os, sqlite3, helpers\n"
        "_targets = [os.path.join(os.path.dirname(helpers.__file__), 'checks.py'),\n"
        "            '{root}/nbgrader_config.py', '{root}/gradebook.db',\n"
        "            '{root}/submitted/solved/01_bptt/01_bptt.ipynb']\n"
        "for _t in _targets:\n"
        "    try:\n"
        "        with open(_t, 'a') as _f:\n"
        "            _f.write('\\n# tampered\\n')\n"
        "    except Exception:\n"
        "        pass\n"
        "try:\n"
        "    _db = sqlite3.connect('{root}/gradebook.db')\n"
        "    _db.execute('update grade set auto_score = 99')\n"
        "    _db.commit()\n"
        "except Exception:\n"
        "    pass\n"
        "def relative_error(a, b):\n"
        "    return 0.0\n",
        ("relative_error",),
    ),
    Attack(
        "reads_solutions",
        "rnn_step_forward",
        "finds the course folder from the installed helpers and runs the model solution",
        "import json, os, pathlib\n"
        "def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
        "    import helpers\n"
        "    roots = [pathlib.Path(helpers.__file__).resolve().parents[1],\n"
        "             pathlib.Path('{root}'), pathlib.Path.cwd()]\n"
        "    for root in roots:\n"
        "        for path in root.glob('solutions/01_bptt/*.ipynb'):\n"
        "            for cell in json.load(open(path))['cells']:\n"
        "                source = ''.join(cell['source'])\n"
        "                if 'def rnn_step_forward' in source:\n"
        "                    space = {'np': np}\n"
        "                    exec(source, space)\n"
        "                    return space['rnn_step_forward'](x_t, h_prev, W_xh, W_hh, b_h)\n"
        "    return np.zeros((x_t.shape[0], W_hh.shape[0]))\n",
        ("rnn_step_forward",),
    ),
    Attack(
        "prints_what_it_reads",
        "relative_error",
        "prints the course's files, other students' files and other processes into its "
        "feedback, and returns them from its function",
        _LOOT + "print(_loot())\ndef relative_error(a, b):\n    return _loot()\n",
        ("relative_error",),
        leaks=True,
    ),
    Attack(
        "imports_torch_by_name",
        "sigmoid",
        "a from-scratch exercise answered by torch, imported through importlib",
        "def sigmoid(x):\n"
        "    lib = __import__('importlib').import_module('to' + 'rch')\n"
        "    return lib.sigmoid(lib.from_numpy(np.asarray(x, dtype=np.float64))).numpy()\n",
        ("sigmoid",),
        assignment="02_vanishing",
    ),
    Attack(
        "kills_the_grader",
        "numerical_gradient",
        "kills its parent process",
        "import os, signal\n"
        "for _pid in (os.getppid(),):\n"
        "    try:\n"
        "        os.kill(_pid, signal.SIGKILL)\n"
        "    except Exception:\n"
        "        pass\n"
        "def numerical_gradient(f, x, eps=1e-5):\n"
        "    return np.zeros_like(x)\n",
        ("numerical_gradient",),
    ),
]

_SWALLOWING_LOOP = (
    "import time\n"
    "while True:\n"
    "    try:\n"
    "        time.sleep(0.2)\n"
    "    except BaseException:\n"
    "        pass\n"
)
# Submissions that break, hang or flood rather than cheat: student -> {cell: source}; a
# source starting with '+' is put in front of the model answer.
BROKEN = {
    "raises": {"rnn_step_forward": "+raise RuntimeError('oops')\n"},
    "hangs_top_level": {"relative_error": _SWALLOWING_LOOP},
    "hangs_in_call": {"rnn_backward": "def rnn_backward(*args):\n    while True:\n        pass\n"},
    "kills_kernel": {"numerical_gradient": "+import os\nos._exit(1)\n"},
    "floods_output": {"rnn_step_forward": "+for _ in range(200):\n    print('x' * 100_000)\n"},
}


def broken_answers(solution, replace: dict[str, str]) -> dict[str, str]:
    """The cell sources of a BROKEN submission: '+' prefixes the model answer."""
    model = solution_sources(solution)
    return {
        cell: source[1:] + model[cell] if source.startswith("+") else source
        for cell, source in replace.items()
    }
