"""The course in a classroom (issue 20): every exercise is marked in nbgrader's format, the student
edition builds with ``nbgrader generate_assignment notebooks`` and holds no solution, every
autograded check needs the student's answer to pass and passed on the instructor's, the quick
questions point at real sections, and no committed output is on stderr.

Cheap by design (about 20 s): the student edition is built once (nbgrader does not execute
anything); whether a check fails on an unanswered cell is decided from the code (the student's
stub only raises, so the check runs in the state before the exercise, and it cannot pass there
if it needs a name that only the answer defines); whether it passes on the solution is read from
the committed full-mode run and is re-run in quick mode by nbval with every notebook.
"""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IDS = [p.stem[:2] for p in NOTEBOOKS]
QUESTIONS = sorted((ROOT / "notebooks" / "questions").glob("*.md"))
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.S)


def cells(path):
    return json.loads(path.read_text())["cells"]


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def grader(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def answer_region(text):
    return text.split(BEGIN, 1)[1].split(END, 1)[0]


def bound_names(code):
    """Names a cell binds at the top level of the notebook's namespace (assignments, loops,
    imports, definitions, with-as), skipping IPython's % lines."""
    code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def loaded_names(code):
    return {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def exercises(path):
    """(answer cell, its check cell or None, the code cells before the answer) per answer cell."""
    nb = cells(path)
    out = []
    for i, c in enumerate(nb):
        if grader(c).get("solution"):
            after = nb[i + 1] if i + 1 < len(nb) else None
            check = after if after is not None and grader(after).get("grade") and not grader(after).get("solution") else None
            out.append((c, check, [x for x in nb[:i] if x["cell_type"] == "code"]))
    return out


@pytest.fixture(scope="module")
def student_edition(tmp_path_factory):
    """The student edition, built as COURSE.md says, in a copy of notebooks/ (the repo stays clean)."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copy(ROOT / "nbgrader_config.py", root)
    cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", "notebooks", "--force"]
    run = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and "ERROR" not in run.stderr, run.stderr[-3000:]
    return root / "classroom" / "release" / "notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_exercise_is_marked_for_nbgrader(path):
    nb = cells(path)
    marked = [c for c in nb if grader(c)]
    ids = [grader(c)["grade_id"] for c in marked]
    assert len(ids) == len(set(ids)), f"grade_ids repeat: {ids}"
    assert all(grader(c).get("schema_version") == 3 for c in marked)
    coded = [c for c in nb if grader(c).get("solution") and c["cell_type"] == "code"]
    written = [c for c in nb if grader(c).get("solution") and c["cell_type"] == "markdown"]
    assert coded, "at least one coded exercise with an answer cell"
    assert written, "at least one conceptual exercise with a hand-graded written answer"
    for answer, check, _ in exercises(path):
        meta, text = grader(answer), source(answer)
        assert text.count(BEGIN) == 1 and text.count(END) == 1, f"{meta['grade_id']}: one answer region"
        assert answer_region(text).strip(), f"{meta['grade_id']}: the instructor's answer is empty"
        hidden = answer.get("metadata", {}).get("jupyter", {})
        assert hidden.get("source_hidden"), f"{meta['grade_id']}: the solution is collapsed"
        if answer["cell_type"] == "code":
            assert hidden.get("outputs_hidden"), f"{meta['grade_id']}: the solution's output is collapsed"
            assert not meta["grade"] and not meta["locked"]
            assert check is not None, f"{meta['grade_id']}: an autograded check cell right after the answer"
            cmeta = grader(check)
            assert cmeta["grade_id"] == meta["grade_id"] + "-check" and cmeta["locked"], cmeta
            assert isinstance(cmeta.get("points"), int) and cmeta["points"] > 0, cmeta
            assert "assert " in source(check), f"{cmeta['grade_id']} asserts something"
        else:
            assert meta["grade"] and isinstance(meta.get("points"), int) and meta["points"] > 0, meta


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_check_needs_the_answer_and_passed_on_the_solution(path):
    """An unanswered cell only raises NotImplementedError, so its check runs in the state before
    the exercise: it must load a name that only the answer binds, and then fails there with a
    NameError. On the instructor's answer it ran without error in the committed full-mode run."""
    for answer, check, before in exercises(path):
        if answer["cell_type"] != "code":
            continue
        gid = grader(check)["grade_id"]
        earlier = set().union(*(bound_names(source(c)) for c in before))
        new = bound_names(answer_region(source(answer))) - earlier
        needs = loaded_names(source(check)) & new
        assert needs, f"{gid} uses no name that only the answer defines: it could pass without an answer"
        namespace = {}
        with pytest.raises(NotImplementedError):
            exec("# YOUR CODE HERE\nraise NotImplementedError()", namespace)
        with pytest.raises(NameError):
            exec(HIDDEN.sub("", source(check)), namespace)
        assert isinstance(check.get("execution_count"), int), f"{gid} was run in the committed notebook"
        errors = [o for o in check.get("outputs", []) if o["output_type"] == "error"]
        assert not errors, f"{gid} failed in the committed run: {errors[0].get('evalue')}"


@pytest.mark.once  # runs nbgrader in a process of its own: once, in the TensorFlow test run
def test_the_student_edition_builds_without_solutions(student_edition):
    for path in NOTEBOOKS:
        released = student_edition / path.name
        assert released.exists(), f"no student edition of {path.name}"
        text = released.read_text()
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS"):
            assert marker not in text, f"{path.name}: {marker} left in the student edition"
        student = cells(released)
        assert not any(c.get("outputs") for c in student if c["cell_type"] == "code"), f"{path.name}: outputs left"
        # Every line of an answer that appears nowhere else in the instructor's notebook is gone.
        instructor = cells(path)
        public = "\n".join(HIDDEN.sub("", source(c)) for c in instructor if not grader(c).get("solution"))
        for c in instructor:
            if grader(c).get("solution"):
                for line in answer_region(source(c)).splitlines():
                    line = line.strip()
                    if len(line) > 12 and line not in public:
                        assert line not in text, f"{path.name} {grader(c)['grade_id']}: solution line left: {line}"
        answers = [c for c in student if grader(c).get("solution")]
        assert len(answers) == sum(1 for c in instructor if grader(c).get("solution"))
        for c in answers:
            stub = "raise NotImplementedError()" if c["cell_type"] == "code" else "YOUR ANSWER HERE"
            assert stub in source(c), f"{path.name} {grader(c)['grade_id']}: no stub"
            assert not c["metadata"].get("jupyter", {}).get("source_hidden"), "a student's answer cell opens"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_committed_output_is_on_stderr(path):
    for i, c in enumerate(cells(path)):
        for out in c.get("outputs", []):
            assert out.get("name") != "stderr", f"cell {i} printed to stderr: {''.join(out.get('text', ''))[:200]}"


@pytest.mark.once  # a fresh process, on TensorFlow
def test_importing_aelib_prints_nothing_on_stderr():
    """TensorFlow logs its oneDNN banner through absl before anything can configure it, whatever
    TF_CPP_MIN_LOG_LEVEL says; aelib sets TensorFlow's switches before Keras loads it."""
    code = "import aelib, keras; keras.ops.sum(keras.ops.ones((4, 4)))"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0 and run.stderr == "", run.stderr[-2000:]


def anchors(path):
    """The anchors Jupyter gives the Markdown headings of a notebook: spaces become dashes."""
    return {
        re.sub(r"\s+", "-", m.group(1).strip())
        for c in cells(path)
        if c["cell_type"] == "markdown"
        for m in re.finditer(r"^#+ (.+)$", source(c), re.M)
    }


def test_quick_questions_cover_the_four_parts_with_hidden_answers_and_pointers():
    assert len(QUESTIONS) == 4, QUESTIONS
    for path in QUESTIONS:
        text = path.read_text()
        questions = re.split(r"^### ", text, flags=re.M)[1:]
        assert 8 <= len(questions) <= 12, f"{path.name}: {len(questions)} questions"
        for q in questions:
            title = q.splitlines()[0]
            assert "<details><summary>Answer</summary>" in q and "</details>" in q, f"{path.name}: {title}: hidden answer"
            links = re.findall(r"\]\(\.\./(\d\d_\w+\.ipynb)#([^)]+)\)", q)
            assert links, f"{path.name}: {title}: a pointer to the section that teaches it"
            for name, anchor in links:
                assert (ROOT / "notebooks" / name).exists(), name
                assert unquote(anchor) in anchors(ROOT / "notebooks" / name), (
                    f"{path.name}: {title}: no section {anchor} in {name}"
                )


def test_the_syllabus_covers_every_notebook():
    course = (ROOT / "COURSE.md").read_text()
    assert "(COURSE.md)" in (ROOT / "README.md").read_text(), "the README links COURSE.md"
    for path in NOTEBOOKS:
        assert f"notebooks/{path.name}" in course, f"COURSE.md does not list {path.name}"
    assert "nbgrader generate_assignment notebooks" in course and "nbgrader autograde" in course
