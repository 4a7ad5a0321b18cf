"""Every option a notebook's parameters cell offers runs top to bottom in quick mode.

nbval runs each notebook with its defaults; here papermill runs it once more for each other value
a parameters line offers in a trailing comment, ``NAME = "default"  # or "other"`` (today: every
``DATASET = "fashion_mnist"  # or "mnist"``), so a learner who changes a parameter meets the
lesson, not an ``AssertionError``. The notebooks' asserts are the checks. Offline, MNIST comes
from ``python -m aelib offline-mnist`` (real digits, no download), as CI prepares it.
"""

import ast
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
OPTION_LINE = re.compile(r"^(?P<name>[A-Z_][A-Z0-9_]*)\s*=\s*(?P<default>[^#]+?)\s*#\s*or\s+(?P<others>.*)$")
LITERAL = re.compile(r'"[^"]*"|\'[^\']*\'|-?\d+(?:\.\d+)?(?:e-?\d+)?|True|False|None')


def offered_options(path):
    """(name, value) for every alternative value a parameters line offers."""
    cells = json.loads(path.read_text())["cells"]
    params = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    options = []
    for cell in params:
        for line in "".join(cell["source"]).splitlines():
            match = OPTION_LINE.match(line.strip())
            if not match:
                continue
            others = match["others"]
            # the literals at the start of the comment, separated by "or" or commas: '"a" or "b" (note)'
            values = []
            for token in re.split(r"\s*(?:,|\bor\b)\s*", others):
                literal = LITERAL.match(token.strip())
                if not literal or literal.end() != len(token.strip().split(" (")[0]):
                    break
                values.append(ast.literal_eval(literal[0]))
            options += [(match["name"], value) for value in values]
    return options


CASES = [(path, name, value) for path in NOTEBOOKS for name, value in offered_options(path)]


def test_options_are_found():
    """The parser sees the options the course offers (a renamed comment would silently drop them)."""
    assert ("DATASET", "mnist") in offered_options(NOTEBOOKS[3])
    assert len(CASES) >= 10


@pytest.mark.once
@pytest.mark.parametrize(("path", "name", "value"), CASES, ids=[f"{p.stem[:2]}-{n}={v}" for p, n, v in CASES])
def test_notebook_runs_with_each_offered_option(path, name, value, tmp_path):
    papermill = pytest.importorskip("papermill")
    if name == "DATASET" and value == "mnist":
        import aelib

        try:
            aelib.load_mnist(limit=10)
        except aelib.DatasetNotFoundError as e:
            pytest.skip(
                f"MNIST is not on this machine and cannot be downloaded; `python -m aelib offline-mnist` writes real digits: {e}"
            )
    papermill.execute_notebook(
        str(path),
        str(tmp_path / path.name),
        parameters={name: value},
        cwd=str(path.parent),
        progress_bar=False,
        log_output=False,
    )
