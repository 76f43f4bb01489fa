"""The 2-D landscapes against hand-derived gradients and Hessians, published
minima and the lecture's numbers."""

import math

import pytest
import torch

from descentlab.labs import landscapes

POINTS = [(-1.3, 0.7), (0.4, -1.1), (2.0, 2.5), (-0.2, 0.05)]


def analytic(name, x, y):
    """(gradient, Hessian) written out by hand."""
    if name == "rosenbrock":
        g = [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)]
        h = [[2 - 400 * (y - 3 * x * x), -400 * x], [-400 * x, 200]]
    elif name == "himmelblau":
        a, b = x * x + y - 11, x + y * y - 7
        g = [4 * x * a + 2 * b, 2 * a + 4 * y * b]
        h = [[12 * x * x + 4 * y - 42, 4 * x + 4 * y], [4 * x + 4 * y, 4 * x + 12 * y * y - 26]]
    elif name == "beale":
        terms = [(1.5, 1), (2.25, 2), (2.625, 3)]
        g, h = [0.0, 0.0], [[0.0, 0.0], [0.0, 0.0]]
        for c, k in terms:
            r = c - x + x * y ** k
            rx, ry = y ** k - 1, k * x * y ** (k - 1)
            rxx, rxy, ryy = 0.0, k * y ** (k - 1), k * (k - 1) * x * y ** (k - 2) if k > 1 else 0.0
            g[0] += 2 * r * rx
            g[1] += 2 * r * ry
            h[0][0] += 2 * (rx * rx + r * rxx)
            h[0][1] += 2 * (rx * ry + r * rxy)
            h[1][1] += 2 * (ry * ry + r * ryy)
        h[1][0] = h[0][1]
    elif name == "saddle":
        g, h = [2 * x, -2 * y], [[2, 0], [0, -2]]
    return torch.tensor(g, dtype=torch.float64), torch.tensor(h, dtype=torch.float64)


@pytest.mark.parametrize("name", ["rosenbrock", "himmelblau", "beale", "saddle"])
@pytest.mark.parametrize("point", POINTS)
def test_gradient_and_hessian_by_hand(name, point):
    land = landscapes.get(name)
    g, h = analytic(name, *point)
    assert torch.allclose(land.gradient(point), g, rtol=1e-12, atol=1e-10)
    assert torch.allclose(land.hessian(point), h, rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("kappa, angle", [(10.0, 0.0), (25.0, 30.0), (4.0, -70.0)])
def test_quadratic_has_the_chosen_condition_number(kappa, angle):
    land = landscapes.quadratic(kappa, angle)
    h = land.hessian((0.3, -0.4))
    eigs = torch.linalg.eigvalsh(h)
    assert eigs.tolist() == pytest.approx([1 / kappa, 1.0], rel=1e-12)
    theta = math.radians(angle)
    slow = torch.tensor([math.cos(theta), math.sin(theta)], dtype=torch.float64)   # direction of 1/kappa
    assert float(slow @ h @ slow) == pytest.approx(1 / kappa, rel=1e-12)
    assert torch.allclose(h, landscapes.quadratic_matrix(kappa, angle), atol=1e-14)


PUBLISHED = {"rosenbrock": [(1.0, 1.0)], "beale": [(3.0, 0.5)],
             "himmelblau": [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)],
             "quadratic": [(0.0, 0.0)], "ravine": [(0.0, 0.0)], "cliff": [(2.0, 0.0)]}


@pytest.mark.parametrize("name", landscapes.available())
def test_minima_are_minima(name):
    land = landscapes.get(name)
    if name == "saddle":
        assert land.minima == ()
        assert torch.linalg.eigvalsh(land.hessian((0.0, 0.0))).tolist() == [-2.0, 2.0]
        return
    for m in land.minima:
        assert land.contains(m)
        assert float(land.gradient(m).norm()) < 1e-9
        assert float(torch.linalg.eigvalsh(land.hessian(m))[0]) > 0
    if name in PUBLISHED:
        for got, expected in zip(land.minima, PUBLISHED[name]):
            assert got == pytest.approx(expected, abs=1e-6)
        assert land.minimum_value == pytest.approx(0.0, abs=1e-12)


def test_neuron_surface_is_the_lecture_s():
    land = landscapes.get("neuron")
    # the slide: w = 0.5, b = 0 gives L = 0.073
    sig = lambda z: 1 / (1 + math.exp(-z))
    by_hand = 0.5 * ((sig(0.5 * 2.5) - 0.9) ** 2 + (sig(0.5 * 0.5) - 0.2) ** 2)
    # the data set stores the points as float32 (0.2 -> 0.2000000030)
    assert float(land.loss(torch.tensor([0.5, 0.0], dtype=torch.float64))) == pytest.approx(by_hand, rel=1e-7)
    assert by_hand == pytest.approx(0.073, abs=5e-4)
    (w, b), = land.minima
    assert sig(w * 0.5 + b) == pytest.approx(0.2, abs=1e-7)
    assert sig(w * 2.5 + b) == pytest.approx(0.9, abs=1e-7)


def test_sparse_problem_is_the_lecture_s():
    from descentlab.train import toys

    x, _ = toys.sparse()
    assert len(x) == 100 and 0.7 < float((x == 0).mean()) < 0.9
    land = landscapes.get("sparse")
    (w, b), = land.minima
    assert (w, b) != pytest.approx((toys.SPARSE_W, toys.SPARSE_B))    # zeroing x moved the minimum
    assert abs(w - toys.SPARSE_W) < 0.5 and abs(b - toys.SPARSE_B) < 0.5


def test_cliff_face_is_steep_and_the_bowl_gentle():
    land = landscapes.get("cliff")
    assert float(land.gradient((0.0, 0.0))[0]) == pytest.approx(-1.5 * 20 / 0.2 - 0.2, rel=1e-12)
    assert max(abs(float(land.gradient((x, 0.0))[0])) for x in (-3.0, -1.0, -0.2, 0.2, 3.0)) <= 0.5


def test_bad_names_and_starts_are_value_errors():
    with pytest.raises(ValueError, match="did you mean 'rosenbrock'"):
        landscapes.get("rosenbrok")
    land = landscapes.get("rosenbrock")
    with pytest.raises(ValueError, match="outside the 'rosenbrock' frame"):
        land.check_start((5.0, 0.0))
    with pytest.raises(ValueError, match="not finite"):
        land.check_start((float("nan"), 0.0))
    with pytest.raises(ValueError, match="two numbers"):
        land.check_start(("a", 1))
    with pytest.raises(ValueError, match="kappa"):
        landscapes.quadratic(0.5)


@pytest.mark.parametrize("name", landscapes.available())
def test_descriptions_are_plain_python(name):
    # numpy scalars would break the JSON that experiments write
    land = landscapes.get(name)
    for m in land.minima:
        assert all(type(v) is float for v in m)
    assert all(type(v) is float for v in land.start)
