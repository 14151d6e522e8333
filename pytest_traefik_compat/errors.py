"""Errors that end a run with one clear line instead of a traceback."""

from __future__ import annotations


class CompatError(Exception):
    """A failure the user can fix; str() is a single line naming the fix."""

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        # Multi-line context (log tails, compiler output) shown below the line.
        self.detail = detail

    def __str__(self) -> str:
        return self.message if not self.detail else f"{self.message}\n{self.detail}"


class BuildError(CompatError):
    """A base image, Go binary or service image could not be built."""


class StackError(CompatError):
    """A container stack did not come up; detail carries the log tails."""
