"""Every benchmark figure the README and the docs/ pages quote equals its committed
JSON (``benchmarks/readme_figures.py`` renders the blocks; here they are compared)."""

from pathlib import Path

import pytest

from benchmark_scripts import load_benchmark

ROOT = Path(__file__).resolve().parents[1]
figures = load_benchmark("readme_figures")


@pytest.mark.parametrize("path", list(figures.FILES), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_readmes_quote_the_committed_json(path):
    _, changed = figures.render(path.read_text(), figures.FILES[path])
    assert changed == [], f"run: python3 benchmarks/readme_figures.py --write ({changed})"


def test_a_figure_edited_by_hand_is_caught():
    path = ROOT / "docs" / "data-and-models.md"
    page = path.read_text()
    block = figures.BLOCKS["batching"]()
    edited = page.replace(block, block.replace(" ms", "0 ms"))
    assert edited != page
    assert figures.render(edited, figures.FILES[path])[1] == ["batching"]


def test_a_missing_block_is_caught():
    path = ROOT / "docs" / "openvino.md"
    page = path.read_text().replace("<!-- figures inference -->", "")
    with pytest.raises(ValueError, match="missing: \\['inference'\\]"):
        figures.render(page, figures.FILES[path])
