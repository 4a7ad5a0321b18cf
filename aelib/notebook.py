"""Prose bound to results: a notebook sentence that quotes a figure is built from the variable
that holds it, so what a reader sees is what the cells computed, in quick and in full mode.

    aelib.say(f"The test negative ELBO is **{neg_elbo:.1f} nats** per image.")

renders that Markdown as the cell's output (in Jupyter, and on a code host that shows saved
outputs). Fixed facts (a definition, a paper's figure) stay in plain Markdown cells.
"""

import textwrap

__all__ = ["say"]


def say(text):
    """Display ``text`` (Markdown, usually an f-string of computed values) as the cell's output.

    Outside IPython it prints the text. Returns nothing, so the cell shows no repr.
    """
    text = textwrap.dedent(text).strip()
    if "{{" in text:
        raise ValueError("say() got a template placeholder ({{...}}); pass an f-string with the computed values.")
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:
        print(text)
        return
    if get_ipython() is None:
        print(text)
    else:
        display(Markdown(text))
