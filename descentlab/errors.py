"""Which exceptions mean "bad usage or bad input" (exit 2) rather than a bug (exit 1).

Library code raises ``ValueError`` for a bad argument or a corrupt file,
``FileNotFoundError`` for a missing one, and ``UserError`` for anything else
the user can fix (an absent device, ...).
"""


class UserError(Exception):
    """Bad input the user can fix; the CLI prints the message and exits 2."""


USER_ERRORS = (UserError, ValueError, FileNotFoundError, NotADirectoryError, IsADirectoryError,
               PermissionError)
