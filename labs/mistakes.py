"""The typical wrong answers to the lab exercises, each computed for real.

A student's output is compared with each of these on the same inputs; when it
matches one, the grader names the mistake and the lecture section that
explains it (``descentlab.labs.grader``). Every mistake is an implementation in
the exercise's own form (an optimizer class, a schedule class or a clipping
function), written as a student would write it, plus the hint. A mistake that
shows up as an exception (Adam's ``1 - beta1^0 = 0`` in Python floats) also
names that exception.
"""

import dataclasses
import functools
import math

import torch

from descentlab.optimizers import Adagrad, Adam, ClosedForm, LectureOptimizer, Momentum, RMSprop


@dataclasses.dataclass(frozen=True)
class Mistake:
    key: str
    hint: str                 # what the code does wrong and how to fix it
    lecture: str              # where the lecture explains the right form
    impl: object = None       # the wrong variant, built like the exercise's reference
    exception: str = None     # or the exception type this mistake raises


# ---------------------------------------------------------------- every optimizer

class _Frozen(LectureOptimizer):
    """``param = param - ...`` rebinds a local name: the parameter never moves."""

    def __init__(self, params, **hparams):
        super().__init__(params, hparams)

    def update(self, param, grad, state, group):
        pass


FROZEN = Mistake(
    "not_in_place",
    "the parameters never moved: change param in place (param -= step, or param.sub_(step)); "
    "'param = param - step' only rebinds the local name",
    "descentlab lab new's README.md (how to write update)", _Frozen)


def _zeros_state(*names):
    return lambda self, param, group: {name: torch.zeros_like(param) for name in names}


# ---------------------------------------------------------------- momentum and NAG

class _MomentumUphill(LectureOptimizer):
    def __init__(self, params, lr=1e-2, momentum=0.9):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    init_state = _zeros_state("u")

    def update(self, param, grad, state, group):
        state["u"] = group["momentum"] * state["u"] + group["lr"] * grad
        param += state["u"]


class _NoHistory(_MomentumUphill):
    def update(self, param, grad, state, group):
        param -= group["lr"] * grad


class _NesterovUphill(_MomentumUphill):
    def update(self, param, grad, state, group):
        state["u"] = group["momentum"] * state["u"] + group["lr"] * grad
        param += group["momentum"] * state["u"] + group["lr"] * grad


MOMENTUM_SIGN = Mistake(
    "momentum_sign",
    "the parameters move uphill: the momentum step has the wrong sign. With update_t = "
    "gamma*update_{t-1} + eta*grad, take w -= update_t (or keep v = mu*v - eta*grad and w += v, "
    "but not a mix of the two)",
    "lecture 002, Module 5.4", _MomentumUphill)
MOMENTUM = (
    MOMENTUM_SIGN,
    Mistake("no_history",
            "this is plain gradient descent: the previous update is not carried over. Keep "
            "update_t in state and add gamma * update_{t-1} to the new one",
            "lecture 002, Module 5.4 (\"also look at the history of updates\")", _NoHistory),
    Mistake("ema_form",
            "you scaled the gradient by (1 - gamma): that is the exponential-moving-average form "
            "of lecture 000; this exercise is lecture 002's update_t = gamma*update_{t-1} + eta*grad",
            "lecture 002, Module 5.4; lecture 000 (momentum as an EMA)",
            functools.partial(Momentum, ema=True)),
    FROZEN,
)
NESTEROV = (
    Mistake("no_lookahead",
            "this is momentum without the look-ahead: the step must be gamma*update_t + eta*grad_t, "
            "not update_t alone (see the docstring's derivation)",
            "lecture 002, Module 5.5 (\"look before you leap\")", Momentum),
    dataclasses.replace(MOMENTUM_SIGN, impl=_NesterovUphill, lecture="lecture 002, Modules 5.4-5.5"),
    FROZEN,
)


# ---------------------------------------------------------------- Adagrad and RMSProp

class _AdagradSumOfGrad(LectureOptimizer):
    def __init__(self, params, lr=1e-2, eps=1e-10):
        super().__init__(params, dict(lr=lr, eps=eps))

    init_state = _zeros_state("G")

    def update(self, param, grad, state, group):
        state["G"] = state["G"] + grad
        param -= group["lr"] * grad / (state["G"].sqrt() + group["eps"])


class _AdagradNoSum(_AdagradSumOfGrad):
    def update(self, param, grad, state, group):
        state["G"] = grad ** 2
        param -= group["lr"] * grad / (state["G"].sqrt() + group["eps"])


class _AdagradNoSqrt(_AdagradSumOfGrad):
    def update(self, param, grad, state, group):
        state["G"] = state["G"] + grad ** 2
        param -= group["lr"] * grad / (state["G"] + group["eps"])


class _RMSpropBetaSwapped(LectureOptimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps))

    init_state = _zeros_state("v")

    def update(self, param, grad, state, group):
        alpha = group["alpha"]
        state["v"] = (1 - alpha) * state["v"] + alpha * grad ** 2
        param -= group["lr"] * grad / (state["v"].sqrt() + group["eps"])


class _RMSpropNoDecay(_RMSpropBetaSwapped):
    def update(self, param, grad, state, group):
        state["v"] = state["v"] + grad ** 2
        param -= group["lr"] * grad / (state["v"].sqrt() + group["eps"])


class _RMSpropNoSqrt(_RMSpropBetaSwapped):
    def update(self, param, grad, state, group):
        alpha = group["alpha"]
        state["v"] = alpha * state["v"] + (1 - alpha) * grad ** 2
        param -= group["lr"] * grad / (state["v"] + group["eps"])


def _eps_inside(impl, lecture):
    return Mistake(
        "eps_inside_sqrt",
        "eps is inside the square root, sqrt(v + eps): this exercise (like torch.optim) adds it "
        "outside, sqrt(v) + eps. The CS7015 code writes it inside, which is a different optimizer "
        "for small gradients",
        f"{lecture}; lecture 002, Module 5.9 writes it inside", functools.partial(impl, eps_in_sqrt=True))


NO_SQRT = ("you divide by the accumulated squares themselves: divide by their square root "
           "(the root of the mean square gives the gradient's scale)")
ADAGRAD = (
    Mistake("sum_of_g",
            "G accumulates the gradient g instead of its square g^2 (so G can go negative and "
            "its root is NaN): G_t = G_{t-1} + grad**2",
            "lecture 000 (AdaGrad, equation 8); lecture 002, Module 5.9", _AdagradSumOfGrad),
    _eps_inside(Adagrad, "lecture 000 (AdaGrad, equation 8); lecture 004 (the CS231n AdaGrad code)"),
    Mistake("no_accumulation",
            "G holds only the latest g^2: Adagrad adds every squared gradient so far, "
            "G_t = G_{t-1} + grad**2 (so rarely updated, sparse features keep a large step)",
            "lecture 002, Module 5.9 (Adagrad on sparse features)", _AdagradNoSum),
    Mistake("no_sqrt", NO_SQRT, "lecture 000 (AdaGrad, equation 8)", _AdagradNoSqrt),
    FROZEN,
)
RMSPROP = (
    Mistake("beta_on_wrong_term",
            "alpha weighs the wrong term: v_t = alpha * v_{t-1} + (1 - alpha) * grad**2 keeps most "
            "of the history and adds a little of the new square; you wrote the reverse",
            "lecture 000 (RMSProp); lecture 004 (the CS231n RMSProp code)", _RMSpropBetaSwapped),
    _eps_inside(RMSprop, "lecture 004 (the CS231n RMSProp code)"),
    Mistake("no_decay",
            "v never forgets: that is Adagrad's sum. RMSProp decays it, "
            "v_t = alpha * v_{t-1} + (1 - alpha) * grad**2",
            "lecture 000 (RMSProp: an exponential moving average on AdaGrad)", _RMSpropNoDecay),
    Mistake("no_sqrt", NO_SQRT, "lecture 000 (RMSProp)", _RMSpropNoSqrt),
    FROZEN,
)


# ---------------------------------------------------------------- Adam

class _AdamLike(LectureOptimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    def init_state(self, param, group):
        return {"t": 0, "m": torch.zeros_like(param), "v": torch.zeros_like(param)}


class _AdamStepFromZero(_AdamLike):
    def update(self, param, grad, state, group):
        beta1, beta2 = group["betas"]
        t = state["t"]   # used before it is counted: 0 on the first step
        state["t"] += 1
        state["m"] = beta1 * state["m"] + (1 - beta1) * grad
        state["v"] = beta2 * state["v"] + (1 - beta2) * grad ** 2
        m_hat = state["m"] / torch.tensor(1 - beta1 ** t)
        v_hat = state["v"] / torch.tensor(1 - beta2 ** t)
        param -= group["lr"] * m_hat / (v_hat.sqrt() + group["eps"])


class _AdamMOnly(_AdamLike):
    def update(self, param, grad, state, group):
        beta1, beta2 = group["betas"]
        state["t"] += 1
        state["m"] = beta1 * state["m"] + (1 - beta1) * grad
        state["v"] = beta2 * state["v"] + (1 - beta2) * grad ** 2
        m_hat = state["m"] / (1 - beta1 ** state["t"])
        param -= group["lr"] * m_hat / (state["v"].sqrt() + group["eps"])


class _AdamBetasSwapped(_AdamLike):
    def update(self, param, grad, state, group):
        beta2, beta1 = group["betas"]
        state["t"] += 1
        t = state["t"]
        state["m"] = beta1 * state["m"] + (1 - beta1) * grad
        state["v"] = beta2 * state["v"] + (1 - beta2) * grad ** 2
        m_hat, v_hat = state["m"] / (1 - beta1 ** t), state["v"] / (1 - beta2 ** t)
        param -= group["lr"] * m_hat / (v_hat.sqrt() + group["eps"])


BIAS = "lecture 002, Module 5.9 (why bias correction); lecture 004 (Adam with bias correction)"
ADAM = (
    _eps_inside(Adam, "lecture 000 (Adam, Algorithm 1)"),
    Mistake("bias_correction_t_from_zero",
            "the bias correction uses t = 0 on the first step, and 1 - beta^0 = 0 divides by zero: "
            "count the step first (t = t + 1), then correct with 1 - beta^t, t = 1, 2, ...",
            BIAS, _AdamStepFromZero, exception="ZeroDivisionError"),
    Mistake("no_bias_correction",
            "there is no bias correction: m_t and v_t start at 0, so early on they are too small; "
            "divide by (1 - beta1^t) and (1 - beta2^t)",
            BIAS, functools.partial(Adam, bias_correction=False)),
    Mistake("bias_correction_m_only",
            "only m_t is bias-corrected: v^_t = v_t / (1 - beta2^t) too",
            BIAS, _AdamMOnly),
    Mistake("betas_swapped",
            "beta1 and beta2 are swapped: beta1 (0.9) averages the gradient m_t, "
            "beta2 (0.999) averages its square v_t",
            "lecture 000 (Adam, Algorithm 1)", _AdamBetasSwapped),
    FROZEN,
)


# ---------------------------------------------------------------- diffGrad

class _DiffGradLike(_AdamLike):
    """diffGrad's step with hooks a mistake overrides: the friction and the previous gradient."""

    def init_state(self, param, group):
        return {**super().init_state(param, group), "previous": torch.zeros_like(param)}

    def friction(self, state, grad):
        return torch.sigmoid((state["previous"] - grad).abs())

    def remember(self, state, grad):
        state["previous"] = grad.clone()

    def step_size(self, group, t):
        beta1, beta2 = group["betas"]
        return group["lr"] * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)

    def update(self, param, grad, state, group):
        beta1, beta2 = group["betas"]
        state["t"] += 1
        if state["t"] == 1:
            self.first(state, grad)
        state["m"] = beta1 * state["m"] + (1 - beta1) * grad
        state["v"] = beta2 * state["v"] + (1 - beta2) * grad ** 2
        xi = self.friction(state, grad)
        self.remember(state, grad)
        param -= self.step_size(group, state["t"]) * xi * state["m"] / self.denominator(state, group)

    def first(self, state, grad):
        pass

    def denominator(self, state, group):
        return state["v"].sqrt() + group["eps"]


class _DiffGradAliased(_DiffGradLike):
    def remember(self, state, grad):
        state["previous"] = grad   # the same tensor, which the next backward() overwrites


class _DiffGradNoAbs(_DiffGradLike):
    def friction(self, state, grad):
        return torch.sigmoid(state["previous"] - grad)


class _DiffGradFirstGrad(_DiffGradLike):
    def first(self, state, grad):
        state["previous"] = grad.clone()


class _DiffGradNoFriction(_DiffGradLike):
    def friction(self, state, grad):
        return 1.0


class _DiffGradSlideEps(_DiffGradLike):
    def step_size(self, group, t):
        return group["lr"] / (1 - group["betas"][0] ** t)

    def denominator(self, state, group):
        v_hat = state["v"] / (1 - group["betas"][1] ** state["t"])
        return v_hat.sqrt() + group["eps"]


class _DiffGradNoBias(_DiffGradLike):
    def step_size(self, group, t):
        return group["lr"]


DIFFGRAD = (
    Mistake("aliased_previous_gradient",
            "xi stays 1/2 from the second step on: the stored previous gradient is the gradient "
            "tensor itself, which the next backward() overwrites, so you compare g with itself. "
            "Store a copy, grad.clone() (the bug of the authors' first diffGrad.py)",
            "lecture 004 (diffGrad: xi from g_{t-1} - g_t)", _DiffGradAliased),
    Mistake("friction_without_abs",
            "AbsSig takes the absolute value: xi = sigmoid(|g_{t-1} - g_t|), between 1/2 and 1",
            "lecture 004 (diffGrad: AbsSig)", _DiffGradNoAbs),
    Mistake("previous_gradient_from_first",
            "the first step's xi is 1/2: grad_0 is 0, not the first gradient, so xi_1 = AbsSig(grad_1)",
            "lecture 004 (diffGrad)", _DiffGradFirstGrad),
    Mistake("no_friction",
            "this is Adam: multiply the step by the friction xi_t = AbsSig(g_{t-1} - g_t)",
            "lecture 004 (diffGrad)", _DiffGradNoFriction),
    Mistake("slide_eps",
            "you added eps to sqrt(v^_t), as on the slide: this exercise (and the authors' code) adds "
            "it to sqrt(v_t) and moves both bias corrections into the step size, "
            "eta * sqrt(1 - beta2^t) / (1 - beta1^t); for small gradients the two differ",
            "lecture 004 (diffGrad); lecture 000 (Adam's more efficient order of computation)",
            _DiffGradSlideEps),
    Mistake("no_bias_correction",
            "there is no bias correction: the step size is eta * sqrt(1 - beta2^t) / (1 - beta1^t)",
            BIAS, _DiffGradNoBias),
    FROZEN,
)


# ---------------------------------------------------------------- step decay

class _StepDecayLike(ClosedForm):
    def __init__(self, optimizer, step_size=5, gamma=0.5, last_epoch=-1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)


class _StepDecayEarly(_StepDecayLike):
    def factor(self, epoch):
        return self.gamma ** ((epoch + 1) // self.step_size)


class _StepDecaySmooth(_StepDecayLike):
    def factor(self, epoch):
        return self.gamma ** (epoch / self.step_size)


class _StepDecayEveryEpoch(_StepDecayLike):
    def factor(self, epoch):
        return self.gamma ** epoch


class _StepDecayCeil(_StepDecayLike):
    def factor(self, epoch):
        return self.gamma ** math.ceil(epoch / self.step_size)


STEP_DECAY_LECTURE = "lecture 001 (multiply by gamma once every K steps); lecture 002, Module 5.7"
STEP_DECAY = (
    Mistake("one_epoch_early",
            "the learning rate drops one epoch early: epochs count from t = 0, so the first drop "
            "is at t = K: gamma ** (t // K), not gamma ** ((t + 1) // K)", STEP_DECAY_LECTURE,
            _StepDecayEarly),
    Mistake("no_floor",
            "the learning rate decays a little every epoch: step decay holds it for K epochs, "
            "then drops it; use the integer division t // K", STEP_DECAY_LECTURE, _StepDecaySmooth),
    Mistake("every_epoch",
            "this is exponential decay (gamma^t, every epoch): step decay drops only every K "
            "epochs, gamma ** (t // K)", STEP_DECAY_LECTURE, _StepDecayEveryEpoch),
    Mistake("ceil",
            "the first drop comes right after epoch 0: round t / K down (t // K), not up",
            STEP_DECAY_LECTURE, _StepDecayCeil),
)


# ---------------------------------------------------------------- clipping

def _grads(params):
    return [p.grad for p in params if p.grad is not None]


def _global_norm(grads):
    return math.sqrt(sum(float((g ** 2).sum()) for g in grads))


def _clip_per_tensor(params, max_norm):
    grads = _grads(params)
    total = _global_norm(grads)
    for g in grads:
        g *= min(1.0, max_norm / (float(g.norm()) + 1e-6))
    return total


def _clip_always(params, max_norm):
    grads = _grads(params)
    total = _global_norm(grads)
    for g in grads:
        g *= max_norm / (total + 1e-6)
    return total


def _clip_by_value(params, max_norm):
    grads = _grads(params)
    total = _global_norm(grads)
    for g in grads:
        g.clamp_(-max_norm, max_norm)
    return total


def _clip_squared_norm(params, max_norm):
    grads = _grads(params)
    total = _global_norm(grads) ** 2
    for g in grads:
        g *= min(1.0, max_norm / (total + 1e-6))
    return total


def _clip_returns_new_norm(params, max_norm):
    grads = _grads(params)
    scale = min(1.0, max_norm / (_global_norm(grads) + 1e-6))
    for g in grads:
        g *= scale
    return _global_norm(grads)


CLIP_LECTURE = "lecture 003 (exploding gradients: gradient clipping)"
CLIPPING = (
    Mistake("per_tensor",
            "each parameter is clipped by its own norm, which turns the gradient: compute one norm "
            "over all parameters together and scale every gradient by the same factor",
            CLIP_LECTURE, _clip_per_tensor),
    Mistake("always_rescaled",
            "a gradient shorter than max_norm was stretched: the scale is min(1, max_norm / (norm + 1e-6)), "
            "so a short gradient stays as it is", CLIP_LECTURE, _clip_always),
    Mistake("by_value",
            "this clips each element to [-max_norm, max_norm] (clipping by value): clip by the norm, "
            "g * min(1, max_norm / (norm + 1e-6)), which keeps the gradient's direction",
            CLIP_LECTURE, _clip_by_value),
    Mistake("squared_norm",
            "the norm is the sum of squares without the square root: norm = sqrt(sum of g^2)",
            CLIP_LECTURE, _clip_squared_norm),
    Mistake("returns_clipped_norm",
            "the gradients are right but you returned the norm after clipping: return the norm "
            "before clipping (what a training log wants to see)", CLIP_LECTURE, _clip_returns_new_norm),
)
