"""The built-in compatibility suite: ``pytest --pyargs pytest_traefik_compat.suite``."""
