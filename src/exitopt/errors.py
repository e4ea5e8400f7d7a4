"""Errors an analyst can act on, each with its own process exit code.

The CLI turns every one of these into a single paragraph on stderr and exits with
``exit_code``; nothing below the CLI prints or exits.
"""

from __future__ import annotations

#: every exit code of the ``exitopt`` command, in one place (README: "Exit codes")
EXIT_DONE = 0
EXIT_INTERNAL = 1  # a fault in exitopt
EXIT_BAD_INPUT = 2
EXIT_INFEASIBLE = 3
EXIT_LIMIT = 4  # the time limit: the best plan found is written, if any
EXIT_OUTPUT = 5
EXIT_VIOLATIONS = 6  # `exitopt check`: the plan breaks rules
EXIT_INTERRUPTED = 130  # Ctrl-C


class ExitoptError(Exception):
    """Base class: a message meant for the person who runs exitopt."""

    exit_code = EXIT_INTERNAL


class InputError(ExitoptError):
    """A scenario, unit table or plan file is wrong. Exit code 2."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, file: object | None = None) -> None:
        self.file = str(file) if file is not None else None
        text = f"{self.file}: {message}" if self.file else message
        super().__init__(text)


class InfeasibleError(ExitoptError):
    """No plan meets every rule. Exit code 3; carries the diagnosis."""

    exit_code = EXIT_INFEASIBLE

    def __init__(self, message: str, diagnosis: object | None = None, *, instance: object | None = None) -> None:
        self.diagnosis = diagnosis
        self.instance = instance  # the instance diagnosed: its rules' Chinese names name them in Chinese
        super().__init__(message)


class LimitReached(ExitoptError):
    """The solver stopped at a time or node limit. Exit code 4."""

    exit_code = EXIT_LIMIT


class OutputError(ExitoptError):
    """The output folder cannot be written (exists, not empty, no permission). Exit code 5."""

    exit_code = EXIT_OUTPUT
