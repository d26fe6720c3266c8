"""Time the notebooks' interactive explorers: how long one redraw takes when a control moves.

    python benchmarks/explorers.py [--points N]

Each solved notebook that builds a `helpers.widgets.Explorer` runs headless in a fresh kernel;
then every explorer it made is swept (`Explorer.sweep`: each slider through N values, each
dropdown through its options), as a person exploring would. The budget (issue 4): an update
under 0.2 s, so that the explorer feels live.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import course_tools  # noqa: E402

BUDGET_S = 0.2


def sweep_notebook(path: Path, points: int, workdir: Path) -> dict:
    """{explorer name: {"timings": [...], "errors": [...]}} for one solved notebook."""
    nb = course_tools.read(path)
    course_tools.add_explorer_sweep(nb, points)
    course_tools.execute(nb, workdir, timeout=300)
    return course_tools.explorer_report(nb)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=6, help="values per slider")
    args = parser.parse_args()
    ok = True
    print(
        f"{'notebook / explorer':<32} {'redraws':>8} {'median (ms)':>12} {'p90 (ms)':>9} "
        f"{'max (ms)':>9}  budget {BUDGET_S * 1000:.0f} ms"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for assignment in course_tools.assignments():
            path = course_tools.notebook_path(course_tools.ROOT / "solutions", assignment)
            if "widgets.Explorer(" not in path.read_text():
                continue
            for name, found in sweep_notebook(path, args.points, Path(tmp)).items():
                times = sorted(found["timings"])
                median = statistics.median(times)
                p90 = times[int(0.9 * (len(times) - 1))]
                verdict = "ok" if median <= BUDGET_S else "OVER"
                ok &= median <= BUDGET_S and not found["errors"]
                print(
                    f"{assignment + ' / ' + name:<32} {len(times):8d} {1000 * median:12.0f} "
                    f"{1000 * p90:9.0f} {1000 * times[-1]:9.0f}  {verdict}"
                )
                for error in found["errors"]:
                    print(f"    error: {error}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
