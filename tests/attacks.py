"""Attempts to earn points without doing the work, from inside a student's exercise cell,
and submissions that break in other ways (BROKEN).

Each replaces one exercise cell of notebook 01 with a wrong answer plus a trick that fools plain
nbgrader (the test cells run in the student's kernel there). With the course's grader every one
must score zero on the exercises it attacks and change nothing for anyone else.
`{root}` in a source is the course folder being graded (an attacker may well guess it).
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


_ZERO_STEP = ("def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
              "    return np.zeros((x_t.shape[0], W_hh.shape[0]))\n")
_ZERO_FORWARD = ("def rnn_forward(xs, h0, W_xh, W_hh, b_h):\n"
                 "    return np.zeros((xs.shape[0],) + h0.shape)\n")

ATTACKS = [
    Attack("rebinds_numpy", "rnn_step_forward", "rebinds numpy's comparisons and reductions",
           "import numpy as np\n"
           "np.allclose = lambda *a, **k: True\n"
           "np.array_equal = lambda *a, **k: True\n"
           "np.all = lambda *a, **k: True\n"
           "np.max = lambda *a, **k: 0.0\n"
           "np.abs = lambda x, *a, **k: x * 0\n" + _ZERO_STEP,
           ("rnn_step_forward",)),
    Attack("patches_helpers", "rnn_step_forward", "replaces the helpers.checks functions",
           "import helpers.checks as hc\n"
           "for _name in ('expect_close', 'expect', 'as_array', 'fail', 'close', 'passed',\n"
           "              'expect_from_scratch', 'first_bad_step'):\n"
           "    setattr(hc, _name, lambda *a, **k: a[2] if len(a) > 2 else None)\n"
           "hc.call = lambda exercise, fn, *a, inputs, **k: (fn(*a, **k), [])\n"
           "hc.CheckFailure = type('Silent', (Warning,), {})\n" + _ZERO_STEP,
           ("rnn_step_forward",)),
    Attack("patches_the_oracle", "rnn_forward",
           "replaces torch's tanh and the notebook's check functions",
           "import torch\n"
           "torch.tanh = lambda x: x * 0\n"
           "torch.nn.RNN = None\n"
           "for _name in list(globals()):\n"
           "    if _name.startswith(('check_', 'reference_')):\n"
           "        globals()[_name] = lambda *a, **k: None\n" + _ZERO_FORWARD,
           ("rnn_forward",)),
    Attack("skips_test_cells", "rnn_forward",
           "an IPython input transformer that turns every test cell into `pass`",
           "try:\n"
           "    get_ipython().input_transformers_post.append(\n"
           "        lambda lines: ['pass\\n'] if any('check' in l for l in lines) else lines)\n"
           "except Exception:\n"
           "    pass\n" + _ZERO_FORWARD,
           ("rnn_forward",)),
    Attack("silences_errors", "rnn_forward",
           "silenced tracebacks, a custom exception handler and a quiet excepthook",
           "import sys\n"
           "try:\n"
           "    _ip = get_ipython()\n"
           "    _ip.showtraceback = lambda *a, **k: None\n"
           "    _ip.set_custom_exc((BaseException,), lambda *a, **k: None)\n"
           "except Exception:\n"
           "    pass\n"
           "sys.excepthook = lambda *a: None\n" + _ZERO_FORWARD,
           ("rnn_forward",)),
    Attack("fakes_comparisons", "rnn_backward",
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
           ("rnn_backward",)),
    Attack("writes_files", "relative_error",
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
           ("relative_error",)),
    Attack("kills_the_grader", "numerical_gradient", "kills its parent process",
           "import os, signal\n"
           "for _pid in (os.getppid(),):\n"
           "    try:\n"
           "        os.kill(_pid, signal.SIGKILL)\n"
           "    except Exception:\n"
           "        pass\n"
           "def numerical_gradient(f, x, eps=1e-5):\n"
           "    return np.zeros_like(x)\n",
           ("numerical_gradient",)),
]

_SWALLOWING_LOOP = ("import time\n"
                    "while True:\n"
                    "    try:\n"
                    "        time.sleep(0.2)\n"
                    "    except BaseException:\n"
                    "        pass\n")
# Submissions that break, hang or flood rather than cheat: student -> {cell: source}; a
# source starting with '+' is put in front of the model answer.
BROKEN = {
    "raises": {"rnn_step_forward": "+raise RuntimeError('oops')\n"},
    "hangs_top_level": {"relative_error": _SWALLOWING_LOOP},
    "hangs_in_call": {"rnn_backward": "def rnn_backward(*args):\n    while True:\n"
                                      "        pass\n"},
    "kills_kernel": {"numerical_gradient": "+import os\nos._exit(1)\n"},
    "floods_output": {"rnn_step_forward": "+for _ in range(200):\n    print('x' * 100_000)\n"},
}


def broken_answers(solution, replace: dict[str, str]) -> dict[str, str]:
    """The cell sources of a BROKEN submission: '+' prefixes the model answer."""
    model = solution_sources(solution)
    return {cell: source[1:] + model[cell] if source.startswith("+") else source
            for cell, source in replace.items()}
