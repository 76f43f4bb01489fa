"""Sliders over a lab figure where ipywidgets is installed; a few fixed
settings side by side where it is not.

``explore(draw, controls, settings)``: ``draw(ax, **values)`` draws one
setting into ``ax``. With ipywidgets (``pip install ipywidgets``; the
``labs`` extra brings it) each entry of ``controls`` becomes a slider and
moving one redraws the figure, as in Goh's "Why Momentum Really Works"
(Distill, 2017). Without ipywidgets, or with ``DESCENTLAB_WIDGETS=0`` (for
output that cannot run sliders: CI, nbconvert to HTML or PDF), the same
``draw`` makes one figure with a panel per entry of ``settings``.
"""

import dataclasses
import importlib.util
import math
import os


@dataclasses.dataclass(frozen=True)
class Control:
    """One slider: its range, its first value, and whether it moves on a log scale."""
    low: float
    high: float
    value: float
    log: bool = False
    label: str = ""


def widgets_available():
    """True where ipywidgets can be imported and ``DESCENTLAB_WIDGETS`` is not 0."""
    return os.environ.get("DESCENTLAB_WIDGETS") != "0" and importlib.util.find_spec("ipywidgets") is not None


def explore(draw, controls, settings, title=None):
    """Sliders over ``draw`` (ipywidgets), or the static panels of ``settings`` (a list of
    dicts of values, one panel each)."""
    if widgets_available():
        _sliders(draw, controls, title)
    else:
        _static(draw, settings, title)


def _show(fig):
    from IPython.display import Image, display

    from descentlab.labs import plots

    display(Image(data=plots.png(fig)))


def _sliders(draw, controls, title):
    import ipywidgets

    from descentlab.labs import plots

    def redraw(**values):
        fig, (ax,) = plots.figure(1, width=6.4, height=5.2, title=title)
        draw(ax, **values)
        _show(fig)

    sliders = {}
    for name, c in controls.items():
        common = {"value": c.value, "description": c.label or name, "continuous_update": False,
                  "style": {"description_width": "initial"}, "layout": {"width": "420px"}}
        if c.log:
            sliders[name] = ipywidgets.FloatLogSlider(min=math.log10(c.low), max=math.log10(c.high),
                                                      step=0.02, **common)
        else:
            sliders[name] = ipywidgets.FloatSlider(min=c.low, max=c.high, step=(c.high - c.low) / 200,
                                                   **common)
    ipywidgets.interact(redraw, **sliders)


def _static(draw, settings, title):
    from descentlab.labs import plots

    fig, axes = plots.figure(len(settings), width=4.2, height=4.2, title=title)
    for ax, values in zip(axes, settings):
        draw(ax, **values)
    _show(fig)
