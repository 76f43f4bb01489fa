"""Export a checkpoint: PyTorch -> ONNX -> OpenVINO IR (FP32, FP16) -> NNCF INT8.

Writes into --out: model.onnx, model_fp32.xml/.bin, model_fp16.xml/.bin,
model_int8.xml/.bin (those asked for by --precisions) and manifest.json, then
prints one row per hop: the largest |difference| from the PyTorch logits on a
validation batch and, for classification, the validation accuracy. Files are
built beside --out and moved in only when every check passed.
"""

HELP = "checkpoint -> ONNX -> OpenVINO IR (fp32/fp16) and NNCF int8, checked at each hop"


def add_arguments(parser):
    parser.add_argument("checkpoint", metavar="CHECKPOINT", help="a checkpoint written by descentlab train")
    parser.add_argument("--out", required=True, metavar="DIR", help="directory for the exported files")
    parser.add_argument("--precisions", default="fp32,fp16,int8", metavar="LIST",
                        help="comma-separated, from fp32, fp16, int8 (default: all three)")
    parser.add_argument("--data-dir", metavar="P", help="where the dataset's files are (default: the checkpoint's)")
    parser.add_argument("--max-accuracy-drop", type=float, metavar="X",
                        help="INT8 with NNCF accuracy control: largest validation accuracy drop allowed, "
                             "as a fraction (0.01 = 1 point)")
    parser.add_argument("--json", action="store_true", help="print the manifest as JSON instead of a table")


def run(args):
    import sys
    from contextlib import redirect_stdout

    from descentlab import export
    from descentlab.cli.table import format_table, to_json

    precisions = export.parse_precisions(args.precisions)  # before any heavy work: a typo fails at once
    # NNCF draws its progress bars on stdout; stdout is for the table / JSON
    with redirect_stdout(sys.stderr):
        manifest = export.export_checkpoint(args.checkpoint, args.out, precisions, data_dir=args.data_dir,
                                            max_accuracy_drop=args.max_accuracy_drop)
    if args.json:
        print(to_json(manifest))
        return 0
    sizes = manifest["files"]
    rows = [[h["stage"], h["file"] or "-", _size(sizes, h["file"]), _number(h["max_abs_diff"]),
             _number(h["val_accuracy"], ".4f")] for h in manifest["hops"]]
    print(format_table(["hop", "file", "bytes", "max |Δ| vs torch", "val accuracy"], rows))
    print(f"wrote {args.out}/manifest.json")
    return 0


def _size(sizes, name):
    if name is None:
        return "-"
    weights = name.replace(".xml", ".bin")  # an IR's size is its weights file
    return str(sizes[weights]["bytes"] if weights in sizes else sizes[name]["bytes"])


def _number(value, spec=".3g"):
    return "-" if value is None else format(value, spec)
