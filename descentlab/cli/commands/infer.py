"""Accuracy of OpenVINO IRs on the test split of their dataset, on one device.

IR_OR_COMPARE_DIR is one IR (.xml), an export directory (model_fp32/fp16/int8.xml)
or a compare directory (results.json + one <optimizer>-seed<k>/ per run). For a
compare directory every run x precision is scored, the delta against the
run's PyTorch test accuracy is shown, and the results are written to
DIR/infer.json. Devices: CPU, GPU, GPU.1, NPU, AUTO, AUTO:GPU,CPU (see
`descentlab devices`).
"""

HELP = "accuracy of an IR (or of every run of a compare directory) on an OpenVINO device"


def add_arguments(parser):
    parser.add_argument("path", metavar="IR_OR_COMPARE_DIR", help="a .xml IR, an export directory or a compare directory")
    parser.add_argument("--dataset", help="dataset to score on (default: the one the manifest names)")
    parser.add_argument("--device", default="CPU", help="OpenVINO device (default: CPU)")
    parser.add_argument("--data-dir", help="directory holding the dataset files")
    parser.add_argument("--batch-size", type=int, default=256, help="inference batch size (default: 256)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args):
    from pathlib import Path

    from descentlab import infer
    from descentlab.io import write_json
    from descentlab.cli.table import format_table, to_json
    from descentlab.infer.files import is_compare_dir

    result = infer.evaluate_path(args.path, dataset=args.dataset, device=args.device,
                                 data_dir=args.data_dir, batch_size=args.batch_size)
    if is_compare_dir(args.path):
        write_json(Path(args.path) / "infer.json", result)
    if args.json:
        print(to_json(result))
        return 0
    rows = [[run, precision, _pct(r["accuracy"]), f"{r['loss']:.4f}", _pct(r["torch_accuracy"]),
             _points(r["delta"]), r["n"]]
            for run, by_precision in result["runs"].items() for precision, r in by_precision.items()]
    print(f"dataset {result['dataset']} (test split), device {result['device']}")
    print(format_table(["run", "precision", "accuracy %", "loss", "torch %", "delta (points)", "n"], rows))
    return 0


def _pct(value):
    return "-" if value is None else f"{100 * value:.2f}"


def _points(value):
    return "-" if value is None else f"{100 * value:+.2f}"
