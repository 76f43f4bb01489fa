"""Course labs.

  lab new DIR                          hand out the exercises: one stub per update rule, and a README
  lab check EXERCISE [--path FILE]     grade one exercise file (default: EXERCISE.py here)
  lab check --all DIR                  grade every exercise file in DIR

lab check exits 0 when every check passes, 1 when one fails, 2 on bad input
(no such exercise, a file that does not import).
"""

HELP = "course labs: exercises and their grader"


def add_arguments(parser):
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    _add_new(actions)
    _add_check(actions)


def run(args):
    return args.action_run(args)


def _add_new(actions):
    new = actions.add_parser("new", help="copy the exercise stubs and a student README into DIR")
    new.add_argument("dir", metavar="DIR")
    new.set_defaults(action_run=_new)


def _new(args):
    from descentlab.labs.handout import new_lab

    written = new_lab(args.dir)
    print(f"wrote {len(written)} files to {args.dir}; start with {args.dir}/README.md")
    return 0


def _add_check(actions):
    from descentlab.cli.arguments import positive_float

    check = actions.add_parser(
        "check", help="grade exercise files against our optimizers, naming the likely mistake",
        description="Grade exercise files against descentlab's own optimizers on fixed and seeded "
                    "inputs (float64, several steps); a failed check names the mistake it matches.")
    check.add_argument("exercise", nargs="?", metavar="EXERCISE",
                       help="momentum, nesterov, adagrad, rmsprop, adam, diffgrad, step_decay, clip_grad_norm")
    check.add_argument("--path", metavar="FILE", help="the student's file (default: EXERCISE.py)")
    check.add_argument("--all", metavar="DIR", help="grade every exercise file in DIR")
    check.add_argument("--json", action="store_true", help="print a Gradescope-style results.json")
    check.add_argument("--timeout", type=positive_float, default=10.0, metavar="SECONDS",
                       help="time limit per exercise (default 10)")
    check.set_defaults(action_run=_check)


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
        reports = grader.grade({args.exercise: args.path or f"{args.exercise}.py"}, args.timeout)
    print(json.dumps(grader.gradescope(reports), indent=2) if args.json else grader.format_text(reports))
    for report in reports:
        if report.import_error:
            print(f"descentlab lab check: error: {report.path}: {report.hints()[0]}", file=sys.stderr)
    return grader.exit_code(reports)
