"""``descentlab``: one sub-command per module of ``descentlab.cli.commands``.

Start-up imports only argparse and the command modules, which import torch,
OpenVINO and matplotlib inside ``run``: ``descentlab --help`` answers at once.

Exit codes: 0 success, 2 bad usage or bad input (one line
on stderr, no traceback), 1 internal failure.
"""

import argparse
import importlib
import pkgutil
import sys
import traceback

from . import commands

from descentlab.errors import USER_ERRORS

# The help lists sub-commands in the pipeline's order; any other module after them.
ORDER = ["compare", "train", "export", "infer", "bench", "optimizers", "datasets", "devices", "lab"]


def command_names():
    found = [m.name for m in pkgutil.iter_modules(commands.__path__)]
    return sorted(found, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, like every other bad input: the problem,
    then where to read the fix (argparse's default prints the whole usage first)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser():
    parser = OneLineParser(
        prog="descentlab",
        description="Teach and compare gradient-descent optimizers, from the lecture "
                    "formula to an OpenVINO model on Intel hardware.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in command_names():
        module = importlib.import_module(f"descentlab.cli.commands.{name}")
        command = sub.add_parser(name, help=module.HELP, description=module.__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except USER_ERRORS as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"descentlab {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"descentlab {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception:  # an internal failure: keep the traceback for the bug report
        traceback.print_exc()
        print(f"descentlab {args.command}: internal error (exit 1)", file=sys.stderr)
        return 1
