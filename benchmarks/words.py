"""Words of prose per notebook: what a learner reads, and how much of it the code generated.

Counts words made of letters in Markdown cells (written) and in the Markdown that code cells
render (generated: ``aelib.say`` and tables), with math, code, HTML tags and link targets left
out. Prints one table row per notebook and the course total::

    python -m benchmarks.words            # the table
    python -m benchmarks.words --check    # exit 1 if a limit is broken

Limits (issue 19): at most 2,500 words a notebook, 32,000 for the course, and at most 15% of a
notebook's words generated.
"""

import argparse
import json
import re
import sys
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
MAX_WORDS, MAX_COURSE, MAX_GENERATED = 2500, 32000, 0.15
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def _text(value):
    return "".join(value) if isinstance(value, list) else value


def prose(markdown):
    """Markdown without code, math, HTML tags, images and link targets."""
    markdown = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    markdown = re.sub(r"`[^`]*`", " ", markdown)
    markdown = re.sub(r"\$\$.*?\$\$|\$[^$\n]*\$", " ", markdown, flags=re.S)
    markdown = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", markdown)  # images: alt text is not read as prose
    markdown = re.sub(r"\]\([^)]*\)", "]", markdown)  # link targets
    return re.sub(r"<[^>]+>", " ", markdown)


def words(markdown):
    return len(WORD.findall(prose(markdown)))


def count(path):
    """(written, generated) words of one notebook."""
    cells = json.loads(Path(path).read_text())["cells"]
    written = sum(words(_text(c["source"])) for c in cells if c["cell_type"] == "markdown")
    generated = 0
    for c in cells:
        for out in c.get("outputs", []) if c["cell_type"] == "code" else []:
            markdown = out.get("data", {}).get("text/markdown")
            if markdown is not None:
                generated += words(_text(markdown))
    return written, generated


def table(paths):
    rows, problems = [], []
    total = 0
    for path in paths:
        written, generated = count(path)
        n = written + generated
        share = generated / n if n else 0.0
        total += n
        flags = []
        if n > MAX_WORDS:
            flags.append(f"over {MAX_WORDS:,}")
        if share > MAX_GENERATED:
            flags.append(f"generated over {MAX_GENERATED:.0%}")
        problems += [f"{path.stem}: {f}" for f in flags]
        rows.append(f"| {path.stem} | {written:,} | {generated:,} | {n:,} | {share:.0%} | {', '.join(flags) or 'ok'} |")
    if total > MAX_COURSE:
        problems.append(f"course: {total:,} words, over {MAX_COURSE:,}")
    head = ["| notebook | written | generated | words | generated share | limits |", "| --- | ---: | ---: | ---: | ---: | --- |"]
    rows.append(f"| **course** | | | **{total:,}** | | {'over' if total > MAX_COURSE else 'ok'} (at most {MAX_COURSE:,}) |")
    return "\n".join(head + rows), problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks (default: the course)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a limit is broken")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    text, problems = table(paths)
    print(text)
    if problems:
        print("\n".join(["", "Over the limits:"] + [f"- {p}" for p in problems]))
    return 1 if args.check and problems else 0


if __name__ == "__main__":
    sys.exit(main())
