"""The project's own error type for bad user input.

A `SimInputError` is shown to the user as one line (file, field, what was found, what is
allowed) and makes the CLI exit with status 2, never with a traceback.
"""

from __future__ import annotations


class SimInputError(Exception):
    """Bad user input: a scenario, experiment, results folder or command-line value.

    Attributes name where the problem is so the message can point at it.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        field: str | None = None,
        found: object = None,
        allowed: str | None = None,
    ) -> None:
        self.file = file
        self.field = field
        self.found = found
        self.allowed = allowed
        self.detail = message
        super().__init__(self._render())

    def prefixed(self, prefix: str) -> SimInputError:
        """The same error with ``prefix`` before its message (same file, field, found,
        allowed), for a caller that knows the context the error arose in.
        """
        return SimInputError(
            f"{prefix}{self.detail}",
            file=self.file,
            field=self.field,
            found=self.found,
            allowed=self.allowed,
        )

    def _render(self) -> str:
        where = ": ".join(p for p in (self.file, self.field) if p)
        text = f"{where}: {self.detail}" if where else self.detail
        if self.found is not None:
            text += f" (found {self.found!r})"
        if self.allowed:
            text += f"; allowed: {self.allowed}"
        return text
