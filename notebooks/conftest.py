"""pytest runs the notebooks through nbval (``--nbval-lax``), one kernel per notebook: with
pytest-xdist (``-n 2``) all cells of a notebook must go to one worker, so each notebook's cells
form one ``xdist_group`` (``--dist loadgroup``, set in pyproject.toml)."""

import pytest


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items):
    for item in items:
        if item.nodeid.endswith(".ipynb") or ".ipynb::" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
