"""List the datasets: sizes of the train/val/test splits, where each was found, or why it is unavailable.

Files are looked for in --data-dir only when it is given; otherwise in
$DESCENTLAB_DATA/<dataset>, then the system copy (Fashion-MNIST:
/usr/share/datasets/fashion-mnist, from `apt-get install dataset-fashion-mnist`).
"""

HELP = "list the datasets, their sizes and where their files were found"


def add_arguments(parser):
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--data-dir", metavar="P", help="look for dataset files only in this directory")


def run(args):
    import descentlab.train.datasets as datasets
    from descentlab.cli.table import format_table, to_json

    entries = datasets.describe(args.data_dir)
    if args.json:
        print(to_json(entries))
        return 0
    # Errors read "<what>; <how to get it>": the table shows the what, the hints follow it once each.
    shown = [[e["name"], "yes" if e["available"] else "no", _shape(e), _sizes(e),
              e["source"] if e["available"] else e["reason"].split("; ")[0]]
             for e in entries]
    print(format_table(["name", "available", "input -> classes", "train/val/test", "found in / why not"], shown))
    hints = [f"{e['name']}: {e['reason'].split('; ', 1)[1]}" for e in entries
             if not e["available"] and "; " in e["reason"]]
    if hints:
        print("\nTo get the unavailable ones:\n" + "\n".join(f"  {h}" for h in hints))
    return 0


def _shape(entry):
    if not entry["available"]:
        return "-"
    shape = "x".join(map(str, entry["input_shape"]))
    return f"{shape} -> {entry['num_classes']}" if entry["task"] == "classification" else f"{shape} -> regression"


def _sizes(entry):
    return "/".join(str(entry["sizes"][k]) for k in ("train", "val", "test")) if entry["available"] else "-"
