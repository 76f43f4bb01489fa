"""Curvature against closed forms: the Hessian of logistic regression, power
iteration against the full eigen-decomposition, α* against the minimiser of
the loss along -g, and the stability bound against actual gradient descent."""

import math

import pytest
import torch

from descentlab.labs import hessian, landscapes


def binary_logistic(n=40, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = (torch.rand(n, generator=g, dtype=torch.float64) < 0.5).to(torch.float64)
    model = torch.nn.Linear(d, 1, bias=False).to(torch.float64)
    with torch.no_grad():
        model.weight.copy_(torch.randn(1, d, generator=g, dtype=torch.float64))
    loss = lambda out: torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], y)
    return model, loss, x


def test_exact_hessian_of_logistic_regression_is_the_textbook_one():
    model, loss, x = binary_logistic()
    theta, f = hessian.flat_loss(model, loss, x)
    p = torch.sigmoid(x @ theta)
    textbook = x.T @ torch.diag(p * (1 - p)) @ x / len(x)        # X^T diag(p(1-p)) X / n
    assert torch.allclose(hessian.exact_hessian(f, theta), textbook, atol=1e-12)
    v = torch.tensor([0.3, -1.0, 2.0], dtype=torch.float64)
    assert torch.allclose(hessian.hvp(f, theta, v), textbook @ v, atol=1e-12)


def test_flat_loss_leaves_the_model_as_it_was():
    model = torch.nn.Linear(3, 2)
    before = model.weight.detach().clone()
    theta, f = hessian.flat_loss(model, lambda out: out.square().mean(), torch.ones(4, 3))
    assert model.weight.dtype == torch.float32 and torch.equal(model.weight.detach(), before)
    assert theta.dtype == torch.float64 and theta.numel() == 8
    with torch.no_grad():
        assert float(f(theta)) == pytest.approx(float(model(torch.ones(4, 3)).square().mean()), rel=1e-6)


def test_power_iteration_agrees_with_the_eigen_decomposition():
    model, loss, x = binary_logistic(d=6)
    theta, f = hessian.flat_loss(model, loss, x)
    eigs = hessian.eigenvalues(hessian.exact_hessian(f, theta))
    lam, used = hessian.power_iteration(f, theta, iterations=500, tol=1e-12)
    assert lam == pytest.approx(float(eigs[-1]), rel=1e-8)
    assert used < 500


def test_optimal_step_minimises_the_loss_along_the_gradient():
    land = landscapes.quadratic(10.0, 30.0)
    x = torch.tensor([-2.0, 1.0], dtype=torch.float64)
    a = landscapes.quadratic_matrix(10.0, 30.0)
    g = a @ x                                                      # gradient of 1/2 x^T A x
    alpha = hessian.optimal_step(g, land.hessian(x) @ g)
    assert alpha == pytest.approx(float(g @ g / (g @ a @ g)), rel=1e-12)
    phi = lambda s: float(land.loss(x - s * g))
    assert phi(alpha) < min(phi(alpha * 0.99), phi(alpha * 1.01))
    assert hessian.optimal_step(g, -g) == math.inf               # no curvature: no finite optimum


def test_stability_bound_separates_convergence_from_divergence():
    land = landscapes.quadratic(5.0)
    lam_max = float(hessian.eigenvalues(land.hessian((0.0, 0.0)))[-1])
    bound = hessian.stability_bound(lam_max)
    assert bound == pytest.approx(2.0)
    for lr, converges in ((0.98 * bound, True), (1.02 * bound, False)):
        x = torch.tensor([1.0, 1.0], dtype=torch.float64)
        for _ in range(400):
            x = x - lr * land.gradient(x)
        assert (float(x.norm()) < 1.0) == converges


def test_condition_number_leaves_out_null_directions():
    eigs = torch.tensor([0.0, 1e-14, 0.5, 4.0], dtype=torch.float64)
    assert hessian.condition(eigs) == (math.inf, 8.0, 2)
    assert hessian.condition(torch.tensor([0.5, 4.0]))[0] == 8.0


def test_model_curvature_of_softmax_regression():
    # blobs2d: 2 features, 2 classes -> 6 parameters. Adding one vector (3 numbers: 2 weights and
    # a bias) to both classes leaves the softmax unchanged, so exactly 3 eigenvalues are 0.
    r = hessian.model_curvature("blobs2d", "logreg", samples=300)
    assert r["method"] == "exact" and r["parameters"] == 6 and r["samples"] == 300
    assert r["lambda_max_power"] == pytest.approx(r["lambda_max"], rel=1e-6)
    assert abs(r["lambda_min"]) < 1e-10 * r["lambda_max"]
    assert r["null_directions"] == 3 and r["kappa"] == math.inf and 1 < r["kappa_nonzero"] < math.inf
    assert r["lr_bound"] == pytest.approx(2 / r["lambda_max"])
    assert 0 < r["alpha_star"] < math.inf


def test_null_directions_of_softmax_regression_on_digits_are_named():
    # By hand: the softmax shift is 64 + 1 directions; each input that is the same in every example
    # adds 10 (one per class), of which 1 (the shift along that input) is already counted.
    from descentlab.train import datasets

    r = hessian.model_curvature("digits", "logreg", samples=256)
    x = datasets.load("digits").train.x[:256].reshape(256, -1)
    constant = int((x == x[0]).all(0).sum())
    assert constant >= 3
    assert r["null_directions"] == 65 + 9 * constant and r["negative_directions"] == 0
    named = {k.split(" (")[0]: v for k, v in r["null_explained"].items()}
    assert named["softmax shift"] == 65
    assert named[f"the {constant} inputs equal in every example"] == 10 * constant
    assert named["together"] == r["null_directions"]
    # alpha* is the step along g only: the curvature there is 1/alpha*, between lambda_min and lambda_max
    assert r["curvature_along_g"] == pytest.approx(1 / r["alpha_star"])
    assert r["lambda_min"] <= r["curvature_along_g"] <= r["lambda_max"]


def test_model_curvature_rejects_a_mismatched_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError):
        hessian.model_curvature("digits", "logreg", checkpoint=tmp_path / "none.pt")


def test_model_curvature_of_the_neuron_is_the_landscape_s():
    # sigmoid2's loss, the mean of (f(x) - y)^2 over its 2 points, is the lecture's 1/2 sum:
    # at the model's initial (w, b) its Hessian is the 'neuron' landscape's.
    from descentlab import models

    r = hessian.model_curvature("sigmoid2", "neuron")
    net = models.create("neuron", (1,), 1, seed=0)
    point = (float(net.w), float(net.b))
    eigs = hessian.eigenvalues(landscapes.get("neuron").hessian(point))
    assert r["lambda_max"] == pytest.approx(float(eigs[-1]), rel=1e-6)
    assert r["lambda_min"] == pytest.approx(float(eigs[0]), rel=1e-6)
    assert r["loss"] == pytest.approx(float(landscapes.get("neuron").loss(torch.tensor(point, dtype=torch.float64))),
                                      rel=1e-6)
