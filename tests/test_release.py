"""notebooks/ is exactly what nbgrader generates from solutions/, and leaks nothing."""

from __future__ import annotations

import ast
import re

import pytest

import course_tools
from instructor.infrastructure import stamp
from instructor.records import cells

ROOT = course_tools.ROOT
ASSIGNMENTS = course_tools.assignments()


def test_there_is_at_least_one_assignment():
    assert ASSIGNMENTS and all(re.fullmatch(r"\d\d_[a-z0-9_]+", a) for a in ASSIGNMENTS)


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_release_matches_a_fresh_generation(assignment, generated_course):
    fresh_path = course_tools.notebook_path(generated_course / "notebooks", assignment)
    fresh = course_tools.read(fresh_path)
    committed = course_tools.read(course_tools.notebook_path(ROOT / "notebooks", assignment))
    assert course_tools.dumps_cells(committed) == course_tools.dumps_cells(fresh), (
        f"notebooks/{assignment} is stale: run `rnn-course release -a {assignment}` from the "
        "course root and commit the result"
    )
    released = {p.name for p in (ROOT / "notebooks" / assignment).iterdir()}
    assert released == {p.name for p in (generated_course / "notebooks" / assignment).iterdir()}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_leaks_no_solution_or_hidden_test(assignment):
    solution = course_tools.read(course_tools.notebook_path(ROOT / "solutions", assignment))
    release_dir = ROOT / "notebooks" / assignment
    release = course_tools.read(course_tools.notebook_path(ROOT / "notebooks", assignment))
    text = "\n".join(c.source for c in release.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    assert not list(release_dir.glob("*.py")), "a jupytext twin (with answers) was released"
    secret, public = [], []
    for cell in solution.cells:
        source = cell.source
        for begin, end in (
            ("### BEGIN SOLUTION", "### END SOLUTION"),
            ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"),
        ):
            pattern = re.escape(begin) + r"(.*?)" + re.escape(end)
            for block in re.findall(pattern, source, flags=re.S):
                secret += [ln.strip() for ln in block.splitlines() if len(ln.strip()) > 12]
            source = re.sub(pattern, "", source, flags=re.S)
        public.append(source)
    # A line the solution notebook also states in the open (the derivation, the checking tools)
    # is teaching material, not a leak.
    public_text = "\n".join(public)
    secret = [ln for ln in secret if ln not in public_text]
    assert secret, "found no solution or hidden-test lines to look for"
    leaked = [ln for ln in secret if ln in text]
    assert not leaked, f"solution or hidden-test lines in notebooks/{assignment}: {leaked[:5]}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_sources_have_no_outputs_and_their_text_twin_is_in_sync(assignment, tmp_path):
    path = course_tools.notebook_path(ROOT / "solutions", assignment)
    nb = course_tools.read(path)
    assert all(
        not c.get("outputs") and not c.get("execution_count")
        for c in nb.cells
        if c.cell_type == "code"
    ), f"{path} has outputs: strip them"
    twin = path.with_suffix(".py")
    if twin.exists():
        import jupytext

        from_text = jupytext.read(twin)
        assert course_tools.dumps_cells(from_text) == course_tools.dumps_cells(nb), (
            f"{twin.name} and {path.name} differ: run `jupytext --sync {twin}`"
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebook_has_the_required_parts(assignment):
    nb = course_tools.read(course_tools.notebook_path(ROOT / "solutions", assignment))
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for part in ("## What to remember", "## References", "**Time:**"):
        assert part in markdown, f"{assignment} lacks '{part}'"
    # The course's address is written by the release (instructor.infrastructure.stamp), never by
    # hand.
    setup = next(c.source for c in nb.cells if c.cell_type == "code")
    assert stamp.BADGE_MARKER in nb.cells[0].source and stamp.INSTALL_MARKER in setup, (
        f"{assignment}: the title cell needs a `{stamp.BADGE_MARKER} -->` line and the set-up "
        f"cell a `{stamp.INSTALL_MARKER}` line (see CONTRIBUTING.md)"
    )
    text = course_tools.notebook_path(ROOT / "solutions", assignment).read_text()
    for written in ("colab.research.google.com/github/", "git+"):
        assert written not in text, (
            f"{assignment}: `{written}` written by hand; the release writes the course's address"
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebook_points_at_the_configured_address(assignment):
    path = course_tools.notebook_path(ROOT / "notebooks", assignment)
    nb = course_tools.read(path)
    address = stamp.configured(ROOT)
    assert address.badge(path.relative_to(ROOT).as_posix()) in nb.cells[0].source.splitlines()
    setup = next(c.source for c in nb.cells if c.cell_type == "code")
    assert address.install() in setup, "rnn-course release writes the Colab install"
    # A student's file: never paired by jupytext (a text twin would hold their answers).
    assert "jupytext" not in nb.metadata


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebook_collapses_only_the_checking_tools(assignment):
    """A student sees an exercise, then its check: the read-only checking code between them is
    collapsed (JupyterLab and Colab), and nothing else is."""
    nb = course_tools.read(course_tools.notebook_path(ROOT / "notebooks", assignment))
    collapsed = [
        cells.grade_id(c) or f"cell {i}"
        for i, c in enumerate(nb.cells)
        if c.metadata.get("jupyter", {}).get("source_hidden")
    ]
    tools = [cells.grade_id(c) for c in nb.cells if cells.is_checking_tools_cell(c)]
    assert tools, f"{assignment}: no checking_tools cell found"
    assert collapsed == tools, f"{assignment}: collapsed {collapsed}, expected {tools}"
    assert all(
        c.metadata.get("cellView") == "form" for c in nb.cells if cells.is_checking_tools_cell(c)
    )


def test_the_address_lives_in_pyproject_only():
    address = stamp.configured(ROOT)
    written = [
        p.relative_to(ROOT).as_posix()
        for folder in ("solutions", "helpers", "instructor", "tests")
        for p in (ROOT / folder).rglob("*")
        if p.is_file()
        and p.suffix in (".py", ".ipynb")
        and address.repository in p.read_text(errors="ignore")
    ]
    assert not written, f"the course's address is written by hand in {written}"


def test_stamping_refuses_a_notebook_without_markers():
    nb = course_tools.read(course_tools.notebook_path(ROOT / "solutions", ASSIGNMENTS[0]))
    nb.cells[0].source = nb.cells[0].source.replace(stamp.BADGE_MARKER, "<!-- a badge")
    with pytest.raises(ValueError, match="found 0 Colab badge"):
        stamp.stamp(nb, stamp.configured(ROOT), "notebooks/x.ipynb")


# The exercise contract: the functions each notebook must ask for, with their signatures.
# Instructors' graded work and the course's text depend on these names and signatures: a notebook
# may add exercises, but never rename, drop or re-sign one of these.
CONTRACT = {
    "01": (
        "rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h)",
        "rnn_forward(xs, h0, W_xh, W_hh, b_h)",
        "rnn_backward(dhs, xs, hs, h0, W_xh, W_hh, b_h)",
        "numerical_gradient(f, x, eps=1e-05)",
        "relative_error(a, b)",
    ),
    "02": (
        "sigmoid(x)",
        "sigmoid_grad(x)",
        "tanh_grad(x)",
        "hidden_jacobian(W_hh, a_t, activation)",
        "jacobian_product_norms(W_hh, pre_activations, activation)",
    ),
    "03": ("relu(x)", "relu_grad(x)", "global_grad_norm(grads)", "single_unit_rnn(w, b, x0, T)"),
    "04": (
        "spectral_radius(W)",
        "largest_singular_value(W)",
        "scale_to_spectral_radius(W, rho)",
        "gradient_bound(W_hh, gamma, steps)",
        "guaranteed_to_vanish(W_hh, activation)",
    ),
    "05": (
        "clip_grad_norm(grads, max_norm)",
        "clip_grad_value(grads, clip_value)",
        "train_step(model, inputs, targets, loss_fn, optimizer, max_norm=None)",
    ),
    "06": (
        "xavier_uniform(fan_in, fan_out, rng)",
        "xavier_normal(fan_in, fan_out, rng)",
        "he_normal(fan_in, fan_out, rng)",
        "orthogonal(n, rng, gain=1.0)",
        "identity_init(n, scale=1.0)",
        "leaky_relu(x, slope=0.01)",
        "leaky_relu_grad(x, slope=0.01)",
        "elu(x, alpha=1.0)",
        "elu_grad(x, alpha=1.0)",
    ),
    "07": (
        "lstm_cell_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh)",
        "gru_cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh)",
        "cell_state_gradient(forget_gates)",
    ),
    "08": (
        "l2_penalty(params, lam)",
        "l1_penalty(params, lam)",
        "steps_to_threshold(losses, threshold)",
        "dot_product_attention(query, keys, values)",
    ),
}


def exercise_functions(nb) -> dict[str, tuple[str, str]]:
    """name -> (signature, source) of every function an exercise cell of `nb` defines."""
    found = {}
    for cell in nb.cells:
        if not cells.is_solution_cell(cell):
            continue
        source = cells.python_source(cell.source)
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef):
                signature = f"{node.name}({ast.unparse(node.args)})"
                found[node.name] = (signature, ast.get_source_segment(source, node) or "")
    return found


def test_every_notebook_of_the_contract_is_in_the_course():
    numbers = {assignment[:2] for assignment in ASSIGNMENTS}
    assert set(CONTRACT) <= numbers, f"notebooks missing: {sorted(set(CONTRACT) - numbers)}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_exercise_keeps_its_signature_and_is_released_as_a_stub(assignment):
    """The contract's exercises are in the solution with their signatures; every exercise of the
    solution is in the release with the same signature, its body a stub (no answer)."""
    solution = exercise_functions(
        course_tools.read(course_tools.notebook_path(ROOT / "solutions", assignment))
    )
    release = exercise_functions(
        course_tools.read(course_tools.notebook_path(ROOT / "notebooks", assignment))
    )
    signatures = {signature for signature, _ in solution.values()}
    missing = [s for s in CONTRACT.get(assignment[:2], ()) if s not in signatures]
    assert not missing, (
        f"{assignment}: the contract's exercises are missing or re-signed in solutions/: {missing} "
        f"(an existing exercise's name and signature never change)"
    )
    for name, (signature, _) in solution.items():
        assert name in release, f"{assignment}: {name} is missing from the student version"
        got, body = release[name]
        assert got == signature, f"{assignment}: released as {got}, written as {signature}"
        assert "NotImplementedError" in body, (
            f"{assignment}: the student version of {name} still holds code, not a stub"
        )


def test_students_get_the_student_edition_and_a_course_without_one_uses_its_repository(tmp_path):
    data = stamp.pyproject(ROOT)["project"]["urls"]
    assert data[stamp.STUDENT_URL_KEY] != data[stamp.COURSE_URL_KEY], (
        "the student edition must be its own repository: the course's holds the solutions"
    )
    assert stamp.configured(ROOT).url() == data[stamp.STUDENT_URL_KEY]
    text = (ROOT / "pyproject.toml").read_text()
    single = "\n".join(
        line for line in text.splitlines() if not line.startswith(f'"{stamp.STUDENT_URL_KEY}"')
    )
    (tmp_path / "pyproject.toml").write_text(single)
    assert stamp.configured(tmp_path).url() == data[stamp.COURSE_URL_KEY]


def test_the_address_is_read_from_pyproject_and_checked(tmp_path):
    text = (ROOT / "pyproject.toml").read_text()
    configured = stamp.configured(ROOT)
    data = stamp.pyproject(ROOT)
    assert configured.ref == data["tool"]["rnn-course"].get("ref", "v" + data["project"]["version"])
    fork = text.replace(
        f"https://github.com/{configured.repository}", "https://github.com/someone/fork.git"
    ).replace("[tool.rnn-course]\n", '[tool.rnn-course]\nref = "spring-2027"\n')
    (tmp_path / "pyproject.toml").write_text(fork)
    assert stamp.configured(tmp_path) == stamp.Address(
        "someone/fork", "spring-2027", configured.package
    )
    (tmp_path / "pyproject.toml").write_text(
        fork.replace("https://github.com/someone/fork.git", "https://gitlab.com/someone/fork")
    )
    with pytest.raises(ValueError, match="GitHub address"):
        stamp.configured(tmp_path)
    with pytest.raises(ValueError, match="tag or branch"):
        stamp.Address("someone/fork", "has space")
