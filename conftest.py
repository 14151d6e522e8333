"""Top-level conftest, deliberately empty.

The plugin arrives through its pytest11 entry point (``pip install -e .``); pytester
is loaded by ``-p pytester`` in pyproject's addopts. No ``pytest_plugins`` here: with
an editable install, ``--traefik-suite`` in another directory collects
``pytest_traefik_compat/suite`` from this checkout, and pytest refuses
``pytest_plugins`` in a conftest that is not at the top of *that* run.
"""
