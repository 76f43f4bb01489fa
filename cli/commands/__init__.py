"""One module per ``descentlab`` sub-command.

Each module has ``HELP`` (one line), a docstring (the command's description),
``add_arguments(parser)`` and ``run(args) -> exit code``. Heavy imports go
inside ``run``.
"""
