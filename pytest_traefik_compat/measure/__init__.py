"""Measurements, one concept a module: the machine-wide quiet lock and the conditions
of a series (``quiet``), container starts decomposed (``startup``), memory
(``memory``), HEALTHCHECK timing (``healthcheck``), metrics text (``metrics``), bounded
waits (``waiting``), the gateway's overhead (``overhead``), and the statistics and
budgets that judge them (``stats``, ``budgets``).

Must not import pytest, report or records; reaches the engine only through ``engine``.
Imports nothing itself, so that ``records`` can use ``stats`` without the engine.
"""
