"""Errors that end a run with exit status 2 and one clear line, never a traceback."""


class PgauditError(Exception):
    """The audit could not run: bad input, unreachable server, unwritable output."""
