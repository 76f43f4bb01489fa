"""Latency and throughput of OpenVINO IRs beside PyTorch eager and ONNX Runtime.

Like OpenVINO's benchmark_app: latency is synchronous inference at batch 1
(median, p90, p99, min, max), throughput is asynchronous inference at batch B
with the chosen performance hint and the device's number of requests; plus
compile and first-inference time and the device name. PyTorch eager (the model
rebuilt from checkpoint.pt, torch.inference_mode) and ONNX Runtime
(CPUExecutionProvider, model.onnx) run the FP32 model on the same inputs with
the same number of threads. On a compare directory the first run is timed (all
runs share one architecture).

OpenVINO rows: fp32, fp16, int8 (the IR files, computed in pinned f32) and
native (the FP32 IR in the device's own default precision: bf16 on CPUs with
AVX512-BF16, f16 on GPUs); bf16 on request where the device has it. "runs in"
is the precision each row really computed in, read back from OpenVINO.
"""

from descentlab.cli import arguments

HELP = "OpenVINO latency/throughput beside PyTorch eager and ONNX Runtime"


def add_arguments(parser):
    parser.add_argument("path", metavar="IR_OR_DIR", help="a .xml IR, an export directory or a compare directory")
    parser.add_argument("-t", "--time", type=float, default=5.0, dest="seconds", metavar="SECONDS",
                        help="duration of each measurement in seconds (default: 5)")
    parser.add_argument("--batch", type=int, default=64, help="batch size of the throughput measurement (default: 64)")
    parser.add_argument("--hint", choices=["latency", "throughput"], default="throughput",
                        help="OpenVINO performance hint of the throughput measurement (default: throughput)")
    parser.add_argument("--nireq", type=int, help="number of infer requests (default: the device's choice)")
    parser.add_argument("--device", default="CPU", help="OpenVINO device (default: CPU)")
    parser.add_argument("--precisions", type=arguments.name_list, metavar="fp32,native,bf16,fp16,int8",
                        help="OpenVINO rows (default: every IR found, and native beside an FP32 IR)")
    parser.add_argument("--threads", type=int, help="threads for every backend (default: the CPUs this process may use)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--out", help="also write the JSON result to this file")


def run(args):
    from descentlab import infer
    from descentlab.io import check_writable_file, write_json
    from descentlab.cli.table import to_json

    if args.out:
        check_writable_file(args.out)  # before seconds of measuring
    result = infer.bench(args.path, seconds=args.seconds, batch=args.batch, hint=args.hint,
                         nireq=args.nireq, device=args.device, threads=args.threads, precisions=args.precisions)
    if args.out:
        write_json(args.out, result)
    print(to_json(result) if args.json else format_result(result))
    return 0


def format_result(result):
    """The side-by-side table, with the devices and settings above it."""
    from descentlab.cli.table import format_table

    from descentlab.infer.precision import describe

    header = ["backend", "precision", "runs in", "lat median ms", "p90", "p99", "min", "max",
              f"fps @{result['batch']}", "lat x torch", "fps x torch", "nireq/streams",
              "load ms", "1st ms"]
    rows, names, notes = [], [], []
    for r in result["rows"]:
        if r["skipped"]:
            rows.append([r["backend"], r["precision"]] + ["-"] * (len(header) - 2))
            notes.append(f"{r['backend']} skipped: {r['skipped']}")
            continue
        lat, thr = r["latency"], r["throughput"]
        requests = f"{thr['nireq']}/{thr['streams']}" if "nireq" in thr else "-"
        rows.append([r["backend"], r["precision"], describe(r["execution"])]
                    + [f"{lat[k]:.3f}" for k in ("median_ms", "p90_ms", "p99_ms", "min_ms", "max_ms")]
                    + [f"{thr['fps']:.0f}", _times(r["latency_speedup"]), _times(r["throughput_speedup"]),
                       requests, f"{r['load_ms']:.1f}", f"{r['first_inference_ms']:.2f}"])
        if r["device_name"] not in names:
            names.append(r["device_name"])
    run = f", run {result['run']}" if result["run"] else ""
    lines = [f"{result['path']}{run}: input {'x'.join(map(str, result['input_shape']))}, "
             f"device {result['device']} (CPU flags: {' '.join(result['cpu_flags']) or 'unknown'}), "
             f"{result['threads']} threads, hint {result['hint']}, "
             f"{result['seconds']:g} s per measurement",
             "devices: " + "; ".join(names), format_table(header, rows), *notes,
             "lat x torch, fps x torch: speed-up against PyTorch eager (above 1 = faster)"]
    return "\n".join(lines)


def _times(value):
    return "-" if value is None else f"{value:.2f}x"
