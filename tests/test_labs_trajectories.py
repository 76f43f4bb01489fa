"""Optimizer paths on landscapes against closed forms and torch.optim, the
frame and divergence rules, schedules and clipping, and the files written."""

import json
import math

import pytest
import torch

from descentlab.labs import landscapes, trajectories
from descentlab.labs.trajectories import Spec


def test_gradient_descent_on_the_quadratic_is_the_closed_form():
    # x_t = (1 - lr/kappa)^t x_0 and y_t = (1 - lr)^t y_0 on 1/2 (x^2/kappa + y^2)
    land = landscapes.get("quadratic")
    lr, steps = 0.3, 25
    path, = trajectories.run(land, [Spec("sgd", {"lr": lr})], steps=steps)
    x0, y0 = land.start
    for t, (x, y) in enumerate(path.points):
        assert x == pytest.approx(x0 * (1 - lr / 10) ** t, rel=1e-12)
        assert y == pytest.approx(y0 * (1 - lr) ** t, rel=1e-12, abs=1e-300)
    assert path.losses[-1] == pytest.approx(0.5 * (path.points[-1][0] ** 2 / 10 + path.points[-1][1] ** 2))
    assert path.evaluations == steps and not path.diverged and path.left_frame_at is None


def test_adam_path_matches_torch_optim_adam():
    land = landscapes.get("rosenbrock")
    path, = trajectories.run(land, [Spec("adam", {"lr": 0.05})], steps=60)
    p = torch.tensor(land.start, dtype=torch.float64, requires_grad=True)
    reference = torch.optim.Adam([p], lr=0.05)
    for point in path.points[1:]:
        reference.zero_grad()
        land.loss(p).backward()
        reference.step()
        assert p.detach().tolist() == pytest.approx(list(point), rel=1e-10, abs=1e-12)


def test_a_divergent_rate_is_drawn_until_it_leaves_the_frame():
    land = landscapes.get("quadratic")
    path, = trajectories.run(land, [Spec("sgd", {"lr": 2.5})], steps=500)
    # |1 - 2.5| = 1.5 per step along y: y = 2 * (-1.5)^t leaves [-3, 3] at t = 2
    assert path.left_frame_at == 2 and path.steps == 2
    assert not land.contains(path.points[-1]) and land.contains(path.points[-2])
    assert path.diverged
    summary = path.summary(land, 1e-3)
    assert summary["diverged"] and summary["steps_to_tolerance"] is None


def test_escaping_a_saddle_downhill_is_not_divergence():
    land = landscapes.get("saddle")
    path, = trajectories.run(land, [Spec("sgd", {"lr": 0.1})], steps=500)
    assert path.left_frame_at is not None and not path.diverged
    assert path.losses[-1] < path.losses[0]


def test_overflow_is_divergence_not_an_exception():
    land = landscapes.get("rosenbrock")
    path, = trajectories.run(land, [Spec("sgd", {"lr": 10.0})], steps=50)
    assert path.diverged and path.steps <= 2


def test_clipping_bounds_every_step_and_schedule_sets_each_lr():
    land = landscapes.get("cliff")
    path, = trajectories.run(land, [Spec("sgd", {"lr": 0.1}, clip_norm=0.5)], steps=120)
    assert max(path.step_lengths()) <= 0.1 * 0.5 * (1 + 1e-9)
    land = landscapes.get("quadratic")
    path, = trajectories.run(land, [Spec("sgd", {"lr": 0.8}, schedule="exponential")], steps=10)
    assert path.lrs == pytest.approx([0.8 * 0.95 ** t for t in range(10)], rel=1e-12)


def test_line_search_counts_its_evaluations():
    land = landscapes.get("neuron")
    path, = trajectories.run(land, [Spec("linesearch")], steps=7)
    assert path.evaluations == 7 * 5


def test_steps_to_tolerance_and_overshoot_by_hand():
    land = landscapes.get("quadratic")
    path = trajectories.Trajectory(Spec("sgd"), [(-2.0, 0.0), (-0.5, 0.0), (0.3, 0.0), (0.0005, 0.0)],
                                   [0.0] * 4)
    assert path.steps_to(land, 1e-3) == 3
    assert path.overshoot(land) == pytest.approx(0.3)
    assert path.step_lengths() == pytest.approx([1.5, 0.8, 0.2995])


def test_specs_and_starts_are_checked_before_any_work():
    with pytest.raises(ValueError, match="did you mean 'adam'"):
        trajectories.specs_from(["adma"])
    with pytest.raises(ValueError, match="not among the optimizers"):
        trajectories.specs_from(["sgd"], {"adam": 0.1})
    specs = trajectories.specs_from(["sgd", "adam"], {"adam": 0.1})
    assert [s.hparams for s in specs] == [{}, {"lr": 0.1}]
    land = landscapes.get("beale")
    with pytest.raises(ValueError, match="outside"):
        trajectories.run(land, specs, start=(9.0, 0.0))
    with pytest.raises(ValueError, match="not finite"):
        trajectories.run(land, specs, start=(math.inf, 0.0))


@pytest.mark.slow
def test_write_makes_png_gif_and_json(tmp_path):
    land = landscapes.get("himmelblau")
    paths = trajectories.run(land, trajectories.specs_from(["sgd", "momentum"], {"sgd": 0.01}), steps=8)
    result = trajectories.write(tmp_path, land, paths)
    assert (tmp_path / "trajectories.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "trajectories.gif").read_bytes()[:6] == b"GIF89a"
    saved = json.loads((tmp_path / "trajectories.json").read_text())
    assert saved == json.loads(json.dumps(result))
    sgd = saved["paths"][0]
    assert sgd["hparams"]["lr"] == 0.01 and saved["paths"][1]["hparams"]["lr"] == 1e-2   # registry default
    assert sgd["final_point"] == list(paths[0].points[-1])
    assert sgd["distance_to_minimum"] == pytest.approx(min(math.dist(paths[0].points[-1], m) for m in land.minima))
    assert set(sgd) >= {"final_loss", "steps_to_tolerance", "diverged", "left_frame_at", "evaluations"}


def test_landscape_defaults_choose_the_lr_per_family_and_are_recorded():
    land = landscapes.get("rosenbrock")
    specs = trajectories.specs_from(["sgd", "momentum", "adam", "adadelta"], {"adam": 0.05}, landscape=land)
    assert [s.hparams for s in specs] == [{"lr": 1e-3}, {"lr": 1e-3}, {"lr": 0.05}, {}]
    assert specs[0].lr_source == "rosenbrock's default for the SGD family"
    assert [s.lr_source for s in specs[2:]] == ["--lr", "registry default"]   # adadelta keeps lr = 1
    # the registry's momentum lr (1e-2) leaves Rosenbrock at once; its landscape default does not:
    # heavy ball is stable for lr * lambda < 2 (1 + mu) = 3.8, and lambda reaches 1702 at the start
    hessian_xx = float(land.hessian(land.start)[0, 0])
    assert 3.8 / hessian_xx > 1e-3 and 3.8 / hessian_xx < 1e-2
    assert trajectories.run_one(land, Spec("momentum"), land.start, 5).diverged
    paths = trajectories.run(land, trajectories.specs_from(["sgd", "momentum", "adam"], landscape=land), steps=200)
    assert not any(p.diverged or p.left_frame_at is not None for p in paths)
    summary = trajectories.summary(land, paths, land.start, 1e-3)
    assert [p["lr_source"] for p in summary["paths"]] == [
        "rosenbrock's default for the SGD family"] * 2 + ["rosenbrock's default for the Adam family"]
    # momentum carries the path along the flat valley further than plain gradient descent (lecture 002, 5.4)
    assert land.distance_to_minimum(paths[1].points[-1]) < land.distance_to_minimum(paths[0].points[-1])


def test_a_diverged_path_is_marked_where_it_left_the_frame():
    from descentlab.labs import plots

    land = landscapes.get("quadratic")
    paths = trajectories.run(land, [Spec("sgd", {"lr": 2.5}), Spec("sgd", {"lr": 0.5})], start=(-2.0, 1.0), steps=30)
    assert paths[0].diverged and not paths[1].diverged
    fig, (ax,) = plots.figure(1)
    plots.draw_paths(ax, land, paths)
    marks = [line for line in ax.get_lines() if line.get_marker() == "X"]
    assert len(marks) == 1
    (x,), (y,) = marks[0].get_data()
    # y alternates in sign and grows by |1 - 2.5| = 1.5 per step: it crosses y = -3 or 3 first
    assert abs(abs(y) - 3.0) < 1e-9 and -3 <= x <= 3
    labels = [line.get_label() for line in ax.get_lines()]
    assert f"sgd (lr=2.5): DIVERGED, left the frame at step {paths[0].steps} (X)" in labels
    assert any(t.get_text() == f"step {paths[0].steps}" for t in ax.texts)


def test_a_spec_takes_any_optimizer_class_such_as_a_students():
    land = landscapes.get("neuron")
    ours = trajectories.run_one(land, Spec("momentum", {"lr": 1.0}), land.start, 20)
    torchs = trajectories.run_one(land, Spec(torch.optim.SGD, {"lr": 1.0, "momentum": 0.9}), land.start, 20)
    flat = [[c for point in path.points for c in point] for path in (torchs, ours)]
    assert flat[0] == pytest.approx(flat[1], rel=1e-12)
    summary = torchs.summary(land, 1e-3)
    assert summary["optimizer"] == "SGD" and summary["hparams"]["lr"] == 1.0
    assert summary["hparams"]["dampening"] == 0          # torch.optim.SGD's own constructor default
    assert torchs.label == "SGD (lr=1, momentum=0.9)"
