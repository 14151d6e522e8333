"""Measurements: timing series under a machine-wide quiet lock, container starts
decomposed into their parts, memory, TLS handshakes, metrics text, and the statistics
and budgets that judge them.

Must not import pytest, report or records; reaches the engine only through ``engine``.
"""
