"""Keep the repeated blocks of the family files equal to their sources.

Every family file in ``aelib/builders/`` stands alone (it imports only keras, numpy and the standard library),
so code that several families need is repeated on purpose, as Hugging Face ``transformers`` does. A repeated
top-level function, class or constant is marked on the line just above it (above its decorators)::

    # Copied from aelib.builders.base.check_shape
    def check_shape(input_shape, ranks, what):
        ...

and must equal, line for line, the definition of that name in that module. Usage::

    python -m aelib.copies --check   # list every copy that differs from its source (exit 1), as CI does
    python -m aelib.copies --fix     # rewrite those copies from their sources
"""

import argparse
import ast
import re
import sys
from pathlib import Path

MARKER = re.compile(r"^# Copied from (aelib(?:\.\w+)+)\.(\w+)\s*$")
ROOT = Path(__file__).resolve().parent.parent


def _definitions(path):
    """{name: (first line, last line)} (1-based, decorators included) of the top-level definitions of a file."""
    spans = {}
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            spans[node.name] = (first, node.end_lineno)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    spans[target.id] = (first, node.end_lineno)
    return spans


def find_copies(root=ROOT):
    """Every marked copy under ``root/aelib/builders``: (file, marker line, name, source file, problem or None).

    ``problem`` says why the copy does not match: no definition follows the marker, the source is missing, or
    the text differs (with the first differing line)."""
    found, parsed = [], {}

    def definitions(path):  # each file read and parsed once per call
        if path not in parsed:
            parsed[path] = _definitions(path), path.read_text().splitlines()
        return parsed[path]

    for path in sorted((Path(root) / "aelib" / "builders").glob("*.py")):
        names, lines = definitions(path)
        spans = {first: (name, last) for name, (first, last) in names.items()}
        for i, line in enumerate(lines, start=1):
            match = MARKER.match(line)
            if not match:
                continue
            module, name = match.groups()
            source = Path(root).joinpath(*module.split(".")).with_suffix(".py")
            problem = None
            if i + 1 not in spans or spans[i + 1][0] != name:
                problem = f"the line after the marker does not start the definition of {name}"
            elif not source.exists() or name not in definitions(source)[0]:
                problem = f"{module}.{name} does not exist"
            else:
                source_spans, source_lines = definitions(source)
                first, last = source_spans[name]
                want = source_lines[first - 1 : last]
                have = lines[i : spans[i + 1][1]]
                if want != have:
                    k = next((j for j, (a, b) in enumerate(zip(want, have)) if a != b), min(len(want), len(have)))
                    problem = f"differs from {module}.{name} at its line {k + 1}"
            found.append((path, i, name, source, problem))
    return found


def fix(root=ROOT):
    """Rewrite every copy that differs from its source; returns the number rewritten (copies of copies
    converge when run again, which :func:`main` does until nothing changes)."""
    fixed = 0
    for path, marker, name, source, problem in reversed(find_copies(root)):  # bottom-up: line numbers stay valid
        if problem is None or "differs" not in problem:
            continue
        first, last = _definitions(source)[name]
        new = source.read_text().splitlines()[first - 1 : last]
        lines = path.read_text().splitlines()
        end = {first: last for first, last in _definitions(path).values()}[marker + 1]
        path.write_text("\n".join(lines[:marker] + new + lines[end:]) + "\n")
        fixed += 1
    return fixed


def table(root=ROOT):
    """The README's table of family files: each file's lines, and how many of them are marked copies."""
    rows = ["| family file | builder(s) | lines | of which copied |", "| --- | --- | --- | --- |"]
    found = find_copies(root)
    for path in sorted((Path(root) / "aelib" / "builders").glob("*.py")):
        if path.stem in ("__init__", "base"):
            continue
        spans = _definitions(path)
        marked = [n for p_, _, n, _, _ in found if p_ == path]
        copied = sum(spans[n][1] - spans[n][0] + 2 for n in marked)  # the marker line and the definition
        builders = [n for n in spans if n.endswith(("_autoencoder", "_prior")) and not n.startswith("_")]
        lines = len(path.read_text().splitlines())
        rows.append(f"| `aelib/builders/{path.name}` | {', '.join(f'`{b}`' for b in builders)} | {lines} | {copied} |")
    return "\n".join(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m aelib.copies", description=__doc__.split("\n\n")[0])
    parser.add_argument("--fix", action="store_true", help="rewrite the copies that differ from their sources")
    parser.add_argument("--check", action="store_true", help="only report (the default)")
    parser.add_argument("--root", default=str(ROOT), help="the repository root (default: this checkout)")
    parser.add_argument("--table", action="store_true", help="print the README's table of family files and their lines")
    args = parser.parse_args(argv)
    if args.table:
        print(table(args.root))
        return 0
    if args.fix:
        for _ in range(5):
            if not fix(args.root):
                break
    copies = find_copies(args.root)
    bad = [c for c in copies if c[4]]
    for path, line, name, _, problem in bad:
        print(f"{Path(path).relative_to(args.root)}:{line}: {name} {problem}")
    print(f"{len(copies)} copies checked, {len(bad)} differ" + ("; run python -m aelib.copies --fix" if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
