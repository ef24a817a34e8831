"""Errors a user can fix (bad file, bad option, bad data): shown as a message, not a traceback."""


class UserError(Exception):
    """Something the user asked for cannot be done as asked; the message says what and where."""
