"""The figures of the labs: contours with optimizer paths, loss per step, animations.

Every lab figure is drawn here, so every experiment looks alike: one colour,
marker and line style per optimizer (``style(i)``, the Okabe-Ito colours,
which stay distinct for colour-blind readers and in grey print), the minimum
as a black star, the start as a black circle, the claim as the title.
Figures are built without pyplot (no global state, no display needed) and
saved atomically at a modest dpi so the PNGs stay small.
"""

import os
import pathlib
import tempfile

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from descentlab import io

COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#882255")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "h")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), "-", "--")
DPI = 72
GRID = 120          # contour grid points per axis


def style(i):
    """Line keyword arguments of the i-th series."""
    return {"color": COLOURS[i % len(COLOURS)], "marker": MARKERS[i % len(MARKERS)],
            "linestyle": LINESTYLES[i % len(LINESTYLES)], "linewidth": 1.8, "markersize": 5}


def figure(ncols=2, width=5.2, height=4.4, title=None):
    """A ``Figure`` with ``ncols`` axes side by side, its claim as the title."""
    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    if title:
        fig.suptitle(title, fontsize=11)
    return fig, list(axes)


def save(fig, path):
    """Write ``fig`` as a 256-colour PNG, atomically: a line plot needs no more
    colours, and the file is a third of the full-colour one."""
    image = _image(fig)
    io.atomic_write(path, lambda f: image.save(f, format="PNG", optimize=True))
    return pathlib.Path(path).name


def png(fig):
    """``fig`` as PNG bytes, for a notebook to display without a file."""
    import io as bytes_io

    buffer = bytes_io.BytesIO()
    _image(fig).save(buffer, format="PNG")
    return buffer.getvalue()


def _image(fig):
    from PIL import Image

    fig.set_dpi(DPI)
    fig.canvas.draw()
    return Image.fromarray(np.asarray(fig.canvas.buffer_rgba())).convert("RGB").quantize(256)


def draw_landscape(ax, landscape):
    """Contour lines of the landscape over its frame, minima starred."""
    (x0, x1), (y0, y1) = landscape.xlim, landscape.ylim
    xs = torch.linspace(x0, x1, GRID, dtype=torch.float64)
    ys = torch.linspace(y0, y1, GRID, dtype=torch.float64)
    X, Y = torch.meshgrid(xs, ys, indexing="xy")
    Z = landscape.f(X, Y).numpy()
    floor = landscape.minimum_value
    if floor is None:                         # no minimum (saddle): evenly spaced levels
        levels = np.linspace(np.percentile(Z, 2), np.percentile(Z, 98), 17)
        shown = Z
    else:                                     # log-spaced heights above the minimum
        shown = Z - floor
        top = np.percentile(shown, 90)
        low = max(np.percentile(shown, 0.5), top * 1e-4, 1e-12)
        levels = np.geomspace(low, top, 16)
    ax.contourf(X.numpy(), Y.numpy(), shown, levels=levels, cmap="Greys", alpha=0.25, extend="both")
    ax.contour(X.numpy(), Y.numpy(), shown, levels=levels, colors="0.55", linewidths=0.6)
    for k, m in enumerate(landscape.minima):
        ax.plot(*m, marker="*", color="black", markersize=15, linestyle="none",
                label="minimum" if k == 0 else None, zorder=5)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel(landscape.labels[0])
    ax.set_ylabel(landscape.labels[1])


def draw_paths(ax, landscape, trajectories, legend=True):
    """Each trajectory's path over the landscape, drawn up to the frame's edge;
    returns the path lines (``animate`` shortens them)."""
    draw_landscape(ax, landscape)
    start = trajectories[0].points[0]
    ax.plot(*start, marker="o", color="black", markersize=8, linestyle="none", label="start", zorder=5)
    lines = []
    for i, t in enumerate(trajectories):
        points = np.array(t.points)
        lines += ax.plot(points[:, 0], points[:, 1], label=_label(t),
                         markevery=max(1, len(points) // 12), alpha=0.9, **style(i))
        if t.diverged or t.left_frame_at is not None:
            exit_point = _exit_point(landscape, t.points)
            ax.plot(*exit_point, marker="X", markersize=13, color=style(i)["color"], markeredgecolor="black",
                    linestyle="none", zorder=6)
            inward = [1 if v < (low + high) / 2 else -1 for v, (low, high) in
                      zip(exit_point, (landscape.xlim, landscape.ylim))]
            ax.annotate(f"step {t.steps}", exit_point, textcoords="offset points",
                        xytext=(8 * inward[0], (8 + 11 * i) * inward[1]), fontsize=8, color=style(i)["color"],
                        fontweight="bold", ha="left" if inward[0] > 0 else "right", zorder=6)
    if legend:
        ax.legend(fontsize=8, loc="best", framealpha=0.85)
    return lines


def _label(trajectory):
    if trajectory.diverged:
        how = "left the frame" if trajectory.left_frame_at is not None else "became NaN/inf"
        return f"{trajectory.label}: DIVERGED, {how} at step {trajectory.steps} (X)"
    if trajectory.left_frame_at is not None:
        return f"{trajectory.label}: left at step {trajectory.left_frame_at} (X)"
    return trajectory.label


def _exit_point(landscape, points):
    """Where a path that stopped early leaves the picture: the last in-frame point moved along
    its last step to the frame's edge (the last finite point if the step is not finite)."""
    inside = [p for p in points if np.all(np.isfinite(p)) and landscape.contains(p)]
    last = np.array(inside[-1] if inside else points[0], dtype=float)
    beyond = np.array(points[-1], dtype=float)
    if not np.all(np.isfinite(beyond)):
        return tuple(last)
    (x0, x1), (y0, y1) = landscape.xlim, landscape.ylim
    step = beyond - last
    fraction = 1.0
    for value, low, high, d in ((last[0], x0, x1, step[0]), (last[1], y0, y1, step[1])):
        if d > 0:
            fraction = min(fraction, (high - value) / d)
        elif d < 0:
            fraction = min(fraction, (low - value) / d)
    return tuple(last + max(fraction, 0.0) * step)


def draw_losses(ax, landscape, trajectories):
    """Loss per step: the gap to the minimum on a log scale (the loss itself without a minimum)."""
    floor = landscape.minimum_value
    for i, t in enumerate(trajectories):
        losses = np.array(t.losses)
        y = losses if floor is None else np.maximum(losses - floor, 1e-16)
        ax.plot(np.arange(len(y)), y, label=t.label, markevery=max(1, len(y) // 10), **style(i))
    if floor is not None:
        ax.set_yscale("log")
        ax.set_ylabel("loss - minimum")
    else:
        ax.set_ylabel("loss")
    ax.set_xlabel("step")
    ax.grid(alpha=0.3)


def paths_and_panels(title, landscape, trajectories, subtitle, panels=2, legend=True, width=4.6):
    """A figure whose first axes show the paths on the landscape, titled ``subtitle``,
    followed by ``panels`` empty axes; returns ``(fig, [those axes])``."""
    fig, axes = figure(panels + 1, width=width, title=title)
    draw_paths(axes[0], landscape, trajectories, legend=legend)
    axes[0].set_title(subtitle, fontsize=9)
    return fig, axes[1:]


def finish(ax, title, xlabel, ylabel, xscale="linear", yscale="linear", legend=True):
    """Title, labels, scales, a light grid and (by default) the legend of one panel."""
    ax.set(xlabel=xlabel, ylabel=ylabel, xscale=xscale, yscale=yscale)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    if legend:
        ax.legend(fontsize=8)


def note(ax, text, x=0.03, y=0.03, ha="left", va="bottom"):
    """A short boxed remark inside ``ax`` (at axes fraction ``x``, ``y``): why a measured
    line leaves its guide line."""
    ax.text(x, y, text, transform=ax.transAxes, fontsize=7.5, ha=ha, va=va, multialignment="left",
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "0.6", "alpha": 0.9})


def paths_figure(path, landscape, trajectories, title):
    """Contours with the paths (left), loss per step (right); saved to ``path``."""
    fig, (right,) = paths_and_panels(title, landscape, trajectories, f"{landscape.name}: {landscape.formula}",
                                     panels=1, width=5.2)
    draw_losses(right, landscape, trajectories)
    right.set_title("loss per step", fontsize=9)
    return save(fig, path)


def animate(path, landscape, trajectories, title, frames=24, fps=6):
    """A GIF of the paths growing step by step (matplotlib's PillowWriter), written atomically."""
    from matplotlib.animation import PillowWriter

    path = pathlib.Path(path)
    longest = max(t.steps for t in trajectories)
    cuts = sorted(set(np.linspace(0, longest, min(frames, longest + 1)).round().astype(int)))
    fig, (ax,) = figure(1, width=5.6, height=5.0, title=title)
    lines = draw_paths(ax, landscape, trajectories)
    writer = PillowWriter(fps=fps)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".gif")
    os.close(fd)
    try:
        with writer.saving(fig, tmp, dpi=60):
            for upto in cuts:
                for line, t in zip(lines, trajectories):
                    points = np.array(t.points[:upto + 1])
                    line.set_data(points[:, 0], points[:, 1])
                    line.set_markevery(max(1, len(t.points) // 12))
                ax.set_title(f"step {upto}", fontsize=9)
                writer.grab_frame()
        os.replace(tmp, path)
    finally:
        pathlib.Path(tmp).unlink(missing_ok=True)
    return path.name

