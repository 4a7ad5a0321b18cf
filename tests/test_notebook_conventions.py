"""The course's house rules, checked on the committed notebooks without running them (nbval runs
them): a tagged parameters cell with the quick-mode switch, an opening that says what the reader
will learn, exercises (one of them conceptual) with hidden solutions, asserted claims, figures
quoted from the run through ``aelib.say`` rather than typed into Markdown, and committed outputs
from a clean top-to-bottom run: no errors, no template placeholders, no object reprs, no wall of
output, no paths of the author's machine."""

import json
import re
from pathlib import Path

import pytest

from benchmarks import words

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MACHINE_PATH = re.compile(r"(?:^|[\s'\"(])/(?:home|root|tmp|work|Users)/\w")
OBJECT_REPR = re.compile(r"<[\w.]+ (?:object )?at 0x[0-9a-f]+>")
MAX_OUTPUT_LINES = 25
# Figures with three or more significant digits that may stand in Markdown: fixed facts, not
# results of the run (a published figure, a constant), per notebook.
FIXED_FACTS = {"*": {"3.14159"}}
RESULT_LIKE = re.compile(r"(?<![\w.])(\d+\.\d+)(?![\w.])")


def cells(path):
    return json.loads(path.read_text())["cells"]


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def output_text(out):
    text = out.get("text", "")
    data = out.get("data", {})
    return "".join(text) + "".join(data.get("text/plain", "")) + "".join(data.get("text/markdown", ""))


def significant_digits(number):
    return len(number.replace(".", "").lstrip("0"))


def prose(markdown):
    """Markdown without fenced code, inline code and LaTeX (where numbers are definitions)."""
    markdown = re.sub(r"```.*?```", "", markdown, flags=re.S)
    markdown = re.sub(r"`[^`]*`", "", markdown)
    return re.sub(r"\$\$.*?\$\$|\$[^$]*\$", "", markdown, flags=re.S)


def test_the_course_is_there():
    assert len(NOTEBOOKS) >= 11


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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_what_a_reader_sees_is_what_the_run_computed(path):
    """No placeholder, no object repr and no wall of output."""
    for i, c in enumerate(cells(path)):
        if c["cell_type"] == "markdown":
            assert "{{" not in source(c), f"cell {i}: a template placeholder in the prose"
            continue
        outputs = c.get("outputs", [])
        for out in outputs:
            text = output_text(out)
            assert "{{" not in text, f"cell {i}: a template placeholder in the output"
            assert not OBJECT_REPR.search(text), f"cell {i} shows an object repr: {OBJECT_REPR.search(text)[0]}"
        lines = sum(output_text(o).count("\n") for o in outputs if o["output_type"] == "stream")
        assert lines <= MAX_OUTPUT_LINES, f"cell {i} prints {lines} lines (at most {MAX_OUTPUT_LINES}): show one live line"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_figures_are_bound_to_the_run_and_solutions_hidden(path):
    nb = cells(path)
    code = [c for c in nb if c["cell_type"] == "code"]
    said = [c for c in code if "aelib.say(" in source(c)]
    assert len(said) >= 3, "figures quoted from the run are rendered with aelib.say"
    for c in said:
        assert any("text/markdown" in o.get("data", {}) for o in c["outputs"]), "aelib.say cells show their Markdown"

    allowed = FIXED_FACTS["*"] | FIXED_FACTS.get(path.stem, set())
    for i, c in enumerate(nb):
        if c["cell_type"] != "markdown":
            continue
        typed = [n for n in RESULT_LIKE.findall(prose(source(c))) if significant_digits(n) >= 3 and n not in allowed]
        assert not typed, f"cell {i}: figures typed into Markdown {typed}: render them from the run with aelib.say"

    # Exercises in nbgrader's format (tests/test_classroom.py checks the markup in full).
    solution_code = [c for c in code if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    assert solution_code, "solutions run as code, in nbgrader answer cells"
    for c in solution_code:
        hidden = c.get("metadata", {}).get("jupyter", {})
        assert hidden.get("source_hidden") and hidden.get("outputs_hidden"), "solution code and output collapsed"
    exercises = "\n".join(source(c) for c in nb if c["cell_type"] == "markdown" and re.search(r"exercise", source(c), re.I))
    assert re.search(r"derive|show that|explain|why", exercises, re.I), "a conceptual or derivation exercise"


def test_the_readme_lists_every_notebook_with_its_measured_time():
    """The README's course index links every notebook and quotes its full-mode time from
    benchmarks/notebook_times.json (python -m benchmarks.notebook_times): at most 8 minutes each
    and 60 minutes for the course."""
    root = NOTEBOOKS[0].parents[1]
    readme = (root / "README.md").read_text()
    index = readme.split("<!-- course-index -->")[1].split("<!-- /course-index -->")[0]
    times = json.loads((root / "benchmarks" / "notebook_times.json").read_text())
    for path in NOTEBOOKS:
        row = next((line for line in index.splitlines() if f"(notebooks/{path.name})" in line), None)
        assert row, f"README course index has no row for {path.name}"
        assert "full" in times.get(path.stem, {}), f"no full-mode time for {path.stem}: run python -m benchmarks.notebook_times"
        minutes = times[path.stem]["full"] / 60
        assert minutes <= 8, f"{path.stem} takes {minutes:.1f} min in full mode (at most 8)"
        assert f"| {minutes:.1f} |" in row, f"README row of {path.name} should quote {minutes:.1f} min: {row}"
    total = sum(times[p.stem]["full"] for p in NOTEBOOKS) / 60
    assert total <= 60, f"the course takes {total:.0f} min in full mode (at most 60)"


# ---- issue 19: fewer words, most of them written, a picture of every idea ----------------------
DIAGRAM = re.compile(r"!\[[^\]]+\]\((figures/[^)\s]+\.(?:png|svg))\)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_prose_is_short_mostly_written_and_says_no_asserted(path):
    """At most 2,500 words of prose (Markdown cells and the Markdown the code renders), at most
    15% of them generated, and no "(asserted ...)" asides: the assert in the code is the guarantee.
    ``python -m benchmarks.words`` prints the table."""
    written, generated = words.count(path)
    assert written + generated <= words.MAX_WORDS, f"{written + generated:,} words of prose (at most {words.MAX_WORDS:,})"
    share = generated / max(1, written + generated)
    assert share <= words.MAX_GENERATED, f"{share:.0%} of the prose is generated (at most {words.MAX_GENERATED:.0%})"
    for i, c in enumerate(cells(path)):
        texts = [source(c)] if c["cell_type"] == "markdown" else [output_text(o) for o in c.get("outputs", [])]
        assert not any("(asserted" in t for t in texts), f"cell {i}: '(asserted ...)' in the prose"


def test_the_course_is_at_most_32000_words():
    total = sum(sum(words.count(p)) for p in NOTEBOOKS)
    assert total <= words.MAX_COURSE, f"the course has {total:,} words of prose (at most {words.MAX_COURSE:,})"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_a_concept_diagram_is_shown_from_markdown(path):
    """At least one diagram of the notebook's idea, a file under notebooks/figures/ named for the
    notebook (``NN_*.png`` or ``.svg``) and shown from Markdown, so it renders in Jupyter and on a
    code host alike."""
    shown = [m for c in cells(path) if c["cell_type"] == "markdown" for m in DIAGRAM.findall(source(c))]
    mine = [f for f in shown if Path(f).name.startswith(path.stem[:3])]
    assert mine, f"no diagram figures/{path.stem[:3]}*.png|svg shown from a Markdown cell"
    for f in mine:
        assert (path.parent / f).is_file(), f"{f} is shown but not in the repository"


def test_no_lambda_layers_in_the_course_library_or_benchmarks():
    """Keras' conventions: a custom layer (registered, with get_config) or keras.ops in the functional graph, never a
    ``Lambda`` layer, which cannot be reloaded with ``safe_mode=True``."""
    root = Path(__file__).resolve().parents[1]
    files = [*root.glob("aelib/**/*.py"), *root.glob("benchmarks/**/*.py"), *NOTEBOOKS]
    code = {
        p: "\n".join(source(c) for c in cells(p) if c["cell_type"] == "code") if p.suffix == ".ipynb" else p.read_text()
        for p in files
    }
    assert [p.name for p, text in code.items() if re.search(r"\bLambda\(", text)] == []
