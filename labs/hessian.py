"""Curvature of a loss: the Hessian, its eigenvalues, the condition number, the
optimal step and the largest stable learning rate (lecture 003).

Lecture 003 ("Taylor expansion", "condition number", "optimal step"): near a
point θ with gradient g and Hessian H,

    L(θ − α g) ≈ L(θ) − α gᵀg + ½ α² gᵀHg,

which is smallest at α* = gᵀg / gᵀHg; on a quadratic, gradient descent with a
fixed learning rate converges iff lr < 2/λ_max (lecture 002 Module 5.7 shows
the divergence; lecture 003 gives the bound), and the condition number
κ = λ_max/λ_min says how elongated the valley is.

Two ways to get λ_max:

* ``exact_hessian`` builds H with ``torch.func.hessian`` (n² numbers: small
  models only) and ``eigenvalues`` diagonalises it;
* ``power_iteration`` never builds H: it repeats v ← Hv/‖Hv‖ with
  Hessian-vector products (``hvp``, reverse-over-reverse autodiff, the cost of
  a few gradients). It converges to the eigenvalue of largest *magnitude*,
  which is λ_max wherever H is positive semi-definite (a convex loss such as
  logistic regression, or near a minimum).

``model_curvature(dataset, model)`` does all of it for a model of the zoo on a
data set of the registry, in float64, at the model's initial weights or at a
checkpoint's.
"""

import copy
import math

import torch

EXACT_LIMIT = 2000          # parameters; beyond this the n x n Hessian is not built


def flat_loss(model, loss_of_outputs, x):
    """``(theta, f)``: the model's parameters as one float64 vector and
    ``f(theta) = loss_of_outputs(model(x))`` as a function of that vector
    (computed on a float64 copy of the model; ``model`` is left as it was)."""
    model = copy.deepcopy(model).to(torch.float64)
    names = [n for n, _ in model.named_parameters()]
    params = [p.detach() for _, p in model.named_parameters()]
    shapes = [p.shape for p in params]
    sizes = [p.numel() for p in params]
    buffers = dict(model.named_buffers())
    x = x.to(torch.float64)

    def f(theta):
        pieces = torch.split(theta, sizes)
        state = {n: piece.view(shape) for n, piece, shape in zip(names, pieces, shapes)}
        return loss_of_outputs(torch.func.functional_call(model, {**state, **buffers}, (x,)))

    return torch.cat([p.reshape(-1) for p in params]), f


def exact_hessian(f, theta):
    # reverse over reverse: torch.func.hessian's forward-over-reverse fails on mse_loss
    # ("ZeroTensors are immutable", torch 2.13)
    return torch.func.jacrev(torch.func.jacrev(f))(theta)


def eigenvalues(hessian):
    """Eigenvalues of a symmetric matrix, ascending."""
    return torch.linalg.eigvalsh(0.5 * (hessian + hessian.T))


def hvp(f, theta, v):
    """H(theta) v without building H: the vector-Jacobian product of the
    gradient (H is symmetric, so vᵀH = (Hv)ᵀ)."""
    return torch.func.vjp(torch.func.grad(f), theta)[1](v)[0]


def power_iteration(f, theta, iterations=200, tol=1e-8, seed=0):
    """``(lam, iterations_used)``: the Hessian eigenvalue of largest magnitude
    by power iteration on Hessian-vector products, stopped when the Rayleigh
    quotient changes by less than ``tol`` (relative)."""
    generator = torch.Generator().manual_seed(seed)
    v = torch.randn(theta.shape, generator=generator, dtype=theta.dtype)
    v /= v.norm()
    lam = 0.0
    for k in range(1, iterations + 1):
        hv = hvp(f, theta, v)
        new = float(v @ hv)
        norm = hv.norm()
        if norm == 0:
            return 0.0, k
        v = hv / norm
        if abs(new - lam) <= tol * abs(new):
            return new, k
        lam = new
    return lam, iterations


def optimal_step(g, hg):
    """α* = gᵀg / gᵀHg (lecture 003), given g and Hg; inf where gᵀHg <= 0
    (no curvature along -g: the quadratic model has no minimum on that line)."""
    curvature = float(g @ hg)
    return float(g @ g) / curvature if curvature > 0 else math.inf


def stability_bound(lambda_max):
    """The largest learning rate for which gradient descent on the local
    quadratic does not diverge: 2/λ_max."""
    return 2.0 / lambda_max if lambda_max > 0 else math.inf


def condition(eigs, relative_zero=1e-10):
    """``(kappa, kappa_nonzero, left_out)``: λ_max/λ_min (inf unless λ_min > 0), and the
    same over the eigenvalues above ``relative_zero``·λ_max, with how many (zero or negative) were left out
    (softmax regression's Hessian is singular: adding one vector to every class leaves the loss)."""
    lmax, lmin = float(eigs[-1]), float(eigs[0])
    kappa = lmax / lmin if lmin > 0 else math.inf
    kept = eigs[eigs > relative_zero * lmax]
    kappa_nonzero = lmax / float(kept[0]) if len(kept) else math.inf
    return kappa, kappa_nonzero, int(len(eigs) - len(kept))


def curvature(f, theta, exact_limit=EXACT_LIMIT, known_null=None):
    """Everything this module measures at ``theta``, as a dict.

    ``curvature_along_g`` is gᵀHg/gᵀg = 1/α*: it lies between λ_min and λ_max,
    so α* can exceed 2/λ_max — α* is the best step along g, 2/λ_max bounds a
    fixed step in the steepest direction. ``known_null`` ({name: [k, n]
    vectors}, see ``known_null_directions``) names where the null directions
    come from: each family's rank among the vectors H really sends to 0.
    """
    g = torch.func.grad(f)(theta)
    lam_power, used = power_iteration(f, theta)
    alpha = optimal_step(g, hvp(f, theta, g))
    result = {"parameters": theta.numel(), "loss": float(f(theta)), "gradient_norm": float(g.norm()),
              "lambda_max_power": lam_power, "power_iterations": used,
              "alpha_star": alpha, "curvature_along_g": 1 / alpha if alpha > 0 else math.inf}
    if theta.numel() <= exact_limit:
        h = exact_hessian(f, theta)
        eigs = eigenvalues(h)
        kappa, kappa_nonzero, null = condition(eigs)
        negative = int((eigs < -1e-10 * eigs[-1]).sum())
        result.update(method="exact", lambda_max=float(eigs[-1]), lambda_min=float(eigs[0]),
                      kappa=kappa, kappa_nonzero=kappa_nonzero, null_directions=null - negative,
                      negative_directions=negative,
                      null_explained=explain_null(h, float(eigs[-1]), known_null or {}))
    else:
        result.update(method="power iteration", lambda_max=lam_power, lambda_min=None,
                      kappa=None, kappa_nonzero=None, null_directions=None, negative_directions=None,
                      null_explained=None)
    result["lr_bound"] = stability_bound(result["lambda_max"])
    return result


def explain_null(h, lambda_max, families, relative_zero=1e-10):
    """``{family: rank}`` of each family's vectors that H sends to (numerically) 0, and
    ``"together"``: the rank of all of them (families may share directions)."""
    kept, explained = [], {}
    for name, vectors in families.items():
        null = vectors[(vectors @ h).norm(dim=1) <= relative_zero * lambda_max * vectors.norm(dim=1)]
        explained[name] = int(torch.linalg.matrix_rank(null)) if len(null) else 0
        kept.append(null)
    together = torch.cat(kept) if kept else torch.zeros(0)
    explained["together"] = int(torch.linalg.matrix_rank(together)) if len(together) else 0
    return explained


def known_null_directions(model, x, classification):
    """Directions a softmax classifier's loss cannot see, as flat parameter vectors:

    * ``softmax shift``: adding the same vector to every class's row of the last
      linear layer (and the same number to every class's bias) adds the same
      number to every logit, which the softmax ignores — in_features + 1 directions;
    * inputs with the same value c in every example (digits' always-blank pixels,
      c = −0.81 after normalisation): in the first linear layer, adding 1 to the
      weight of such an input and −c to the bias changes no output —
      out_features directions per input.
    """
    offsets, size = {}, 0
    for p in model.parameters():
        offsets[id(p)] = size
        size += p.numel()
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    families = {}

    def index(param, *where):
        return offsets[id(param)] + int(torch.arange(param.numel()).view(param.shape)[where])

    def vector(entries):
        v = torch.zeros(size, dtype=torch.float64)
        for i, value in entries:
            v[i] += value
        return v

    if classification and linears and linears[-1].bias is not None:
        last = linears[-1]
        classes = range(last.out_features)
        families["softmax shift (one vector added to every class's weights: the softmax ignores it)"] = torch.stack(
            [vector([(index(last.weight, c, j), 1.0) for c in classes]) for j in range(last.in_features)]
            + [vector([(index(last.bias, c), 1.0) for c in classes])])
    first = linears[0] if linears and next(model.parameters()) is linears[0].weight else None
    if first is not None:
        flat = x.reshape(len(x), -1).to(torch.float64)
        constant = torch.nonzero((flat == flat[0]).all(0)).reshape(-1).tolist()
        usable = [j for j in constant if first.bias is not None or flat[0, j] == 0]
        if usable:
            families[f"the {len(usable)} inputs equal in every example (blank pixels: their weights "
                     "do the bias's job)"] = torch.stack(
                [vector([(index(first.weight, k, j), 1.0)]
                        + ([(index(first.bias, k), -float(flat[0, j]))] if first.bias is not None else []))
                 for j in usable for k in range(first.out_features)])
    return families


def model_curvature(dataset, model, checkpoint=None, samples=2048, data_dir=None, seed=0):
    """The curvature of ``model``'s training loss on (the first ``samples``
    training examples of) ``dataset``, at its seed's initial weights or at a
    checkpoint's trained ones."""
    from descentlab import models
    from descentlab.train import checkpoint as checkpoints
    from descentlab.train import datasets, objective

    if checkpoint is not None:
        saved = checkpoints.load(checkpoint)
        if saved["model"]["name"] != model or saved["dataset"]["name"] != dataset:
            raise ValueError(f"checkpoint '{checkpoint}' holds {saved['model']['name']} on "
                             f"{saved['dataset']['name']}, not {model} on {dataset}")
        net = checkpoints.rebuild_model(saved)
    data = datasets.load(dataset, data_dir=data_dir, seed=seed)
    if checkpoint is None:
        net = models.create(model, data.input_shape, data.num_classes, seed=seed)
    net.eval()
    x, y = data.train.x[:samples], data.train.y[:samples]
    if data.task == "regression":
        y = y.to(torch.float64)
    theta, f = flat_loss(net, lambda out: objective.loss(data.task, out, y), x)
    known = known_null_directions(net, x, data.task == "classification") if theta.numel() <= EXACT_LIMIT else {}
    return {"dataset": dataset, "model": model, "checkpoint": str(checkpoint) if checkpoint else None,
            "samples": len(x), **curvature(f, theta, known_null=known)}
