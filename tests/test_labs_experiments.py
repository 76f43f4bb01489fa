"""Each lecture experiment's claim, asserted on the numbers its fast run
measures (the figures are drawn by ``lab run``; tests/test_labs_cli.py runs
one end to end). Reference values are computed here by hand."""

import math

import pytest

from descentlab.labs import experiments
from descentlab.labs.threads import one_thread


def measure(name):
    with one_thread():
        return experiments.get(name).measure(fast=True)[0]


def test_the_registry_lists_eleven_experiments_each_with_a_lecture():
    names = experiments.available()
    assert len(names) == 11 and len(set(names)) == 11
    for row in experiments.describe():
        assert row["lecture"].startswith("lecture 00")
    with pytest.raises(ValueError, match="did you mean 'clipping'"):
        experiments.get("clipin")


def test_learning_rates():
    r = measure("learning-rates")
    assert r["lr_bound"] == pytest.approx(2.0)                     # 2 / lambda_max, lambda_max = 1
    cases = {c["case"]: c for c in r["cases"]}
    assert cases["divergent"]["diverged"] and cases["divergent"]["final_loss"] > 2.3125   # start loss
    assert not cases["too big"]["diverged"] and cases["too big"]["final_loss"] < 2.3125
    assert cases["right (1/λ_max)"]["final_loss"] < cases["too big"]["final_loss"]
    assert cases["too small"]["final_loss"] > 100 * cases["right (1/λ_max)"]["final_loss"]
    for row in r["sweep"]:
        assert row["diverged"] == (row["lr"] > 2.0)
    assert all(r["checks"].values())


def test_momentum_nag():
    r = measure("momentum-nag")
    for surface in ("neuron", "ravine"):
        assert r[surface]["nag"]["overshoot"] < r[surface]["momentum"]["overshoot"]
        assert r[surface]["gd"]["overshoot"] == 0
    assert r["neuron"]["momentum"]["final_loss"] < r["neuron"]["gd"]["final_loss"]
    assert r["neuron"]["lr"] == 1.0 and r["momentum"] == 0.9       # the lecture's eta and gamma


def test_batch_sizes():
    r = measure("batch-sizes")
    batch, mini, sgd = r["runs"]
    assert [batch["updates_per_epoch"], mini["updates_per_epoch"], sgd["updates_per_epoch"]] == \
        [1, math.ceil(768 / 32), 768]
    assert batch["fraction_of_updates_raising_the_loss"] == 0
    assert sgd["fraction_of_updates_raising_the_loss"] > mini["fraction_of_updates_raising_the_loss"] > 0
    assert sgd["loss_after_epoch_1"] < mini["loss_after_epoch_1"] < batch["loss_after_epoch_1"]


def test_adaptive_sparse():
    r = measure("adaptive-sparse")
    b = r["effective_lr_b"]
    assert b["adagrad"] < b["rmsprop"] / 10                       # the claim, at step 100
    assert r["adagrad_loglog_slope_on_b"] == pytest.approx(-0.5, abs=0.1)   # like 1 / sqrt(t)
    assert r["effective_lr_w"]["adagrad"] > b["adagrad"]           # the sparse coordinate keeps moving


def test_bias_correction():
    r = measure("bias-correction")
    assert r["first_step"]["corrected"] == pytest.approx(0.01 * math.sqrt(2), rel=1e-4)
    assert r["first_step_ratio"] == pytest.approx(0.1 / math.sqrt(0.001), rel=1e-2)   # 3.162
    assert r["largest_ratio_first_20"] > 5
    assert r["measured_ratio_at_10"] == pytest.approx((1 - 0.9 ** 10) / math.sqrt(1 - 0.999 ** 10), rel=0.1)


def test_schedules():
    r = measure("schedules")
    runs = {row["schedule"]: row for row in r["runs"]}
    assert runs["constant"]["diverged"]
    start_loss = 0.5 * (2.5 ** 2 / 10 + 0.5 ** 2)
    for name in ("step", "exponential", "inverse_time", "inverse_sqrt", "plateau"):
        assert not runs[name]["diverged"] and runs[name]["final_loss"] < 0.1 * start_loss
    # first step with lr < 2 by hand: 2.2*0.95^t < 2 at t = 2; 2.2/(1+t) at t = 1; step decay at t = 5
    assert runs["exponential"]["first_step_below_bound"] == 2
    assert runs["inverse_time"]["first_step_below_bound"] == 1
    assert runs["step"]["first_step_below_bound"] == 5


def test_line_search():
    r = measure("line-search")
    steps = r["steps_to_tolerance"]
    search = next(k for k in steps if k.startswith("line search"))
    fixed = next(k for k in steps if k.startswith("fixed"))
    assert steps[search] is not None and steps[search] < (steps[fixed] or r["steps"] + 1)
    assert r["evaluations_per_step"] == {fixed: 1.0, search: 5.0}


@pytest.mark.slow
def test_optimal_step():
    r = measure("optimal-step")
    for row in r["kappas"]:
        k = row["kappa"]
        bound = ((k - 1) / (k + 1)) ** 2
        assert row["max_alpha_difference"] < 1e-6
        assert row["worst_start_ratios"] == pytest.approx([bound] * len(row["worst_start_ratios"]), rel=1e-9)
        assert row["other_start_max_ratio"] <= bound * (1 + 1e-9)


def test_momentum_theory():
    r = measure("momentum-theory")
    assert [row["kappa"] for row in r["kappas"]] == [10, 100, 1000]
    for row in r["kappas"]:
        k = row["kappa"]
        lam_min, lam_max = 1 / k, 1.0
        gd, heavy = (k - 1) / (k + 1), (math.sqrt(k) - 1) / (math.sqrt(k) + 1)   # Polyak 1964
        assert row["gd_lr"] == pytest.approx(2 / (lam_min + lam_max))
        assert row["momentum_lr"] == pytest.approx(4 / (math.sqrt(lam_max) + math.sqrt(lam_min)) ** 2)
        assert row["beta"] == pytest.approx(heavy ** 2)
        assert row["gd_rate"] == pytest.approx(gd, abs=0.02 * (1 - gd))
        assert row["momentum_rate"] == pytest.approx(heavy, abs=0.02 * (1 - heavy))
        for e in row["per_eigenvalue"]:
            # gradient descent: |1 - lr*lam| by hand; heavy ball: every root has modulus sqrt(beta)
            assert e["gd"] == pytest.approx(abs(1 - row["gd_lr"] * e["lambda"]), abs=1e-6)
            assert e["momentum"] == pytest.approx(heavy, abs=0.02 * (1 - heavy))
    damping = r["critical_damping"]
    assert damping["critical_beta"] == pytest.approx((1 - math.sqrt(0.1 * 1.0)) ** 2)     # 0.4675
    assert damping["shown"]["over-damped"]["sign_changes"] == 0
    assert damping["shown"]["critical"]["sign_changes"] == 0
    assert damping["shown"]["under-damped"]["sign_changes"] >= 5
    for row in damping["sweep"]:
        assert (row["sign_changes"] > 0) == (row["beta"] > 0.4675444679663241)
    assert all(r["checks"].values())


def test_clipping():
    r = measure("clipping")
    raw, clipped = "no clipping", "clip_grad_norm(1)"
    assert r["left_frame_at"][raw] is not None and r["largest_step"][raw] > 2.0
    assert r["left_frame_at"][clipped] is None and r["largest_step"][clipped] <= 0.1 + 1e-9
    assert r["final_point"][clipped][0] > 0.1 and r["final_loss"][clipped] < 1.0   # past the 20-high cliff


@pytest.mark.slow
def test_recent_optimizers():
    r = measure("recent-optimizers")
    d = {k: v["distance_to_minimum"] for k, v in r["rosenbrock"].items()}
    assert min(d["diffgrad"], d["angulargrad"], d["adainject"]) > max(d["adam"], d["adabelief"])
    assert r["rosenbrock"]["radam"]["left_frame_at"] == 1
    escape = r["saddle_escape_step"]
    assert all(escape[n] < escape["sgd"] for n in escape if n != "sgd")
