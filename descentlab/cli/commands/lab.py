"""The course labs: exercises and their grader.

  descentlab lab new DIR                        hand out the exercises (stubs, a README, the notebooks)
  descentlab lab check EXERCISE [--path FILE]   grade one exercise file (default: EXERCISE.py)
  descentlab lab check --all DIR                grade every exercise file in DIR

lab check exits 0 when every check passes, 1 when one fails, 2 on bad input
(no such exercise, a file that does not import).

Each action is one entry of ``ACTIONS`` below and two functions (its
arguments, its run); the work is done in ``descentlab.labs``.
"""

from descentlab.cli import arguments

HELP = "course labs: exercises and their grader"


def _new_args(parser):
    parser.add_argument("dir", metavar="DIR", help="a new folder for the student")


def _new(args):
    from descentlab.labs.handout import new_lab

    written = new_lab(args.dir)
    print(f"wrote {len(written)} files to {args.dir}; start with {args.dir}/README.md")
    return 0


def _check_args(parser):
    parser.add_argument("exercise", nargs="?", metavar="EXERCISE",
                        help="momentum, nesterov, adagrad, rmsprop, adam, diffgrad, step_decay or clip_grad_norm")
    parser.add_argument("--path", metavar="FILE", help="the student's file (default: EXERCISE.py)")
    parser.add_argument("--all", metavar="DIR", help="grade every exercise file in DIR")
    parser.add_argument("--json", action="store_true", help="print a Gradescope-style results.json")
    parser.add_argument("--timeout", type=arguments.positive_float, default=10.0, metavar="SECONDS",
                        help="time limit of the student's code, per exercise (default 10)")


def _check(args):
    import json
    import sys

    from descentlab.errors import UserError
    from descentlab.labs import grader

    if (args.all is None) == (args.exercise is None):
        raise UserError("give either EXERCISE [--path FILE] or --all DIR")
    if args.all is not None:
        reports = grader.grade_directory(args.all, args.timeout)
    else:
        reports = grader.grade([(args.exercise, args.path or f"{args.exercise}.py")], args.timeout)
    print(json.dumps(grader.gradescope(reports), indent=2) if args.json else grader.format_text(reports))
    for report in reports:
        if report.import_error:
            print(f"descentlab lab check: error: {report.path}: {report.hints()[0]}", file=sys.stderr)
    return grader.exit_code(reports)


# name -> (help, add the action's arguments, run it)
ACTIONS = {
    "new": ("copy the exercise stubs, a student README and the notebooks into DIR", _new_args, _new),
    "check": ("grade exercise files against our optimizers, naming the likely mistake", _check_args, _check),
}


def add_arguments(parser):
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, (help_text, add, run_action) in ACTIONS.items():
        action = sub.add_parser(name, help=help_text, description=help_text)
        add(action)
        action.set_defaults(run_action=run_action)


def run(args):
    return args.run_action(args)
