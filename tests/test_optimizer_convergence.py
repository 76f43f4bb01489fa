"""Every optimizer minimises Rosenbrock (a=1, b=100) from (-1.5, 2) and an
ill-conditioned quadratic 0.5*(x^2 + 100 y^2) (condition number 100) from
(1, 1), within a stated number of steps and tolerance on f.

Adding an optimizer to the registry means adding a row to both tables:
``test_every_optimizer_has_a_row`` fails until then.
"""

import pytest
import torch

from descentlab import optimizers
from optimizer_cases import beale, beale_grad, minimise


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def rosenbrock_grad(x):
    return torch.stack([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


def quadratic(x):
    return 0.5 * (x[0] ** 2 + 100 * x[1] ** 2)


def quadratic_grad(x):
    return torch.stack([x[0], 100 * x[1]])


# name -> (hyperparameters, steps, f must end below). f(start) = 12.5 (Rosenbrock), 50.5 (quadratic).
ROSENBROCK = {
    "sgd": ({"lr": 1e-3}, 20000, 1e-6),
    "momentum": ({"lr": 1e-3}, 2000, 1e-6),
    "nesterov": ({"lr": 1e-3}, 2000, 1e-6),
    "adagrad": ({"lr": 0.5}, 20000, 1e-8),
    # Adadelta crawls along Rosenbrock's valley with its defaults: only progress is required.
    "adadelta": ({}, 2000, 1.0),
    "rprop": ({"lr": 1e-3}, 5000, 1e-6),
    "rmsprop": ({"lr": 1e-4, "momentum": 0.9}, 5000, 1e-6),
    "adam": ({"lr": 2e-2}, 5000, 1e-10),
    "adamw": ({"lr": 2e-2, "weight_decay": 0}, 5000, 1e-10),
    "amsgrad": ({"lr": 2e-2}, 5000, 1e-6),
    "nadam": ({"lr": 2e-2}, 5000, 1e-3),
    # RAdam's first steps are plain momentum steps of lr * g (|g| ~ 160 at the start).
    "radam": ({"lr": 1e-2}, 6000, 1e-3),
    "adabelief": ({"lr": 2e-2}, 3000, 1e-10),
    "diffgrad": ({"lr": 5e-2}, 3000, 1e-10),
    "angulargrad": ({"lr": 5e-2}, 2000, 1e-5),
    "adainject": ({"lr": 2e-2}, 4000, 1e-5),
    # Gradient descent with the best of a few step sizes still crawls along the valley.
    "linesearch": ({"lrs": (1e-4, 5e-4, 1e-3, 2e-3)}, 2000, 0.05),
}
QUADRATIC = {
    "sgd": ({"lr": 0.015}, 1000, 1e-10),
    "momentum": ({"lr": 1e-3}, 1000, 1e-8),
    "nesterov": ({"lr": 1e-3}, 1000, 1e-8),
    "adagrad": ({"lr": 0.5}, 200, 1e-10),
    "adadelta": ({}, 2000, 0.05),  # hovers around the minimum at the scale its eps sets
    "rprop": ({"lr": 1e-3}, 200, 1e-8),
    "rmsprop": ({"lr": 1e-2}, 1000, 1e-3),
    "adam": ({"lr": 2e-2}, 1000, 1e-10),
    "adamw": ({"lr": 2e-2, "weight_decay": 0}, 1000, 1e-10),
    "amsgrad": ({"lr": 2e-2}, 1000, 1e-10),
    "nadam": ({"lr": 2e-2}, 1000, 1e-10),
    "radam": ({"lr": 2e-2}, 1000, 1e-10),
    "adabelief": ({"lr": 2e-2}, 1000, 1e-10),
    "diffgrad": ({"lr": 2e-2}, 1000, 1e-10),
    "angulargrad": ({"lr": 2e-2}, 1000, 1e-10),
    "adainject": ({"lr": 2e-2}, 1000, 1e-10),
    "linesearch": ({"lrs": (0.005, 0.01, 0.015, 0.02)}, 300, 1e-5),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ROSENBROCK))
def test_rosenbrock(name):
    hp, steps, tol = ROSENBROCK[name]
    assert rosenbrock(minimise(name, rosenbrock, rosenbrock_grad, [-1.5, 2.0], hp, steps)).item() < tol


@pytest.mark.parametrize("name", sorted(QUADRATIC))
def test_ill_conditioned_quadratic(name):
    hp, steps, tol = QUADRATIC[name]
    assert quadratic(minimise(name, quadratic, quadratic_grad, [1.0, 1.0], hp, steps)).item() < tol


def test_every_optimizer_has_a_row():
    assert set(optimizers.available()) <= set(ROSENBROCK) & set(QUADRATIC)


def test_the_hand_written_gradients_are_autograds():
    points = torch.randn(20, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 2
    for f, grad in ((rosenbrock, rosenbrock_grad), (quadratic, quadratic_grad), (beale, beale_grad)):
        for point in points:
            x = point.clone().requires_grad_()
            f(x).backward()
            torch.testing.assert_close(grad(point), x.grad, rtol=1e-12, atol=1e-12)
