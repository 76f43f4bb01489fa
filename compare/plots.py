"""The comparison's figures, as PNG files written atomically, each with its caption.

Every optimizer keeps one colour and one marker in every figure: those of its
registry entry (``optimizers.info(name).color`` and ``.marker``). Up to
``SMALL`` optimizers share one axis; with more, the curves are small
multiples, one panel per lecture family (``optimizers.families``), and the
overall best optimizer is drawn faintly in every panel for reference.

loss.png (per-step training loss against steps: raw, faint, and smoothed),
loss_time.png (the same against training seconds), accuracy.png (validation
accuracy per epoch; validation loss for regression), final_accuracy.png (test
accuracy, mean +- std over seeds), when the OpenVINO stage ran, openvino.png
(test accuracy per optimizer and precision), and with ``--tune-lr``,
tuning.png (the learning-rate search). With several seeds a curve is the mean
over seeds and its band spans the seeds' minimum to maximum.
"""

import io as _io
import math
import warnings

import numpy as np

from descentlab import io
from descentlab import optimizers
from descentlab.compare import deployed
from descentlab.compare.stats import ALPHA, is_measured

SMALL = 6          # up to this many optimizers share one axis; more get one panel per family
SMOOTHING = 30     # the EMA's time constant is the longest run's step count divided by this
FAINT = 0.3        # opacity of the reference line and of the raw per-step loss
DODGE = 0.08       # per-epoch points of one axis are spread over +- this many epochs


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    buffer = _io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    io.atomic_write(path, lambda f: f.write(buffer.getvalue()))


def style(name):
    """The colour and marker of optimizer ``name`` in every figure (its registry entry)."""
    entry = optimizers.info(name)
    return {"color": entry.color, "marker": entry.marker}


def ema(values, time_constant):
    """Exponential moving average with beta = 1 - 1/time_constant, started at 0 and
    debiased by 1 - beta^t like Adam's m-hat (lecture 002 Module 5.9), so the first
    points are not pulled towards 0. NaN (a diverged step) stays NaN."""
    beta = 1.0 - 1.0 / time_constant
    out, m = [], 0.0
    for t, v in enumerate(values, start=1):
        m = beta * m + (1 - beta) * v
        out.append(m / (1 - beta ** t))
    return np.array(out, dtype=float)


def step_seconds(history, steps_per_epoch):
    """The training seconds at the end of each step. Only epoch times are recorded, so
    a step's time is interpolated linearly within its epoch."""
    ends = [0.0] + list(history["seconds"])
    out = []
    for step in range(len(history["step_loss"])):
        epoch, within = divmod(step, steps_per_epoch)
        if epoch + 1 >= len(ends):
            break
        out.append(ends[epoch] + (within + 1) / steps_per_epoch * (ends[epoch + 1] - ends[epoch]))
    return np.array(out, dtype=float)


def _curve(values):
    """Values as a float array, NaN where nothing was measured (``stats.is_measured``)."""
    return np.array([v if is_measured(v) else np.nan for v in values], dtype=float)


def _over_seeds(curves):
    """Mean, min and max at each index over the seeds' curves (NaN-padded to the longest)."""
    n = max((len(c) for c in curves), default=0)
    grid = np.full((len(curves), n), np.nan)
    for i, c in enumerate(curves):
        grid[i, :len(c)] = c
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an index no seed reached stays NaN
        return np.nanmean(grid, axis=0), np.nanmin(grid, axis=0), np.nanmax(grid, axis=0)


class _Series:
    """What the curve figures draw of one optimizer: per-step loss (raw and smoothed)
    against steps and seconds, and the validation metric per epoch, over seeds."""

    def __init__(self, runs, time_constant, steps_per_epoch, metric):
        raw = [_curve(r["history"]["step_loss"]) for r in runs]
        self.raw = _over_seeds(raw)[0]
        self.smooth, self.smooth_low, self.smooth_high = _over_seeds([ema(c, time_constant) for c in raw])
        self.steps = np.arange(1, len(self.raw) + 1)
        self.seconds = _over_seeds([step_seconds(r["history"], steps_per_epoch) for r in runs])[0]
        initial = "initial_val_accuracy" if metric == "val_accuracy" else "initial_val_loss"
        per_epoch = [_curve([r["history"].get(initial)] + list(r["history"][metric])) for r in runs]
        self.metric, self.metric_low, self.metric_high = _over_seeds(per_epoch)
        self.epochs = np.arange(len(self.metric))
        self.seeds = len(runs)
        diverged = sum(r["diverged"] for r in runs)
        self.diverged = f"{diverged}/{len(runs)} runs" if diverged else None


def _series(results):
    """``{optimizer: _Series}`` for every optimizer of the summary, with the shared smoothing."""
    runs = results["runs"]
    lengths = [len(r["history"]["step_loss"]) for r in runs]
    complete = [len(r["history"]["step_loss"]) // len(r["history"]["seconds"]) for r in runs
                if not r["diverged"] and r["history"]["seconds"]]
    steps_per_epoch = max(complete or [max(1, max(lengths, default=1) // max(1, results["epochs"]))])
    time_constant = max(1.0, max(lengths, default=1) / SMOOTHING)
    metric = "val_accuracy" if _classified(results) else "val_loss"
    series = {row["optimizer"]: _Series([r for r in runs if r["optimizer"] == row["optimizer"]],
                                        time_constant, steps_per_epoch, metric)
              for row in results["summary"]}
    return series, time_constant, steps_per_epoch


def _classified(results):
    return any(v is not None for r in results["runs"] for v in r["history"]["val_accuracy"])


def panels(names):
    """``[(title, names)]``: one untitled axis for up to SMALL optimizers, else one per family."""
    if len(names) <= SMALL:
        return [(None, list(names))]
    return list(optimizers.families(names).items())


def _grid(plt, n, width=5.0, height=3.6):
    cols = min(3, n)
    rows = math.ceil(n / cols)
    if n == 1:
        fig, ax = plt.subplots(figsize=(8, 5))
        return fig, [ax]
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), sharex=True, sharey=True,
                             squeeze=False)
    axes = list(axes.flat)
    for ax in axes[n:]:
        ax.set_visible(False)
    for ax in axes[:n]:
        ax.xaxis.set_tick_params(labelbottom=True)  # every panel keeps its own x labels
    return fig, axes[:n]


def _best(results):
    """The overall best optimizer (first of the summary) if it finished, else None."""
    rows = [r for r in results["summary"] if r["diverged_runs"] < r["runs"]]
    return rows[0]["optimizer"] if rows else None


def _curve_figure(plt, results, draw, title, xlabel, ylabel, log=False):
    """One axis or one panel per family; ``draw(ax, name, faint, slot)`` draws one optimizer
    (``slot`` in [0, 1): where its markers start, so the markers of curves that coincide
    interleave). In a panel without the best optimizer, it is drawn faintly for reference."""
    names = [row["optimizer"] for row in results["summary"]]
    layout = panels(names)
    best = _best(results)
    fig, axes = _grid(plt, len(layout))
    for ax, (family, members) in zip(axes, layout):
        shown = members + ([best] if family is not None and best is not None and best not in members else [])
        for slot, name in enumerate(shown):
            draw(ax, name, name not in members, slot / len(shown))
        if family is not None:
            ax.set_title(family, fontsize=10)
        if log:
            ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both" if log else "major")
        ax.set(xlabel=xlabel, ylabel=ylabel)
        ax.legend(fontsize=7, loc="best")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def _label(name, faint, diverged):
    if faint:
        return f"{name} (best overall)"
    return f"{name} (diverged: {diverged})" if diverged else name


def _loss_figure(plt, results, series, x_attr, xlabel, title):
    def draw(ax, name, faint, slot):
        s = series[name]
        x = getattr(s, x_attr)
        n = min(len(x), len(s.smooth))
        if n == 0:
            return
        st = style(name)
        if not faint:
            ax.plot(x[:n], s.raw[:n], color=st["color"], alpha=FAINT * 0.6, linewidth=0.6)
            if s.seeds > 1:
                ax.fill_between(x[:n], s.smooth_low[:n], s.smooth_high[:n], color=st["color"], alpha=0.15,
                                linewidth=0)
        every = max(1, n // 8)
        offset = int(slot * every)
        ax.plot(x[:n], s.smooth[:n], color=st["color"], marker=st["marker"], markersize=5,
                markevery=(offset, every), linewidth=1.0 if faint else 1.6,
                alpha=FAINT if faint else 1.0, linestyle="--" if faint else "-", label=_label(name, faint, s.diverged))

    fig = _curve_figure(plt, results, draw, title, xlabel, "training loss", log=True)
    _loss_limits(fig, series)
    return fig


def _loss_limits(fig, series):
    """Log y from just under the lowest smoothed loss to 1.5 times the highest starting loss:
    a diverging run leaves through the top instead of flattening every other curve."""
    lows = [np.nanmin(s.smooth) for s in series.values() if np.isfinite(s.smooth).any()]
    starts = [s.smooth[0] for s in series.values() if len(s.smooth) and np.isfinite(s.smooth[0])]
    if lows and starts:
        for ax in fig.axes:
            ax.set_ylim(min(lows) * 0.8, 1.5 * max(starts))


def _metric_figure(plt, results, series, what):
    classified = _classified(results)

    def draw(ax, name, faint, slot):
        s = series[name]
        st = style(name)
        x = s.epochs + DODGE * (2 * slot - 1)  # coinciding curves side by side, not on top
        if s.seeds > 1 and not faint:
            ax.fill_between(x, s.metric_low, s.metric_high, color=st["color"], alpha=0.15, linewidth=0)
        ax.plot(x, s.metric, color=st["color"], marker=st["marker"], markersize=5,
                linewidth=1.0 if faint else 1.6, alpha=FAINT if faint else 1.0,
                linestyle="--" if faint else "-", label=_label(name, faint, s.diverged))

    ylabel = "validation accuracy" if classified else "validation loss"
    fig = _curve_figure(plt, results, draw, f"{ylabel.capitalize()} per epoch: {what}", "epoch", ylabel,
                        log=not classified)
    from matplotlib.ticker import MaxNLocator

    for ax in fig.axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def captions(results, time_constant, steps_per_epoch):
    """What each curve figure shows, for the report (the same words under every copy)."""
    seeds = len(results["seeds"])
    if len(results["summary"]) > SMALL:
        layout = (f"one panel per lecture family (more than {SMALL} optimizers), the overall best optimizer "
                  "dashed and faint in every other panel for reference")
    else:
        layout = f"one axis (up to {SMALL} optimizers; more get one panel per lecture family)"
    band = (f" Lines are the mean over the {seeds} seeds; the band spans their minimum to maximum."
            if seeds > 1 else "")
    smoothing = (f"Faint: the raw loss; solid: its exponential moving average over about {time_constant:.3g} "
                 "steps (β = 1 − 1/that, debiased like Adam's m̂)")
    return {
        "loss.png": f"Training loss per step. {smoothing}; {layout}.{band}",
        "loss_time.png": (f"The same against training seconds. Only epoch times are recorded, so each of an "
                          f"epoch's {steps_per_epoch} steps is placed by linear interpolation within its "
                          f"epoch's measured seconds (evaluation excluded).{band}"),
        "accuracy.png": (f"{'Validation accuracy' if _classified(results) else 'Validation loss'} after each "
                         f"epoch (epoch 0: before the first step; the optimizers of an axis are shifted by up "
                         f"to ±{DODGE} epoch so that curves which coincide stay visible); {layout}.{band}"),
        "final_accuracy.png": "PyTorch test accuracy per optimizer, best first (error bars: ± std over seeds).",
        "openvino.png": ("Test accuracy per optimizer in PyTorch and each OpenVINO precision "
                         f"(hatched: differs from PyTorch beyond test-set noise, McNemar p < {ALPHA})."),
        "tuning.png": "Validation score of every learning rate tried (star: chosen; x: diverged).",
    }


def write_all(out, results):
    """Write the figures into ``out``; returns ``{file name: caption}``."""
    plt = _pyplot()
    figures, notes = draw_all(results)
    for name, fig in figures.items():
        _save(fig, out / name)
        plt.close(fig)
    return {name: notes[name] for name in figures}


def draw_all(results):
    """``({file name: matplotlib figure}, {file name: caption})``, nothing written
    (close the figures with ``matplotlib.pyplot.close``)."""
    plt = _pyplot()
    what = f"{results['model']} on {results['dataset']}"
    series, time_constant, steps_per_epoch = _series(results)
    figures = {
        "loss.png": _loss_figure(plt, results, series, "steps", "step",
                                 f"Training loss per step: {what}"),
        "accuracy.png": _metric_figure(plt, results, series, what),
        "loss_time.png": _loss_figure(plt, results, series, "seconds", "training seconds",
                                      f"Training loss against time: {what}"),
        "final_accuracy.png": _final(plt, results, what),
    }
    if any(row["openvino"].get(p, {}).get("test_accuracy_mean") is not None
           for row in results["summary"] for p in results["precisions"]):
        figures["openvino.png"] = _openvino(plt, results, what)
    if results.get("tuning"):
        figures["tuning.png"] = _tuning(plt, results, what)
    return figures, captions(results, time_constant, steps_per_epoch)


def _final(plt, results, what):
    rows = [r for r in results["summary"] if r["test_accuracy_mean"] is not None]
    fig, ax = plt.subplots(figsize=(min(18, max(8, 0.55 * len(rows))), 5))
    if rows:
        names = [r["optimizer"] for r in rows]
        ax.bar(names, [r["test_accuracy_mean"] for r in rows],
               yerr=[r["test_accuracy_std"] or 0 for r in rows], capsize=3,
               color=[style(n)["color"] for n in names], edgecolor="black", linewidth=0.4)
        low = min(r["test_accuracy_mean"] for r in rows)
        ax.set_ylim(max(0.0, low - 0.05), 1.0)
        ax.set_xticks(range(len(names)), names, rotation=60, ha="right", rotation_mode="anchor")
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
    """Validation score against the learning rate (log axis), one line per optimizer;
    one panel per family above SMALL optimizers.

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
    if accuracy:
        ylabel, bottom, top = "validation accuracy", floor - 0.04, 1.01
    else:
        ylabel, bottom, top = "validation loss", None, floor * 1.5
    epochs = results.get("tune_epochs")
    ylabel += f" after {epochs} epoch" + "s" * (epochs != 1) if epochs else ""
    layout = panels(list(tuning))
    fig, axes = _grid(plt, len(layout))
    for ax, (family, members) in zip(axes, layout):
        for name in members:
            color, entry = style(name)["color"], tuning[name]
            points = [(t["lr"], None if t["score"] is None else t["score"] if accuracy else t["val_loss"])
                      for t in entry["trials"]]
            ax.plot([lr for lr, y in points if y is not None], [y for _, y in points if y is not None],
                    "-", color=color, marker=style(name)["marker"], markersize=4, label=name)
            diverged = [lr for lr, y in points if y is None]
            ax.plot(diverged, [floor] * len(diverged), "x", color=color, markersize=9, markeredgewidth=2)
            chosen = [y for lr, y in points if lr == entry["best_lr"]]
            if chosen:
                ax.plot([entry["best_lr"]], chosen, "*", color=color, markersize=16, markeredgecolor="black")
        ax.plot([], [], "x", color="gray", markersize=9, markeredgewidth=2, label="diverged (at the floor)")
        ax.plot([], [], "*", color="gray", markersize=14, markeredgecolor="black", label="chosen lr")
        ax.set_xscale("log")
        if not accuracy:
            ax.set_yscale("log")
        ax.set_ylim(bottom, top)
        ax.set(xlabel="learning rate", ylabel=ylabel)
        ax.set_title(family or "", fontsize=10)
        ax.grid(alpha=0.3, which="both")
        if family is None:   # outside: the floor stays visible
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        else:
            ax.legend(fontsize=7, loc="lower center", ncol=2)
    fig.suptitle(f"Learning-rate search: {what}", fontsize=11)
    fig.tight_layout()
    return fig
