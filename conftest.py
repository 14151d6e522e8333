"""Top-level conftest: pytester for the plugin's own tests.

The plugin itself arrives through its pytest11 entry point (``pip install -e .``).
"""

pytest_plugins = ["pytester"]
