"""What the notebooks lean on, tested in this process: the student's file imported from
the folder above the notebook (or one line saying why not), and the sliders that fall
back to a few static panels without ipywidgets."""

import sys

import pytest

from descentlab.labs import notebook, plots, sliders
from lab_solutions import SOLUTIONS, fill


@pytest.fixture
def lab(tmp_path, monkeypatch):
    """A lab folder with its notebooks/ folder as the working directory, as Jupyter runs it."""
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in ("momentum", "step_decay"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return tmp_path


def test_load_imports_the_students_file_from_the_folder_above_afresh(lab, capsys):
    from descentlab.labs import handout

    stub = handout.stub_files()["momentum.py"]
    (lab / "momentum.py").write_text(fill(stub, SOLUTIONS["momentum"]))
    first = notebook.load("momentum")
    assert first.__name__ == "Momentum" and str(lab) == sys.path[0]
    (lab / "momentum.py").write_text(stub.replace("class Momentum(", "class Momentum(  "))   # an edit, saved
    again = notebook.load("momentum")
    assert again is not first                               # reloaded: the saved edit counts
    assert capsys.readouterr().out == ""


def test_load_says_in_one_line_why_there_is_nothing_to_use(lab, capsys):
    assert notebook.load("momentum") is None
    assert "momentum.py not found" in capsys.readouterr().out
    (lab / "momentum.py").write_text("def (:\n")
    assert notebook.load("momentum") is None
    out = capsys.readouterr().out
    assert "momentum.py does not import: SyntaxError" in out and len(out.strip().splitlines()) == 1
    (lab / "momentum.py").write_text("x = 1\n")
    assert notebook.load("momentum") is None
    assert "momentum.py defines no Momentum" in capsys.readouterr().out
    assert notebook.check("momentum", None) is False
    assert "nothing to check yet" in capsys.readouterr().out


def test_check_grades_the_class_and_ends_with_its_verdict(lab, capsys):
    from descentlab.labs import handout

    (lab / "momentum.py").write_text(fill(handout.stub_files()["momentum.py"], SOLUTIONS["momentum"]))
    assert notebook.check("momentum", notebook.load("momentum")) is True
    assert capsys.readouterr().out.strip().splitlines()[-1] == "momentum: every check passes"
    (lab / "momentum.py").write_text(handout.stub_files()["momentum.py"])      # the TODO still there
    assert notebook.check("momentum", notebook.load("momentum")) is False
    out = capsys.readouterr().out
    assert "not written yet" in out and out.strip().splitlines()[-1].startswith("momentum: not passing yet")


def test_static_panels_without_ipywidgets(monkeypatch):
    shown, drawn = [], []
    monkeypatch.setenv("DESCENTLAB_WIDGETS", "0")
    monkeypatch.setattr(sliders, "_show", lambda fig: shown.append(fig))
    assert not sliders.widgets_available()
    settings = [{"lr": 0.1, "momentum": m} for m in (0.0, 0.5, 0.9)]
    sliders.explore(lambda ax, **values: drawn.append((ax, values)),
                    {"lr": sliders.Control(0.01, 1.0, 0.1, log=True), "momentum": sliders.Control(0.0, 0.99, 0.5)},
                    settings, title="t")
    assert [values for _, values in drawn] == settings
    assert len(shown) == 1 and [ax for ax, _ in drawn] == shown[0].axes
    assert plots.png(shown[0])[:8] == b"\x89PNG\r\n\x1a\n"


def test_sliders_where_ipywidgets_is_installed(monkeypatch):
    import ipywidgets   # the labs extra

    monkeypatch.delenv("DESCENTLAB_WIDGETS", raising=False)
    shown, drawn, made = [], [], {}
    monkeypatch.setattr(sliders, "_show", lambda fig: shown.append(fig))
    monkeypatch.setattr(ipywidgets, "interact", lambda f, **controls: (made.update(controls),
                                                                      f(**{k: c.value for k, c in controls.items()})))
    assert sliders.widgets_available()
    sliders.explore(lambda ax, **values: drawn.append(values),
                    {"lr": sliders.Control(0.01, 1.0, 0.1, log=True, label="η"),
                     "momentum": sliders.Control(0.0, 0.99, 0.5)}, settings=[{}], title="t")
    assert isinstance(made["lr"], ipywidgets.FloatLogSlider) and made["lr"].min == pytest.approx(-2)
    assert made["lr"].description == "η" and made["lr"].value == pytest.approx(0.1)
    assert isinstance(made["momentum"], ipywidgets.FloatSlider) and made["momentum"].max == 0.99
    assert drawn == [{"lr": pytest.approx(0.1), "momentum": 0.5}] and len(shown) == 1   # drawn at the start values
