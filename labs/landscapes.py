"""Two-dimensional loss surfaces with known minima, for drawing optimizer paths.

Every surface is a torch function ``f(x, y)`` of two broadcastable tensors, so
the same code draws its contours (on a grid) and is minimised by an optimizer
(on one point); its gradient and Hessian come from autograd
(``Landscape.gradient``, ``Landscape.hessian``). Its minima are given in
closed form where one exists and otherwise polished by Newton's method from a
nearby guess to machine precision (``Landscape.minima``).

| name | f(x, y) | minimum | lecture |
|---|---|---|---|
| quadratic | ½(λ₁x² + λ₂y²), λ = (1/κ, 1), κ = 10 | (0, 0) | 003 (condition number) |
| ravine | the quadratic with κ = 25 rotated by 30° | (0, 0) | 002 Module 5.4; 004 (ravines) |
| rosenbrock | (1 − x)² + 100(y − x²)² | (1, 1) | 004 |
| beale | (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)² | (3, 0.5) | 004 |
| himmelblau | (x² + y − 11)² + (x + y² − 7)² | four, one at (3, 2) | - |
| saddle | x² − y² | none (saddle point at 0) | 004 (saddle points) |
| cliff | ½(0.1(x − 2)² + y²) + 20·(1 − smoothstep over x ∈ [−0.1, 0.1]) | (2, 0) | 003 (exploding gradients) |
| neuron | ½ Σᵢ (σ(w xᵢ + b) − yᵢ)² on (0.5, 0.2), (2.5, 0.9) | (1.792, −2.282), loss 0 | 002 Modules 5.1-5.5 |
| sparse | the same loss on the 100 points of ``train.toys.sparse`` (80% of x are 0) | Newton-polished | 002 Module 5.9 |

For the two neuron surfaces the coordinates are (w, b), and the loss is the
lecture's ½ Σ (y − f(x))², summed over the points as in its code (0.073 at
w = 0.5, b = 0, as on the slide).

Each landscape also carries default learning rates per optimizer family
(``Landscape.lrs``, read by ``lab trajectories`` when no ``--lr`` is given):
the registry's defaults are made for networks, and on these surfaces they
diverge at once (momentum's 1e-2 on Rosenbrock, whose curvature reaches 1700
at the default start) or barely move. Each was chosen from a sweep of 1e-4 to
3 over 200 steps from the default start: the largest rate at which no member
of the family diverges that reaches the minimum fastest, except where the
lecture's point is the failure (the cliff's jump at η = 0.1, lecture 003;
RAdam's first step off Rosenbrock, lecture 004) or the lecture gives the rate
(η = 1 on the neuron, lecture 002 Module 5.4).
"""

import dataclasses
import functools
import math

import torch

from descentlab.optimizers.registry import unknown_name


@dataclasses.dataclass(frozen=True)
class Landscape:
    name: str
    formula: str
    f: object                  # f(x, y) -> tensor, elementwise over broadcast x, y
    xlim: tuple                # the plot frame; a path leaving it has left the picture
    ylim: tuple
    start: tuple               # the default start point
    minima: tuple = ()         # ((x, y), ...), empty when there is none (saddle)
    labels: tuple = ("x", "y")
    lecture: str = ""
    lrs: dict = dataclasses.field(default_factory=dict)   # optimizer family -> default lr here

    def default_lr(self, optimizer):
        """The learning rate ``optimizer`` (a registry name) starts with here, or None (the
        registry's default): the family's entry of ``lrs``; adadelta and rprop keep theirs (their
        lr scales a step they adapt themselves), line search has none."""
        from descentlab import optimizers

        if optimizer in OWN_LR:
            return None
        return self.lrs.get(optimizers.info(optimizer).family)

    def loss(self, point):
        """f at a tensor ``point`` of shape [2]."""
        return self.f(point[0], point[1])

    def gradient(self, point):
        return torch.func.grad(self.loss)(_as_tensor(point))

    def hessian(self, point):
        return torch.func.hessian(self.loss)(_as_tensor(point))

    @property
    def minimum_value(self):
        """The lowest value over ``minima`` (None without a minimum)."""
        if not self.minima:
            return None
        return min(float(self.loss(_as_tensor(m))) for m in self.minima)

    def distance_to_minimum(self, point):
        """Euclidean distance from ``point`` to the nearest minimum (None without one)."""
        if not self.minima:
            return None
        return min(math.dist(point, m) for m in self.minima)

    def contains(self, point):
        (x0, x1), (y0, y1) = self.xlim, self.ylim
        return x0 <= point[0] <= x1 and y0 <= point[1] <= y1

    def check_start(self, start):
        """``start`` as a float pair; ``ValueError`` if it is not finite or outside the frame."""
        try:
            x, y = (float(v) for v in start)
        except (TypeError, ValueError):
            raise ValueError(f"start must be two numbers X,Y, got {start!r}") from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"start ({x}, {y}) is not finite: give two finite numbers X,Y")
        if not self.contains((x, y)):
            raise ValueError(f"start ({x:g}, {y:g}) is outside the '{self.name}' frame "
                             f"x in [{self.xlim[0]:g}, {self.xlim[1]:g}], "
                             f"y in [{self.ylim[0]:g}, {self.ylim[1]:g}]")
        return x, y


OWN_LR = ("adadelta", "rprop", "linesearch")


def _lrs(sgd, adaptive, adam, recent):
    return {"sgd": sgd, "adaptive": adaptive, "adam": adam, "recent": recent}


def _as_tensor(point):
    if isinstance(point, torch.Tensor):
        return point.to(torch.float64)
    return torch.tensor(point, dtype=torch.float64)


def newton_polish(f, guess, steps=50):
    """A stationary point of ``f(x, y)`` near ``guess`` by Newton's method (float64),
    stopped once a step no longer moves the point by more than rounding."""
    p = _as_tensor(guess).clone()
    loss = lambda q: f(q[0], q[1])
    for _ in range(steps):
        step = torch.linalg.solve(torch.func.hessian(loss)(p), torch.func.grad(loss)(p))
        p = p - step
        if float(step.norm()) <= 1e-15 * (1 + float(p.norm())):
            break
    return tuple(float(v) for v in p)


def quadratic(kappa=10.0, angle=0.0, name=None):
    """f = ½ (p)ᵀ A p with eigenvalues 1/κ and 1 (so λ_max = 1 and the
    condition number is κ), the eigenvector of 1/κ at ``angle`` degrees from x
    (lecture 003, "condition number"; lecture 002 Module 5.4, the ravine)."""
    if not (isinstance(kappa, (int, float)) and math.isfinite(kappa) and kappa >= 1):
        raise ValueError(f"kappa must be a finite number >= 1, got {kappa!r}")
    theta = math.radians(angle)
    c, s = math.cos(theta), math.sin(theta)
    lam1, lam2 = 1.0 / kappa, 1.0

    def f(x, y):
        u, v = c * x + s * y, -s * x + c * y     # coordinates along the eigenvectors
        return 0.5 * (lam1 * u ** 2 + lam2 * v ** 2)

    rotated = f" rotated by {angle:g} deg" if angle else ""
    return Landscape(name or f"quadratic(kappa={kappa:g}, angle={angle:g})",
                     f"1/2 (x^2/{kappa:g} + y^2){rotated}", f, (-3.0, 3.0), (-3.0, 3.0),
                     (-2.5, 2.0) if not angle else (-2.5, -0.5), minima=((0.0, 0.0),),
                     lecture="lecture 003 (condition number); lecture 002 Module 5.4 (ravine)",
                     lrs=_lrs(0.3, 0.1, 0.1, 0.1))


def quadratic_matrix(kappa, angle=0.0):
    """The matrix A of ``quadratic(kappa, angle)``, for hand-made references."""
    theta = math.radians(angle)
    rotation = torch.tensor([[math.cos(theta), -math.sin(theta)],
                             [math.sin(theta), math.cos(theta)]], dtype=torch.float64)
    return rotation @ torch.diag(torch.tensor([1.0 / kappa, 1.0], dtype=torch.float64)) @ rotation.T


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def beale(x, y):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


def himmelblau(x, y):
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


def saddle(x, y):
    return x ** 2 - y ** 2


CLIFF_HEIGHT, CLIFF_HALF_WIDTH, CLIFF_MINIMUM = 20.0, 0.1, 2.0


def cliff(x, y):
    """A gentle bowl with a 20-high cliff at x = 0: the cliff face (|x| < 0.1)
    is a C¹ smoothstep whose slope reaches 1.5·20/0.2 = 150, while the bowl's
    slope is below 0.5 everywhere in the frame; the minimum (2, 0) lies at the
    cliff's foot."""
    t = torch.clamp((x + CLIFF_HALF_WIDTH) / (2 * CLIFF_HALF_WIDTH), 0.0, 1.0)
    step = t * t * (3 - 2 * t)
    return 0.5 * (0.1 * (x - CLIFF_MINIMUM) ** 2 + y ** 2) + CLIFF_HEIGHT * (1 - step)


def neuron_loss(points_x, points_y):
    """L(w, b) = ½ Σᵢ (σ(w xᵢ + b) − yᵢ)² over the given points (lecture 002)."""
    px = torch.as_tensor(points_x, dtype=torch.float64).reshape(-1)
    py = torch.as_tensor(points_y, dtype=torch.float64).reshape(-1)

    def f(w, b):
        w, b = torch.as_tensor(w), torch.as_tensor(b)
        out = torch.sigmoid(w.unsqueeze(-1) * px + b.unsqueeze(-1))
        return 0.5 * ((out - py) ** 2).sum(-1)

    return f


def _neuron():
    from descentlab.train import toys

    x, y = toys.sigmoid2()
    # Both points are fitted exactly where w x + b = logit(y) for both: two linear equations.
    (x1, x2), (y1, y2) = x[:, 0].tolist(), y[:, 0].tolist()
    l1, l2 = math.log(y1 / (1 - y1)), math.log(y2 / (1 - y2))
    w = (l2 - l1) / (x2 - x1)
    return Landscape("neuron", "1/2 sum_i (sigmoid(w x_i + b) - y_i)^2 on (0.5, 0.2), (2.5, 0.9)",
                     neuron_loss(x, y), (-6.0, 6.0), (-6.0, 6.0), (-2.0, -2.0),
                     minima=((w, l1 - x1 * w),), labels=("w", "b"),
                     lecture="lecture 002 Modules 5.1-5.5 (the sigmoid neuron's error surface)",
                     lrs=_lrs(1.0, 0.3, 0.1, 0.3))


def _sparse():
    from descentlab.train import toys

    x, y = toys.sparse()
    f = neuron_loss(x, y)
    return Landscape("sparse", "1/2 sum_i (sigmoid(w x_i + b) - y_i)^2 on 100 points, 80% with x = 0",
                     f, (-2.0, 3.0), (-2.5, 2.5), (-1.5, -2.0),
                     minima=(newton_polish(f, (toys.SPARSE_W, toys.SPARSE_B)),), labels=("w", "b"),
                     lecture="lecture 002 Module 5.9 (Adagrad on a sparse feature)",
                     lrs=_lrs(0.01, 0.1, 0.1, 0.1))


_HIMMELBLAU_MINIMA = ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126))

_BUILDERS = {
    "quadratic": lambda: quadratic(10.0, 0.0, name="quadratic"),
    "ravine": lambda: quadratic(25.0, 30.0, name="ravine"),
    "rosenbrock": lambda: Landscape("rosenbrock", "(1 - x)^2 + 100 (y - x^2)^2", rosenbrock,
                                    (-2.0, 2.0), (-1.0, 3.0), (-1.5, 2.5), minima=((1.0, 1.0),),
                                    lecture="lecture 004 (recent optimizers)",
                                    lrs=_lrs(1e-3, 0.03, 0.1, 0.02)),
    "beale": lambda: Landscape("beale", "(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
                               beale, (-4.5, 4.5), (-4.5, 4.5), (1.0, 1.5), minima=((3.0, 0.5),),
                               lecture="lecture 004 (recent optimizers)", lrs=_lrs(3e-3, 0.3, 0.01, 0.1)),
    "himmelblau": lambda: Landscape("himmelblau", "(x^2 + y - 11)^2 + (x + y^2 - 7)^2", himmelblau,
                                    (-5.0, 5.0), (-5.0, 5.0), (0.0, 0.0),
                                    minima=tuple(newton_polish(himmelblau, m) for m in _HIMMELBLAU_MINIMA),
                                    lrs=_lrs(0.01, 0.1, 0.03, 0.03)),
    "saddle": lambda: Landscape("saddle", "x^2 - y^2", saddle, (-2.0, 2.0), (-2.0, 2.0), (-1.5, 1e-3),
                                lecture="lecture 004 (saddle points)", lrs=_lrs(0.02, 0.02, 0.02, 0.02)),
    "cliff": lambda: Landscape("cliff", "1/2 (0.1 (x - 2)^2 + y^2) + 20 (1 - smoothstep(x; -0.1, 0.1))",
                               cliff, (-3.0, 3.0), (-2.0, 2.0), (-2.6, 1.0),
                               minima=((CLIFF_MINIMUM, 0.0),),
                               lecture="lecture 003 (exploding gradients, clipping)",
                               lrs=_lrs(0.1, 0.1, 0.1, 0.1)),
    "neuron": _neuron,
    "sparse": _sparse,
}


def available():
    """The landscape names, in the order of the table above."""
    return list(_BUILDERS)


@functools.cache
def get(name):
    """The landscape ``name`` (built once: landscapes are immutable); ``ValueError``
    with a suggestion if unknown."""
    if name not in _BUILDERS:
        raise unknown_name("landscape", name, _BUILDERS)
    return _BUILDERS[name]()


def describe():
    """One dict per landscape, for ``descentlab lab landscapes``."""
    rows = []
    for name in available():
        land = get(name)
        rows.append({"name": name, "formula": land.formula, "xlim": land.xlim, "ylim": land.ylim,
                     "start": land.start, "minima": [list(m) for m in land.minima],
                     "minimum_value": land.minimum_value, "lecture": land.lecture})
    return rows
