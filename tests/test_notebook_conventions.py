"""The course's house rules, checked on the committed notebooks without running them (nbval runs
them): a tagged parameters cell with the quick-mode switch, an opening that says what the reader
will learn, exercises with solutions, assertions of the claims, and committed outputs from a
clean top-to-bottom run with no errors and no paths of the author's machine."""
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MACHINE_PATH = re.compile(r"(?:^|[\s'\"(])/(?:home|root|tmp|work|Users)/\w")


def cells(path):
    return json.loads(path.read_text())["cells"]


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_the_course_is_there():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_follows_the_house_rules(path):
    nb = cells(path)
    code = [c for c in nb if c["cell_type"] == "code"]
    markdown = "\n".join(source(c) for c in nb if c["cell_type"] == "markdown")

    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, "one code cell tagged 'parameters'"
    assert 'os.environ.get("AELIB_QUICK") == "1"' in source(params[0])

    assert re.search(r"what you will learn", markdown, re.I), "opens with what the reader will learn"
    assert re.search(r"^#+ .*exercises", markdown, re.I | re.M), "has an Exercises section"
    assert re.search(r"solution", markdown + "".join(source(c) for c in code), re.I), "exercises have solutions"
    assert sum(source(c).count("assert ") for c in code) >= 3, "claims are asserted"

    counts = [c.get("execution_count") for c in code]
    assert all(isinstance(n, int) for n in counts), "committed executed"
    assert counts == sorted(counts) and len(set(counts)) == len(counts), "executed top to bottom once"
    for c in code:
        for out in c.get("outputs", []):
            assert out["output_type"] != "error", f"error output committed: {out.get('ename')}"
            text = json.dumps(out.get("text", "")) + json.dumps(out.get("data", {}).get("text/plain", ""))
            assert not MACHINE_PATH.search(text), f"output shows a path of the author's machine: {text[:200]}"
    assert any("image/png" in out.get("data", {}) for c in code for out in c.get("outputs", [])), "shows figures"
