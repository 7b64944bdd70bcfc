"""One exception tree for tcomodel.

Every error a user can cause by editing a workbook or passing a CLI flag derives from
``TcoModelError``; the CLI turns those into exit status 2 with a message and never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class TcoModelError(Exception):
    """Base of every error tcomodel raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (sheet and cell, when there is one) and what."""

    sheet: str | None
    cell: str | None
    message: str

    @classmethod
    def at(cls, record, field: str, message: str, *, or_field: str | None = None) -> "Problem":
        """A problem at a workbook record's ``field`` (``record.cell(field)`` gives "Sheet!D7", or only the sheet
        when the column is absent). ``or_field`` names the cell to point at instead when ``field``'s column is
        absent (older workbooks)."""
        sheet, _, cell = record.cell(field).partition("!")
        if not cell and or_field is not None:
            cell = record.cell(or_field).partition("!")[2]
        return cls(sheet, cell or None, message)

    def location(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        if self.sheet:
            return self.sheet
        return "(file)"

    def __str__(self) -> str:
        if not self.sheet and not self.cell:
            return self.message  # a problem with the file itself
        return f"{self.location()}: {self.message}"


class InputError(TcoModelError):
    """One or more problems with an input workbook; ``problems`` lists every one found."""

    def __init__(self, problems: list[Problem] | Problem, path: str | None = None):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        self.path = path
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def at(cls, sheet: str | None, cell: str | None, message: str, path: str | None = None) -> "InputError":
        return cls([Problem(sheet, cell, message)], path=path)


class WorkbookFileError(InputError):
    """The file itself cannot be read as a scenario workbook (missing, wrong type, corrupt, encrypted)."""


class UsageError(TcoModelError):
    """A bad command-line or API argument (unknown id, value out of range)."""


class OutputError(TcoModelError):
    """A report could not be written (path not writable, file open elsewhere)."""


class RecalcError(TcoModelError):
    """LibreOffice is missing or failed to recalculate a workbook."""
