"""Accuracy of OpenVINO IRs on the test split of their dataset, on one device.

IR_OR_COMPARE_DIR is one IR (.xml), an export directory (model_fp32/fp16/int8.xml)
or a compare directory (results.json + one <optimizer>-seed<k>/ per run). For a
compare directory every run x precision is scored, the delta against the
run's PyTorch test accuracy is shown, and the results are written to
DIR/infer.json. Devices: CPU, GPU, GPU.1, NPU, AUTO, AUTO:GPU,CPU (see
`descentlab devices`).

Precisions: fp32, fp16 and int8 are the IR files, computed in pinned f32;
native is the FP32 IR in the device's own default precision, as deployed
(bf16 on CPUs with AVX512-BF16, f16 on GPUs); bf16 where the device has it.
"runs in" is the precision the device really computed in, read back from
OpenVINO. Where a checkpoint.pt lies beside the IR, "vs torch" says whether
the difference from PyTorch is within test-set noise (McNemar's exact test
on the per-example predictions, p >= 0.05).
"""

from descentlab.cli import arguments

HELP = "accuracy of an IR (or of every run of a compare directory) on an OpenVINO device"


def add_arguments(parser):
    parser.add_argument("path", metavar="IR_OR_COMPARE_DIR", help="a .xml IR, an export directory or a compare directory")
    parser.add_argument("--dataset", help="dataset to score on (default: the one the manifest names)")
    parser.add_argument("--device", default="CPU", help="OpenVINO device (default: CPU)")
    parser.add_argument("--data-dir", help="directory holding the dataset files")
    parser.add_argument("--precisions", type=arguments.name_list, metavar="fp32,native,bf16,fp16,int8",
                        help="what to run (default: every IR found, and native beside an FP32 IR)")
    parser.add_argument("--batch-size", type=int, default=256, help="inference batch size (default: 256)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args):
    from pathlib import Path

    from descentlab import infer
    from descentlab.compare.deployed import annotate
    from descentlab.io import write_json
    from descentlab.cli.table import format_table, to_json
    from descentlab.infer.files import is_compare_dir
    from descentlab.infer.precision import describe

    result = annotate(infer.evaluate_path(args.path, dataset=args.dataset, device=args.device,
                                          precisions=args.precisions, data_dir=args.data_dir,
                                          batch_size=args.batch_size))
    if is_compare_dir(args.path):
        write_json(Path(args.path) / "infer.json", result)
    if args.json:
        print(to_json(result))
        return 0
    rows = [[run, precision, describe(r["execution"]), _pct(r["accuracy"]), f"{r['loss']:.4f}",
             _pct(r["torch_accuracy"]), _points(r["delta"]), _noise(r), r["n"]]
            for run, by_precision in result["runs"].items() for precision, r in by_precision.items()]
    print(f"dataset {result['dataset']} (test split), device {result['device']}")
    print(format_table(["run", "precision", "runs in", "accuracy %", "loss", "torch %", "delta (points)",
                        "vs torch", "n"], rows))
    return 0


def _noise(entry):
    if entry["within_noise"] is None:
        return "-"
    from descentlab.compare.stats import format_p

    return "within noise" if entry["within_noise"] else f"beyond noise (p = {format_p(entry['mcnemar_p'])})"


def _pct(value):
    return "-" if value is None else f"{100 * value:.2f}"


def _points(value):
    return "-" if value is None else f"{100 * value:+.2f}"
