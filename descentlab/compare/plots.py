"""The comparison's figures, as PNG files written atomically.

loss.png (training loss per epoch), accuracy.png (validation accuracy per
epoch), loss_time.png (training loss against training seconds),
final_accuracy.png (test accuracy, mean +- std over seeds), when the
OpenVINO stage ran, openvino.png (test accuracy per optimizer and precision),
and with ``--tune-lr``, tuning.png (the learning-rate search). Curves are means
over seeds.
"""

import io as _io

from descentlab import io
from descentlab.compare import deployed
from descentlab.compare.stats import ALPHA

STYLES = ("-", "--", ":", "-.")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    buffer = _io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    io.atomic_write(path, lambda f: f.write(buffer.getvalue()))


def _mean_curve(runs, key):
    curves = [r["history"][key] for r in runs if r["history"][key]]
    if not curves:
        return []
    n = min(len(c) for c in curves)
    out = []
    for e in range(n):
        values = [c[e] for c in curves if c[e] is not None]
        out.append(sum(values) / len(values) if values else None)
    return out


def _line(plt, i):
    """Line style and colour of the i-th optimizer: the 10 dark colours of tab20, then
    their light twins (neighbours in the legend never share a hue), then the next dash."""
    k = i % 20
    return STYLES[i // 20 % len(STYLES)], plt.get_cmap("tab20")(2 * k if k < 10 else 2 * (k - 10) + 1)


def _curves(plt, results, key, x_key, ylabel, xlabel, title, log=False):
    fig, ax = plt.subplots(figsize=(8, 5))
    for i, row in enumerate(results["summary"]):
        runs = [r for r in results["runs"] if r["optimizer"] == row["optimizer"]]
        y = _mean_curve(runs, key)
        x = _mean_curve(runs, x_key) if x_key else list(range(1, len(y) + 1))
        points = [(a, b) for a, b in zip(x, y) if a is not None and b is not None]
        if points:
            style, color = _line(plt, i)
            ax.plot(*zip(*points), style, color=color, label=row["optimizer"], marker="o", markersize=3)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if x_key is None:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return fig


def write_all(out, results):
    """Write the figures into ``out``; returns their file names."""
    plt = _pyplot()
    what = f"{results['model']} on {results['dataset']}"
    figures = {
        "loss.png": _curves(plt, results, "train_loss", None, "training loss", "epoch",
                            f"Training loss per epoch: {what}", log=True),
        "accuracy.png": _curves(plt, results, "val_accuracy", None, "validation accuracy", "epoch",
                                f"Validation accuracy per epoch: {what}"),
        "loss_time.png": _curves(plt, results, "train_loss", "seconds", "training loss",
                                 "training seconds", f"Training loss against time: {what}", log=True),
        "final_accuracy.png": _final(plt, results, what),
    }
    if any(row["openvino"].get(p, {}).get("test_accuracy_mean") is not None
           for row in results["summary"] for p in results["precisions"]):
        figures["openvino.png"] = _openvino(plt, results, what)
    if results.get("tuning"):
        figures["tuning.png"] = _tuning(plt, results, what)
    for name, fig in figures.items():
        _save(fig, out / name)
        plt.close(fig)
    return list(figures)


def _final(plt, results, what):
    rows = [r for r in results["summary"] if r["test_accuracy_mean"] is not None]
    fig, ax = plt.subplots(figsize=(8, 5))
    if rows:
        names = [r["optimizer"] for r in rows]
        ax.bar(names, [r["test_accuracy_mean"] for r in rows],
               yerr=[r["test_accuracy_std"] or 0 for r in rows], capsize=3, color="tab:blue")
        low = min(r["test_accuracy_mean"] for r in rows)
        ax.set_ylim(max(0.0, low - 0.05), 1.0)
        ax.tick_params(axis="x", rotation=60)
    ax.set(ylabel="test accuracy (mean +- std)", title=f"Final test accuracy: {what}")
    ax.grid(alpha=0.3, axis="y")
    return fig


def _openvino(plt, results, what):
    """Bars per optimizer: PyTorch, then each precision (native and bf16 labelled with what they
    ran in); a hatched bar differs from PyTorch beyond test-set noise in at least one run."""
    rows = results["summary"]
    precisions = results["precisions"]
    fig, ax = plt.subplots(figsize=(min(18, max(9, 1.0 * len(rows))), 5))  # 17 optimizers stay readable
    width = 0.8 / (len(precisions) + 1)
    series = [("PyTorch", [r["test_accuracy_mean"] for r in rows], [False] * len(rows))]
    series += [(deployed.precision_label(results, p), [r["openvino"][p]["test_accuracy_mean"] for r in rows],
                [r["openvino"][p].get("within_noise_runs", 0) < r["openvino"][p].get("tested_runs", 0)
                 for r in rows])
               for p in precisions]
    from matplotlib.patches import Patch

    colors = plt.get_cmap("tab10")
    handles = [Patch(facecolor=colors(k % 10), edgecolor="black", linewidth=0.4, label=label)
               for k, (label, _, _) in enumerate(series)]  # plain swatches: a hatched first bar is no key
    for k, (label, values, beyond) in enumerate(series):
        xs = [i + k * width for i in range(len(rows))]
        bars = ax.bar(xs, [v or 0 for v in values], width, label=label, color=colors(k % 10), edgecolor="black",
                      linewidth=0.4)
        for bar, hatched in zip(bars, beyond):
            if hatched:
                bar.set_hatch("///")
    ax.set_xticks([i + width * len(precisions) / 2 for i in range(len(rows))])
    ax.set_xticklabels([r["optimizer"] for r in rows], rotation=60, ha="right")
    known = [v for _, values, _ in series for v in values if v]
    if known:
        ax.set_ylim(max(0.0, min(known) - 0.05), 1.0)
    ax.set(ylabel="test accuracy",
           title=f"Accuracy per precision on OpenVINO {results['device']}: {what}\n"
                 f"(hatched: differs from PyTorch beyond test-set noise, McNemar p < {ALPHA})")
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))  # never over a bar
    ax.grid(alpha=0.3, axis="y")
    return fig


def _tuning(plt, results, what):
    """Validation score against the learning rate (log axis), one line per optimizer.

    The chosen lr is a ringed star; a diverged trial is an x on the floor of the axis,
    so the axis spans the scores that exist instead of being blown up by a divergence.
    Classification shows the validation accuracy; regression the validation loss
    (log axis, the floor being its top edge)."""
    tuning = results["tuning"]
    trials = [t for entry in tuning.values() for t in entry["trials"]]
    accuracy = all(t["score"] is None or t["score"] >= 0 for t in trials)
    values = [(t["score"] if accuracy else t["val_loss"]) for t in trials if t["score"] is not None]
    if accuracy:
        floor = max(0.0, min(values, default=0.0) - 0.05)   # below every real score
    else:
        floor = 10 * max(values, default=1.0)
    fig, ax = plt.subplots(figsize=(8, 5))
    for i, (name, entry) in enumerate(tuning.items()):
        style, color = _line(plt, i)
        points = [(t["lr"], None if t["score"] is None else t["score"] if accuracy else t["val_loss"])
                  for t in entry["trials"]]
        ax.plot([lr for lr, y in points if y is not None], [y for _, y in points if y is not None],
                style, color=color, marker="o", markersize=4, label=name)
        diverged = [lr for lr, y in points if y is None]
        ax.plot(diverged, [floor] * len(diverged), "x", color=color, markersize=9, markeredgewidth=2)
        chosen = [y for lr, y in points if lr == entry["best_lr"]]
        if chosen:
            ax.plot([entry["best_lr"]], chosen, "*", color=color, markersize=16, markeredgecolor="black")
    ax.plot([], [], "x", color="gray", markersize=9, markeredgewidth=2, label="diverged (at the floor)")
    ax.plot([], [], "*", color="gray", markersize=14, markeredgecolor="black", label="chosen lr")
    ax.set_xscale("log")
    if accuracy:
        ax.set_ylim(floor - 0.04, 1.01)
        ylabel = "validation accuracy"
    else:
        ax.set_yscale("log")
        ax.set_ylim(top=floor * 1.5)
        ylabel = "validation loss"
    epochs = results.get("tune_epochs")
    ax.set(xlabel="learning rate", ylabel=f"{ylabel}{f' after {epochs} epoch' + 's' * (epochs != 1) if epochs else ''}",
           title=f"Learning-rate search: {what}")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: the floor stays visible
    return fig
