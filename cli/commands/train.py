"""Train one model with one optimizer and save a checkpoint that `descentlab export` reads.

Batch gradient descent is `--batch-size full`, stochastic gradient descent
`--batch-size 1`, mini-batch gradient descent `--batch-size K`. DIR receives
checkpoint.pt (weights, optimizer state, history, config; rewritten after
every epoch) and run.json (the history and test numbers).

On several processes or machines, with DistributedDataParallel (each rank a
share of every batch; rank 0 writes DIR):
  torchrun --nproc-per-node 2 -m descentlab train --dataset digits --model mlp --optimizer adam --out DIR
"""

from descentlab.cli import arguments

HELP = "train one model with one optimizer, save a checkpoint"


def add_arguments(parser):
    from descentlab.train.precision import PRECISIONS as TRAIN_PRECISIONS

    parser.add_argument("--dataset", required=True, help="see `descentlab datasets`")
    parser.add_argument("--model", required=True, help="neuron, logreg, mlp, cnn, lenet, or your own: package.module:factory")
    parser.add_argument("--optimizer", required=True, help="see `descentlab optimizers`")
    parser.add_argument("--lr", type=arguments.positive_float, help="learning rate")
    parser.add_argument("--hp", type=arguments.assignment, action="append", default=[],
                        metavar="NAME=VALUE", help="another hyperparameter, e.g. momentum=0.95 (repeatable)")
    parser.add_argument("--model-option", type=arguments.assignment, action="append", default=[],
                        metavar="NAME=VALUE", help="a model option, e.g. hidden=(256,128) (repeatable)")
    parser.add_argument("--epochs", type=arguments.positive_int, default=10)
    parser.add_argument("--batch-size", type=arguments.batch_size, default=128, metavar="B|full")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--schedule", help="learning-rate schedule, e.g. step, exponential, plateau")
    parser.add_argument("--schedule-option", type=arguments.assignment, action="append", default=[],
                        metavar="NAME=VALUE", help="a schedule option (repeatable)")
    parser.add_argument("--clip-norm", type=arguments.positive_float, help="clip gradients to this global norm")
    parser.add_argument("--clip-value", type=arguments.positive_float, help="clip gradients to [-v, v]")
    parser.add_argument("--data-dir", help="directory holding the dataset files (the only place looked in)")
    parser.add_argument("--train-device", default="cpu", help="torch device to train on: cpu (default) or cuda")
    parser.add_argument("--train-precision", choices=TRAIN_PRECISIONS, default="auto",
                        help="fp32, bf16 (autocast; float32 weights and optimizer state) or auto "
                             "(default: bf16 on CPUs with AMX-BF16 or AVX512-BF16, else fp32)")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--resume", action="store_true", help="continue from DIR/checkpoint.pt")
    parser.add_argument("--tensorboard", metavar="LOGDIR",
                        help="log the run's curves for TensorBoard into LOGDIR/<optimizer>-seed<k> "
                             "(needs descentlab[tensorboard]; open with tensorboard --logdir LOGDIR)")
    parser.add_argument("--quiet", action="store_true", help="no progress line")


def run(args):
    from pathlib import Path

    from descentlab.train.hparams import training_hparams
    from descentlab.train.run import CHECKPOINT, RunConfig, train_into

    hparams = training_hparams(args.optimizer, dict(args.hp))
    if args.lr is not None:
        hparams["lr"] = args.lr
    config = RunConfig(dataset=args.dataset, model=args.model, optimizer=args.optimizer,
                       hparams=hparams, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                       model_kwargs=dict(args.model_option), schedule=args.schedule,
                       schedule_kwargs=dict(args.schedule_option), clip_norm=args.clip_norm,
                       clip_value=args.clip_value, data_dir=args.data_dir, device=args.train_device,
                       precision=args.train_precision)
    record = train_into(config, args.out, resume=args.resume, quiet=args.quiet, tensorboard=args.tensorboard)
    if record["trained_on"]["rank"] != 0:
        return 0
    test = record["torch"]
    summary = f"{args.optimizer} on {args.dataset}/{args.model}: test loss {test['test_loss']:.4f}"
    if test["test_accuracy"] is not None:
        summary += f", test accuracy {test['test_accuracy']:.4f}"
    if record["diverged"]:
        summary += f" (diverged at epoch {record['diverged_epoch']})"
    print(f"{summary}; {record['train_seconds']:.1f} s of training in {record['train_precision']}; checkpoint: {Path(args.out) / CHECKPOINT}")
    return 0
