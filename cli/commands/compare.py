"""The main job: train one model per optimizer from the same initial weights and the
same data order, export each to OpenVINO IR (fp32, fp16, int8), score each on the
chosen OpenVINO device (the FP32 IR also as the device runs it by default: native),
and write results.json, report.md, report.html (the same, one file for a browser) and plots into --out.

On several processes or machines, each (optimizer, seed) run on one rank, rank 0
gathering the results:
  torchrun --nproc-per-node 2 -m descentlab compare --out DIR

With no options: every optimizer on the embedded 8x8 digits with an MLP, a few
minutes on 2 CPU cores. The serious run (three seeds: optimizers are compared over seeds):
  descentlab compare --dataset fashion-mnist --model cnn --epochs 5 --batch-size 128 --seeds 0,1,2
"""

import argparse

from descentlab.cli import arguments

HELP = "train one model per optimizer, export to OpenVINO, report who wins"


def add_arguments(parser):
    from descentlab.compare.settings import DEFAULT_PRECISIONS, PRECISIONS, CompareConfig
    from descentlab.train.precision import PRECISIONS as TRAIN_PRECISIONS

    d = CompareConfig()
    parser.add_argument("--dataset", default=d.dataset, help=f"default {d.dataset}")
    parser.add_argument("--model", default=d.model,
                        help=f"a zoo model (default {d.model}) or your own, package.module:factory: "
                             "factory(input_shape, num_classes, seed) -> torch.nn.Module")
    parser.add_argument("--model-option", type=arguments.assignment, action="append", default=[],
                        metavar="NAME=VALUE", help="a model option, e.g. variant=fmnist_2c2d (repeatable)")
    parser.add_argument("--optimizers", type=arguments.name_list, default=(), metavar="A,B,C",
                        help="registry names (default: all)")
    parser.add_argument("--optimizer-file", action="append", default=[], metavar="FILE:Class",
                        help="your own optimizer class (a torch.optim.Optimizer subclass) from a .py file, "
                             "compared beside the others (repeatable); it runs as its class name lower-cased, "
                             "or student-NAME where that is a registry name (a student's Adam: student-adam); "
                             "its hyperparameters are its constructor's defaults, --lr NAME=V sets its lr")
    parser.add_argument("--epochs", type=arguments.positive_int, default=d.epochs,
                        help=f"default {d.epochs}")
    parser.add_argument("--batch-size", type=arguments.batch_size, default=d.batch_size, metavar="B|full",
                        help=f"default {d.batch_size}")
    parser.add_argument("--seeds", type=arguments.int_list, default=d.seeds, metavar="0,1,2",
                        help="one run per seed; mean ± std, 95 %% interval and paired tests over them (default 0,1,2)")
    parser.add_argument("--lr", type=arguments.lr_assignment, action="append", default=[],
                        metavar="NAME=VALUE", help="learning rate of one optimizer (repeatable)")
    parser.add_argument("--tune-lr", action="store_true",
                        help="search each optimizer's lr on the validation set first")
    parser.add_argument("--tune-epochs", type=arguments.positive_int, default=d.tune_epochs,
                        help=f"epochs per lr trial (default {d.tune_epochs})")
    parser.add_argument("--schedule", help="learning-rate schedule for every run")
    parser.add_argument("--schedule-option", type=arguments.assignment, action="append", default=[],
                        metavar="NAME=VALUE")
    parser.add_argument("--clip-norm", type=arguments.positive_float, help="clip gradients to this global norm")
    parser.add_argument("--device", default=d.device, help="OpenVINO device (default CPU)")
    parser.add_argument("--train-device", default=d.train_device,
                        help="torch device that trains the runs: cpu (default) or cuda")
    parser.add_argument("--train-precision", choices=TRAIN_PRECISIONS, default=d.train_precision,
                        help="the arithmetic of training: fp32, bf16 (autocast; float32 weights and optimizer "
                             "state) or auto (default: bf16 on CPUs with AMX-BF16 or AVX512-BF16, else fp32)")
    parser.add_argument("--precisions", type=arguments.name_list, default=d.precisions,
                        metavar="fp32,native,fp16,int8",
                        help=f"how to deploy each run on OpenVINO, among {','.join(PRECISIONS)} (default "
                             f"{','.join(DEFAULT_PRECISIONS)}; 'none' skips OpenVINO). fp32, fp16, int8: the IR "
                             "files, computed in pinned f32; native: the FP32 IR in the device's own default "
                             "precision (bf16 on AVX512-BF16 CPUs, f16 on GPUs); bf16: where the device has it")
    parser.add_argument("--max-accuracy-drop", type=float, metavar="X",
                        help="NNCF accuracy control for every run's INT8 step: at most this validation "
                             "accuracy drop (a fraction, 0.01 = 1 point); the report says which runs needed it")
    parser.add_argument("--target-accuracy", type=float,
                        help="for 'epochs to target' (default: 98%% of the winner's accuracy)")
    parser.add_argument("--spread-from", metavar="DIR",
                        help="an earlier comparison of the same setting with two seeds or more: its seeds "
                             "join the paired test over seeds (a one-seed comparison names no winner alone)")
    parser.add_argument("--data-dir", help="directory holding the dataset files (the only place looked in)")
    parser.add_argument("--workers", type=_workers, default=None, metavar="N|auto",
                        help="runs trained at once, each in its own process with its share of the "
                             "CPU threads (default auto: one process per core when each gets two "
                             "runs or more, else one process with every core's threads)")
    parser.add_argument("--out", help="output directory (default runs/compare-DATASET-MODEL-TIME)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the comparison in --out with its saved settings")
    parser.add_argument("--tensorboard", metavar="DIR",
                        help="log every run's curves for TensorBoard into DIR/<optimizer>-seed<k> "
                             "(needs descentlab[tensorboard]; open with tensorboard --logdir DIR)")
    parser.add_argument("--quiet", action="store_true", help="no progress line")


def run(args):
    import dataclasses
    import datetime

    from descentlab.compare.outdir import saved_settings
    from descentlab.compare.runner import run_compare
    from descentlab.compare.settings import CompareConfig
    from descentlab.errors import UserError

    precisions = () if args.precisions == ("none",) else args.precisions
    names, files = _optimizers(args.optimizers, args.optimizer_file)
    config = CompareConfig(dataset=args.dataset, model=args.model, model_kwargs=dict(args.model_option),
                           optimizers=names, optimizer_files=files, epochs=args.epochs, batch_size=args.batch_size,
                           seeds=args.seeds, lr=dict(args.lr), tune_lr=args.tune_lr,
                           tune_epochs=args.tune_epochs, schedule=args.schedule,
                           schedule_kwargs=dict(args.schedule_option), clip_norm=args.clip_norm,
                           device=args.device, train_device=args.train_device,
                           train_precision=args.train_precision, precisions=precisions,
                           max_accuracy_drop=args.max_accuracy_drop, data_dir=args.data_dir,
                           workers=args.workers, target_accuracy=args.target_accuracy,
                           spread_from=args.spread_from)
    if args.resume:
        if not args.out:
            raise ValueError("--resume needs the --out directory of the comparison to continue")
        given = [_flag(f.name) for f in dataclasses.fields(config)
                 if f.name != "workers" and getattr(config, f.name) != getattr(CompareConfig(), f.name)]
        if given:
            raise UserError(f"--resume continues with the settings saved in {args.out}/compare.json; "
                            f"leave out {', '.join(given)} (or start a new comparison in another --out)")
        config = dataclasses.replace(saved_settings(args.out), workers=args.workers)
        results = run_compare(config, args.out, resume=True, quiet=args.quiet, tensorboard=args.tensorboard)
        return _print(results, args.out)
    model = args.model.replace(":", "-").replace(".", "-")
    out = args.out or f"runs/compare-{args.dataset}-{model}-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    return _print(run_compare(config, out, quiet=args.quiet, tensorboard=args.tensorboard), out)


def _optimizers(names, references):
    """``--optimizers`` with each ``--optimizer-file`` class added under the name it runs as
    (after every registry optimizer when ``--optimizers`` is not given), and ``{name: FILE:Class}``.
    A missing file, a file that is not Python, no such class, a class that is not an
    optimizer: ValueError, before any training."""
    from descentlab import optimizers
    from descentlab.optimizers import registry

    if not references:
        return names, {}
    files = {}
    for reference in references:
        name = registry.register_file(reference)
        files[name] = registry.info(name).reference
    return tuple(names or optimizers.available()) + tuple(files), files


def _workers(text):
    """``--workers``: a positive integer, or ``auto`` (None: ``compare.pool.worker_count`` decides)."""
    if text == "auto":
        return None
    try:
        return arguments.positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a positive integer or auto, got {text!r}") from None


def _flag(field):
    """The command-line flag that sets a ``CompareConfig`` field."""
    return {"model_kwargs": "--model-option", "schedule_kwargs": "--schedule-option",
            "lr": "--lr", "optimizer_files": "--optimizer-file"}.get(field, "--" + field.replace("_", "-"))


def _print(results, out):
    from descentlab.compare.report import headline, torch_table

    if results is None:  # a rank of torchrun other than 0, which writes and prints the results
        return 0
    print(headline(results).replace("**", ""))
    print()
    print(torch_table(results))
    print(f"\nreport: {out}/report.md   results: {out}/results.json   in a browser: {out}/report.html")
    return 0
