"""The course labs: loss landscapes, optimizer trajectories, curvature, the lecture experiments,
and the exercises with their grader.

  descentlab lab landscapes [--json]
  descentlab lab trajectories --landscape L --optimizers a,b [--steps N] [--start X,Y] [--lr NAME=V ...] --out DIR
  descentlab lab hessian --dataset D --model M [--checkpoint CKPT] [--json]
  descentlab lab list [--json]
  descentlab lab run NAME|all --out DIR [--fast]
  descentlab lab new DIR                        hand out the exercises (stubs, a README, the notebooks)
  descentlab lab check EXERCISE [--path FILE]   grade one exercise file or notebook (default: EXERCISE.py)
  descentlab lab check --all DIR                grade every exercise file in DIR
  descentlab lab autograder --out DIR           write a Gradescope autograder (then edit DIR/config.json, zip, upload)

lab check exits 0 when every check passes, 1 when one fails (or the file
reaches for an answer: an import of descentlab.optimizers.Adam,
torch.optim.Adam, ...), 2 on bad input (no such exercise, a file that does
not import or lacks the exercise's class). lab autograder exits 2 when DIR
exists (nothing is overwritten).

``lab run`` exits 1 when an experiment's claim does not hold in this run.
Each action is one entry of ``ACTIONS`` below (its help, a function adding
its arguments, a function running it); the work is done in ``descentlab.labs``.
"""

from descentlab.cli import arguments

HELP = "landscapes, trajectories, curvature, the lecture experiments, exercises and their grader"


def _start(text):
    """``X,Y`` as two floats (finite or not: the landscape says whether it is acceptable)."""
    import argparse

    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        return float(parts[0]), float(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Y (two numbers), got {text!r}") from None


def _json_flag(parser):
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _landscapes(args):
    from descentlab.cli.table import format_table, to_json
    from descentlab.labs import landscapes

    rows = landscapes.describe()
    if args.json:
        print(to_json(rows))
        return 0
    shown = [[r["name"], r["formula"], f"{r['xlim']} x {r['ylim']}", r["start"],
              "; ".join(f"({x:.4g}, {y:.4g})" for x, y in r["minima"]) or "none"] for r in rows]
    print(format_table(["name", "f", "frame", "default start", "minima"], shown))
    return 0


def _trajectories_args(parser):
    parser.add_argument("--landscape", required=True, help="see `descentlab lab landscapes`")
    parser.add_argument("--optimizers", required=True, type=arguments.name_list, help="a,b,c (registry names)")
    parser.add_argument("--steps", type=arguments.positive_int, default=200)
    parser.add_argument("--start", type=_start, metavar="X,Y",
                        help="default: the landscape's start; write --start=-1,2 when X is negative")
    parser.add_argument("--lr", type=arguments.lr_assignment, action="append", default=[], metavar="NAME=V",
                        help="learning rate of one optimizer (repeatable); otherwise the landscape's default "
                             "for its family (see docs/labs.md), else its registry default")
    parser.add_argument("--tol", type=arguments.positive_float, default=1e-3,
                        help="distance to the minimum that counts as reached (default 1e-3)")
    parser.add_argument("--no-gif", action="store_true", help="skip the animation")
    parser.add_argument("--out", required=True, help="output directory")


def _trajectories(args):
    from descentlab.labs import landscapes, trajectories

    land = landscapes.get(args.landscape)
    specs = trajectories.specs_from(args.optimizers, dict(args.lr), landscape=land)
    paths = trajectories.run(land, specs, start=args.start, steps=args.steps)
    result = trajectories.write(args.out, land, paths, tol=args.tol, gif=not args.no_gif)
    for p in result["paths"]:
        state = "diverged" if p["diverged"] else (
            f"left the frame at step {p['left_frame_at']}" if p["left_frame_at"] is not None else
            f"distance to minimum {p['distance_to_minimum']:.3g}" if p["distance_to_minimum"] is not None
            else f"loss {p['final_loss']:.4g}")
        lr = p["hparams"].get("lr")
        print(f"{p['label']}: {state}" + (f"  [lr {lr:g}: {p['lr_source']}]" if lr is not None else ""))
    print(f"wrote {args.out}/trajectories.png{'' if args.no_gif else ', .gif'}, .json")
    return 0


def _hessian_args(parser):
    parser.add_argument("--dataset", required=True, help="see `descentlab datasets`")
    parser.add_argument("--model", required=True, help="see `descentlab train --help`")
    parser.add_argument("--checkpoint", help="measure at this checkpoint's weights (default: initial weights)")
    parser.add_argument("--samples", type=arguments.positive_int, default=2048,
                        help="training examples the loss is taken over (default 2048)")
    parser.add_argument("--data-dir", help="directory holding the dataset files")
    _json_flag(parser)


def _hessian(args):
    from descentlab.cli.table import to_json
    from descentlab.labs import hessian

    r = hessian.model_curvature(args.dataset, args.model, checkpoint=args.checkpoint,
                                samples=args.samples, data_dir=args.data_dir)
    if args.json:
        print(to_json(r))
        return 0
    print(f"{args.model} on {args.dataset} ({r['samples']} examples, {r['parameters']} parameters, "
          f"loss {r['loss']:.4f}), Hessian by {r['method']}:")
    print(f"  lambda_max     {r['lambda_max']:.6g}   (power iteration: {r['lambda_max_power']:.6g}, "
          f"{r['power_iterations']} HVPs)")
    if r["lambda_min"] is not None:
        print(f"  lambda_min     {r['lambda_min']:.6g}")
        print(f"  kappa          {r['kappa']:.6g}{_kappa_reason(r)}")
        for name, count in r["null_explained"].items():
            if name != "together" and count:
                print(f"                   {count}: {name}")
        shared = sum(v for k, v in r["null_explained"].items() if k != "together") - r["null_explained"]["together"]
        unnamed = (r["null_directions"] or 0) - r["null_explained"]["together"]
        if shared:
            print(f"                   ({shared} directions are counted in both)")
        if unnamed:
            print(f"                   {unnamed}: others (e.g. units whose ReLU is off on every example)")
        if r["kappa"] == float("inf"):
            print(f"                 kappa over the positive eigenvalues (> 1e-10 lambda_max) = {r['kappa_nonzero']:.6g}")
    print(f"  alpha*         {r['alpha_star']:.6g}   (g'g / g'Hg: the best step along -g)")
    print(f"  lr < 2/lambda_max = {r['lr_bound']:.6g}")
    if r["alpha_star"] > r["lr_bound"]:
        print(f"  alpha* > 2/lambda_max: along g the curvature g'Hg/g'g = {r['curvature_along_g']:.4g} is far below\n"
              f"                 lambda_max = {r['lambda_max']:.4g}, so the best step along g is long; 2/lambda_max bounds a "
              f"fixed\n                 learning rate in the steepest direction, where a step of alpha* would diverge")
    return 0



def _kappa_reason(r):
    """Why kappa is infinite: directions of zero curvature, or of negative curvature."""
    reasons = []
    if r["null_directions"]:
        reasons.append(f"{r['null_directions']} directions of eigenvalue 0 (< 1e-10 lambda_max), "
                       "the loss flat along them")
    if r["negative_directions"]:
        reasons.append(f"{r['negative_directions']} of negative eigenvalue (not convex here)")
    return ": " + "; ".join(reasons) if reasons and r["kappa"] == float("inf") else ""


def _list(args):
    from descentlab.cli.table import format_table, to_json
    from descentlab.labs import experiments

    rows = experiments.describe()
    if args.json:
        print(to_json(rows))
        return 0
    print(format_table(["name", "claim", "lecture"], [[r["name"], r["title"], r["lecture"]] for r in rows]))
    return 0


def _run_args(parser):
    parser.add_argument("name", help="an experiment of `descentlab lab list`, or all")
    parser.add_argument("--out", required=True, help="output directory (all: one sub-directory each)")
    parser.add_argument("--fast", action="store_true", help="fewer steps and epochs (the claims still hold)")


def _run(args):
    import time

    from descentlab.labs import experiments

    def report(result):
        verdict = "claim holds" if result["claim_holds"] else "CLAIM FAILS"
        print(f"{result['experiment']}: {verdict} ({result['seconds']:.1f} s)", flush=True)

    began = time.perf_counter()
    if args.name == "all":
        results = experiments.run_all(args.out, fast=args.fast, on_done=report)
    else:
        results = [experiments.run(args.name, args.out, fast=args.fast)]
        report(results[0])
    print(f"wrote {args.out} in {time.perf_counter() - began:.1f} s")
    return 0 if all(r["claim_holds"] for r in results) else 1


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
    parser.add_argument("--path", metavar="FILE", help="the student's file, or the notebook they solved it in "
                        "(default: EXERCISE.py)")
    parser.add_argument("--all", metavar="DIR", help="grade every exercise file in DIR")
    parser.add_argument("--json", action="store_true", help="print Gradescope's results.json (1 point per check)")
    parser.add_argument("--timeout", type=arguments.positive_float, default=10.0, metavar="SECONDS",
                        help="time limit of the student's code, per exercise (default 10)")


def _check(args):
    import json
    import sys

    from descentlab.errors import UserError
    from descentlab.labs import feedback, gradescope, grader

    if (args.all is None) == (args.exercise is None):
        raise UserError("give either EXERCISE [--path FILE] or --all DIR")
    if args.all is not None:
        reports = grader.grade_directory(args.all, args.timeout)
    else:
        reports = grader.grade([(args.exercise, args.path or f"{args.exercise}.py")], args.timeout)
    print(json.dumps(gradescope.results(reports), indent=2) if args.json else feedback.format_text(reports))
    for report in reports:
        if report.import_error:
            print(f"descentlab lab check: error: {report.path}: {feedback.hints(report)[0]}", file=sys.stderr)
    return grader.exit_code(reports)


def _autograder_args(parser):
    parser.add_argument("--out", required=True, metavar="DIR", help="a new folder (it must not exist)")


def _autograder(args):
    from descentlab.labs import gradescope

    folder = gradescope.build(args.out)
    print(f"wrote {folder}: edit {folder}/config.json (points, visibility, hidden checks), then upload "
          f"the zip of its contents to Gradescope: cd {folder} && zip -r ../autograder.zip .")
    return 0


# name -> (help, add the action's arguments, run it)
ACTIONS = {
    "landscapes": ("list the 2-D loss landscapes", _json_flag, _landscapes),
    "trajectories": ("run optimizers on a landscape: PNG, GIF and JSON", _trajectories_args, _trajectories),
    "hessian": ("curvature of a model's loss: lambda_max, lambda_min, kappa, alpha*", _hessian_args, _hessian),
    "list": ("list the lecture experiments", _json_flag, _list),
    "run": ("run one lecture experiment, or all", _run_args, _run),
    "new": ("copy the exercise stubs, a student README and the notebooks into DIR", _new_args, _new),
    "check": ("grade exercise files against our optimizers, naming the likely mistake", _check_args, _check),
    "autograder": ("write a Gradescope autograder for the exercises (hidden checks, points, visibility)",
                   _autograder_args, _autograder),
}


def add_arguments(parser):
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, (help_text, add, run_action) in ACTIONS.items():
        action = sub.add_parser(name, help=help_text, description=help_text)
        add(action)
        action.set_defaults(run_action=run_action)


def run(args):
    if getattr(args, "out", None):
        from descentlab.io import check_writable_dir

        check_writable_dir(args.out)  # an --out that is a file or read-only fails before any work
    return args.run_action(args)
