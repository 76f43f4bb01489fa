"""The comparison's figures and report.html at 1, 3 and 17 optimizers and 1 and 3 seeds,
drawn from synthetic results (tests/report_cases.py): every figure a real PNG of a
sane size, one colour per optimizer in every figure (its registry entry), one panel
per lecture family above ``plots.SMALL`` optimizers with the best drawn faintly,
the seed band, and a report.html that needs no network."""

import base64
import html.parser
import io as _io
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex
from PIL import Image

import report_cases
from descentlab import optimizers
from descentlab.compare import plots, report

ALL = optimizers.available()
SIZES = {1: ["adam"], 3: ["sgd", "momentum", "adam"], 17: ALL}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def optimizer_of(label):
    """The optimizer a legend label names ("adam", "adam (best overall)", "x (diverged: ...)")."""
    return label.split(" (")[0]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """report.write for every (optimizers, seeds) case: {(n, seeds): (dir, results, captions)}."""
    out = {}
    for n, names in SIZES.items():
        for seeds in ((0,), (0, 1, 2)):
            directory = tmp_path_factory.mktemp(f"report-{n}-{len(seeds)}")
            results = report_cases.results(names, seeds, diverging=("adadelta",) if n == 17 else ())
            report.write(directory, results)
            out[n, len(seeds)] = directory, results
    return out


@pytest.mark.slow
@pytest.mark.parametrize("n", sorted(SIZES))
@pytest.mark.parametrize("seeds", [1, 3])
def test_every_figure_is_a_png_of_sane_size(written, n, seeds):
    directory, _ = written[n, seeds]
    text = (directory / "report.md").read_text()
    for name in ("loss.png", "loss_time.png", "accuracy.png", "final_accuracy.png", "openvino.png", "tuning.png"):
        data = (directory / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(_io.BytesIO(data)) as image:
            image.verify()
        with Image.open(_io.BytesIO(data)) as image:
            width, height = image.size
        assert 500 <= width <= 2000 and 300 <= height <= 1000, (name, image.size)
        assert f"({name})" in text


def lines_by_optimizer(fig):
    """{optimizer: [Line2D]} of every labelled line of every axis."""
    out = {}
    for ax in fig.axes:
        for line in ax.get_lines():
            if not line.get_label().startswith("_"):
                out.setdefault(optimizer_of(line.get_label()), []).append(line)
    return out


@pytest.mark.slow
def test_each_optimizer_has_one_colour_and_marker_in_every_figure():
    for names in (SIZES[3], ALL):
        figures, _ = plots.draw_all(report_cases.results(names, (0, 1)))
        for file in ("loss.png", "loss_time.png", "accuracy.png"):
            drawn = lines_by_optimizer(figures[file])
            assert set(drawn) == set(names), file
            for name, lines in drawn.items():
                entry = optimizers.info(name)
                assert {to_hex(line.get_color()) for line in lines} == {entry.color}, (file, name)
                assert {line.get_marker() for line in lines} == {entry.marker}, (file, name)
        bars = figures["final_accuracy.png"].axes[0].patches
        labels = [t.get_text() for t in figures["final_accuracy.png"].axes[0].get_xticklabels()]
        assert [to_hex(b.get_facecolor()) for b in bars] == [optimizers.info(n).color for n in labels]


def test_colours_differ_within_every_family_and_overall():
    colors = [optimizers.info(n).color for n in ALL]
    assert len(set(colors)) == len(ALL)
    for family, members in optimizers.families().items():
        markers = [optimizers.info(n).marker for n in members]
        assert len(set(markers)) == len(members), family
        rgb = np.array([[int(optimizers.info(n).color[i:i + 2], 16) for i in (1, 3, 5)] for n in members])
        for i in range(len(members)):
            for j in range(i):
                assert np.abs(rgb[i] - rgb[j]).sum() > 120, (family, members[i], members[j])


def test_families_follow_the_lectures():
    families = optimizers.families()
    assert families["SGD family"] == ["sgd", "momentum", "nesterov"]
    assert set(families["adaptive-rate family"]) == {"adagrad", "adadelta", "rmsprop", "rprop"}
    assert {"adam", "adamw", "nadam", "radam", "amsgrad"} == set(families["Adam family"])
    assert set(families["recent variants"]) == {"adabelief", "diffgrad", "angulargrad", "adainject"}
    assert families["line search"] == ["linesearch"]
    assert sum(map(len, families.values())) == len(ALL)


@pytest.mark.slow
def test_many_optimizers_get_one_panel_per_family_with_the_best_faint():
    results = report_cases.results(ALL, (0,))
    best = results["summary"][0]["optimizer"]
    figures, _ = plots.draw_all(results)
    for file in ("loss.png", "accuracy.png"):
        axes = [ax for ax in figures[file].axes if ax.get_visible()]
        assert [ax.get_title() for ax in axes] == list(optimizers.families())
        for ax, members in zip(axes, optimizers.families().values()):
            labels = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
            faint = [label for label in labels if label.endswith("(best overall)")]
            assert faint == ([] if best in members else [f"{best} (best overall)"])
    few, _ = plots.draw_all(report_cases.results(ALL[:plots.SMALL], (0,)))
    assert len([ax for ax in few["loss.png"].axes if ax.get_visible()]) == 1


def test_seed_mean_and_band_are_those_of_the_runs():
    results = report_cases.results(["sgd", "adam"], (0, 1, 2))
    figures, _ = plots.draw_all(results)
    ax = figures["accuracy.png"].axes[0]
    for name in ("sgd", "adam"):
        runs = [r["history"] for r in results["runs"] if r["optimizer"] == name]
        per_seed = np.array([[h["initial_val_accuracy"], *h["val_accuracy"]] for h in runs])
        line = next(line for line in ax.get_lines() if line.get_label() == name)
        np.testing.assert_allclose(line.get_ydata(), per_seed.mean(axis=0))
        band = next(c for c in ax.collections if to_hex(c.get_facecolor()[0]) == optimizers.info(name).color)
        ys = band.get_paths()[0].vertices[:, 1]
        np.testing.assert_allclose([ys.min(), ys.max()], [per_seed.min(), per_seed.max()])


def test_ema_is_debiased_like_adams_m_hat():
    # beta = 1/2: m = 0.5, 1.25, 2.125; divided by 1 - 0.5^t = 0.5, 0.75, 0.875
    np.testing.assert_allclose(plots.ema([1.0, 2.0, 3.0], 2), [1.0, 1.25 / 0.75, 2.125 / 0.875])
    np.testing.assert_allclose(plots.ema([4.0] * 5, 7), [4.0] * 5)   # a constant stays itself


def test_step_times_are_interpolated_within_each_epoch():
    history = {"step_loss": [1.0] * 4, "seconds": [2.0, 5.0]}
    np.testing.assert_allclose(plots.step_seconds(history, 2), [1.0, 2.0, 3.5, 5.0])


@pytest.mark.slow
def test_a_diverged_optimizer_is_named_in_the_legend(written):
    _, results = written[17, 1]
    figures, _ = plots.draw_all(results)
    labels = [line.get_label() for ax in figures["loss.png"].axes for line in ax.get_lines()]
    assert "adadelta (diverged: 1/1 runs)" in labels


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.urls, self.images, self.rows, self.h1 = [], [], [], 0, ""
        self._in_h1 = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        self.urls += [attrs[k] for k in ("src", "href") if k in attrs]
        if tag == "img":
            self.images.append(attrs["src"])
        self.rows += tag == "tr"
        self._in_h1 = self._in_h1 or tag == "h1"

    def handle_endtag(self, tag):
        self._in_h1 = self._in_h1 and tag != "h1"

    def handle_data(self, data):
        if self._in_h1:
            self.h1 += data


@pytest.mark.slow
@pytest.mark.parametrize("n", [3, 17])
def test_report_html_holds_the_markdown_and_needs_no_network(written, n):
    directory, _ = written[n, 3]
    page = (directory / "report.html").read_text()
    markdown = (directory / "report.md").read_text()
    parsed = _Links()
    parsed.feed(page)
    parsed.close()
    assert parsed.tags[:1] == ["html"] and "script" not in parsed.tags and "link" not in parsed.tags
    assert not [u for u in parsed.urls if not u.startswith("data:image/png;base64,")]
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert "http:" not in text and "https:" not in text and "//" not in text and "url(" not in text
    shown = [line[line.index("(") + 1:-1] for line in markdown.splitlines() if line.startswith("![")]
    assert [base64.b64decode(u.split(",", 1)[1]) for u in parsed.images] == \
        [(directory / name).read_bytes() for name in shown]
    table_rows = [line for line in markdown.splitlines() if line.startswith("|") and not line.startswith("|--")
                  and not line.startswith("|:")]
    assert parsed.rows == len(table_rows)
    assert parsed.h1 == markdown.splitlines()[0].lstrip("# ").replace("`", "")
    assert "<strong>" in page and "<em>" in page


def test_markdown_outside_the_reports_subset_stays_text():
    page = report.webpage.render("# t\n\na <b>x</b> & `*y*`\n\n![f](f.png)", {"f.png": b"\x89PNG"})
    assert "a &lt;b&gt;x&lt;/b&gt; &amp; <code>*y*</code>" in page
    with pytest.raises(ValueError, match="g.png"):
        report.webpage.render("![g](g.png)", {})
