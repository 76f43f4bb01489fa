"""The comparison figures the README shows, small, from a committed results.json.

    python3 benchmarks/report_figures.py [RUN_DIR/results.json]

With a path, keeps that comparison's results.json as docs/report/results.json
(without the packed per-example hits, which no figure draws); then draws
docs/report/*.png from docs/report/results.json with the figures of
``descentlab compare`` (``descentlab.compare.plots``), at a lower resolution and
as 256-colour PNGs so that the repository stays small.
"""

import argparse
import io
import json
from pathlib import Path

from PIL import Image

from descentlab.compare import plots

DOCS = Path(__file__).resolve().parents[1] / "docs" / "report"
DPI = 80
SHOWN = ("loss.png", "loss_time.png", "accuracy.png", "final_accuracy.png")


def _without_hits(value):
    """``value`` without its ``test_correct`` entries (packed per-example predictions)."""
    if isinstance(value, dict):
        return {k: _without_hits(v) for k, v in value.items() if k != "test_correct"}
    if isinstance(value, list):
        return [_without_hits(v) for v in value]
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", type=Path, help="a comparison's results.json to keep first")
    args = parser.parse_args()
    DOCS.mkdir(parents=True, exist_ok=True)
    if args.results:
        kept = _without_hits(json.loads(args.results.read_text()))
        (DOCS / "results.json").write_text(json.dumps(kept) + "\n")
    results = json.loads((DOCS / "results.json").read_text())
    figures, _ = plots.draw_all(results)
    for name in SHOWN:
        buffer = io.BytesIO()
        figures[name].savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
        buffer.seek(0)
        with Image.open(buffer) as image:
            image.convert("RGB").quantize(256).save(DOCS / name, optimize=True)
        print(DOCS / name)
    import matplotlib.pyplot as plt

    plt.close("all")


if __name__ == "__main__":
    main()
