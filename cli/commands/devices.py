"""List the OpenVINO devices: name, full name, optimisation capabilities and precisions.

CPU, GPU and NPU are always shown; a device whose plugin cannot load here is
listed as unavailable with the reason. AUTO picks among the available ones.
"default" is the precision the device computes an FP32 IR in when nothing is
pinned (descentlab's `native`: bf16 on CPUs with AVX512-BF16 or AMX, else f32;
f16 on GPUs); "computes in" lists the precisions it can be asked for
(f32, bf16, f16), both read from OpenVINO at run time.
"""

HELP = "list the OpenVINO devices present and their capabilities"


def add_arguments(parser):
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args):
    from descentlab import infer
    from descentlab.cli.table import format_table, to_json

    found = infer.devices()
    if args.json:
        print(to_json(found))
        return 0
    rows = [[d["name"], "yes" if d["available"] else "no", d["full_name"] or "-",
             ", ".join(d["precisions"]) or "-", d["default_execution"] or "-", ", ".join(d["executions"]) or "-",
             d["reason"] or ", ".join(d["capabilities"])]
            for d in found]
    print(format_table(["device", "available", "full name", "precisions", "default", "computes in",
                        "capabilities / why not"], rows))
    return 0
