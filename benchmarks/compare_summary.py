"""The summary of one comparison that the README's comparison table quotes.

    python3 benchmarks/compare_summary.py RUN_DIR [--out benchmarks/results/compare_fmnist_cnn.json]

Reads ``RUN_DIR/results.json`` (written by ``descentlab compare``; for a
comparison still running or interrupted, the optimizers whose runs have all
finished, summarised as ``results.json`` would) and keeps
what the README shows: the settings, and per optimizer its learning rate, the
PyTorch test accuracy and loss, the epochs to the target validation accuracy,
the OpenVINO accuracy per precision, the largest logit difference from PyTorch
at each export hop, and the seconds per epoch. ``benchmarks/readme_figures.py``
renders the README table from the JSON this writes.
"""

import argparse
import dataclasses
import json
from pathlib import Path


DEFAULT_OUT = Path(__file__).parent / "results" / "compare_fmnist_cnn.json"


def summarise(results):
    rows = []
    for row in results["summary"]:
        runs = [r for r in results["runs"] if r["optimizer"] == row["optimizer"]]
        hops = {}
        for run in runs:
            for hop in run.get("openvino", {}).get("export", {}).get("hops", []):
                if hop["max_abs_diff"] is not None:
                    hops[hop["stage"]] = max(hops.get(hop["stage"], 0.0), hop["max_abs_diff"])
        rows.append({
            "optimizer": row["optimizer"], "lr": row["lr"],
            "test_accuracy": row["test_accuracy_mean"], "test_loss": row["test_loss_mean"],
            "epochs_to_target": row["epochs_to_target"], "seconds_per_epoch": row["seconds_per_epoch"],
            "openvino": {p: v["test_accuracy_mean"] for p, v in row["openvino"].items()},
            "max_abs_diff": hops,
        })
    settings = {k: results[k] for k in ("dataset", "model", "epochs", "batch_size", "seeds", "device",
                                         "precisions", "target_accuracy")}
    return {"benchmark": "compare_summary", "settings": settings, "rows": rows,
            "environment": results["environment"]}


def finished_results(run_dir):
    """``results.json``, or for an unfinished comparison the summary of its finished optimizers."""
    run_dir = Path(run_dir)
    if (run_dir / "results.json").is_file():
        return json.loads((run_dir / "results.json").read_text())
    from descentlab.compare.outdir import saved_settings
    from descentlab.compare.summary import summarise
    from descentlab.compare.task import RUN_RESULT

    config = saved_settings(run_dir)
    records = {(p.parent.name.rsplit("-seed", 1)[0], int(p.parent.name.rsplit("-seed", 1)[1])):
               json.loads(p.read_text()) for p in sorted(run_dir.glob(f"*-seed*/{RUN_RESULT}"))}
    done = tuple(n for n in config.names if all((n, s) in records for s in config.seeds))
    config = dataclasses.replace(config, optimizers=done)
    return summarise(config, [records[(n, s)] for s in config.seeds for n in done])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    from descentlab.io import write_json

    summary = summarise(finished_results(args.run_dir))
    write_json(args.out, summary)
    print(f"wrote {args.out}: {len(summary['rows'])} optimizers")


if __name__ == "__main__":
    main()
