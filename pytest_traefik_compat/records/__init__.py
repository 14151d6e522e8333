"""The record model: one :class:`Record` per (base, check) with units, raw samples and
provenance, and the vocabulary of check, figure, sample and detail names (``checks``)
that the suite writes and the report reads.

Must not import pytest, engine, gobuild, gateway or report.
"""

from __future__ import annotations

from pytest_traefik_compat.records.record import Record

__all__ = ["Record"]
