"""Our nine torch twins as drop-ins for torch.optim, on the configurations
PyTorch ships for its own optimizer tests.

The table is ``optim_db`` of ``torch.testing._internal.common_optimizers`` (in
the torch wheel): for each optimizer, ``optim_inputs_func(device="cpu")``
lists the hyperparameter combinations torch tests (a Tensor lr, weight decay,
maximize, amsgrad, centered, nesterov, ...), and ``optim_error_inputs_func``
the constructor arguments torch refuses. For each of our twins and each
configuration:

* step-by-step parity with torch, parameters and every state tensor, on
  float32, float64 and complex128, on our fast and readable paths;
* state_dict round trips: ours -> ours exactly (no key added or lost), a
  ``step`` saved as a Python float, and torch -> ours continuing in lockstep;
* ``fused=True`` == fast == readable for the four classes with a fused path;
* the same exception type as torch for the arguments torch refuses.

Plus: 16 param groups under ``fused=True``, freezing and unfreezing layers
between fused steps, float16/bfloat16 fused steps, meta tensors, sparse
gradients for SGD and Adagrad, ``differentiable=True``, ``capturable`` on the
CPU, and torch's positional argument order.
"""

import copy
import inspect
import warnings

import pytest
import torch
from torch.testing._internal.common_optimizers import OptimizerErrorEnum, optim_db

from descentlab import optimizers
import descentlab.optimizers.fused as fused
from optimizer_cases import compiles_fused, gradient_stream, hand_over_from_torch, make_params, set_grads

TWINS = {"SGD": "sgd", "Adagrad": "adagrad", "Adadelta": "adadelta", "Rprop": "rprop", "RMSprop": "rmsprop",
         "Adam": "adam", "AdamW": "adamw", "NAdam": "nadam", "RAdam": "radam"}
INFOS = {info.optim_cls.__name__: info for info in optim_db if info.optim_cls.__name__ in TWINS}
CONFIGS = [(name, inp.kwargs) for name, info in sorted(INFOS.items()) for inp in info.optim_inputs_func(device="cpu")]
IDS = [f"{name}-{inp.desc}" for name, info in sorted(INFOS.items())
       for inp in info.optim_inputs_func(device="cpu")]
STEPS = 8
TOL = {torch.float32: dict(rtol=1e-5, atol=1e-6),
       torch.float64: dict(rtol=1e-10, atol=1e-12), torch.complex128: dict(rtol=1e-10, atol=1e-12)}


def ours(name):
    return optimizers.info(TWINS[name]).cls


def params_of(dtype, seed=0):
    """The three tensors of optimizer_cases.make_params in ``dtype`` (complex: a random imaginary part)."""
    g = torch.Generator().manual_seed(seed + 100)
    real = [p.detach() for p in make_params(seed)]
    if dtype.is_complex:
        real = [torch.complex(p, torch.randn(p.shape, generator=g, dtype=p.dtype)) for p in real]
    return [p.to(dtype).requires_grad_() for p in real]


def groups(params, kwargs):
    """Two param groups; the second at half the lr when the configuration sets one."""
    second = {"params": [params[2]]}
    if "lr" in kwargs:
        second["lr"] = kwargs["lr"] * 0.5
    return [{"params": params[:2]}, second]


def assert_same(opt, params, ref, ref_params, tol, where):
    for i, (p, q) in enumerate(zip(params, ref_params)):
        torch.testing.assert_close(p, q, **tol, msg=lambda m: f"{where}, param {i}: {m}")
        s, r = opt.state.get(p, {}), ref.state.get(q, {})
        assert set(s) == set(r), f"{where}, param {i}: state keys {sorted(s)} != {sorted(r)}"
        for key, value in r.items():
            if value is None:
                assert s[key] is None, (where, i, key)
                continue
            assert s[key].dtype == value.dtype, f"{where}, param {i}, state[{key!r}] dtype"
            torch.testing.assert_close(s[key], value, **tol, msg=lambda m: f"{where}, param {i}, {key}: {m}")


def lockstep(pairs, steps, seed, tol, label, with_none=True):
    """Step every (optimizer, params) in ``pairs`` on the same gradients; compare each to the first."""
    (ref, ref_params), *others = pairs
    for t, grads in enumerate(gradient_stream(ref_params, steps, seed, with_none), 1):
        for opt, params in pairs:
            set_grads(params, grads)
            opt.step()
        for opt, params in others:
            assert_same(opt, params, ref, ref_params, tol, f"{label} step {t}")


@pytest.mark.parametrize("path", ["fast", "readable"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.complex128],
                         ids=lambda d: str(d).removeprefix("torch."))
@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_steps_match_torch(config, dtype, path):
    name, kwargs = config
    theirs_params, ours_params = params_of(dtype), params_of(dtype)
    theirs = INFOS[name].optim_cls(groups(theirs_params, kwargs), **kwargs)
    mine = ours(name)(groups(ours_params, kwargs), **kwargs, **({"foreach": False} if path == "readable" else {}))
    lockstep([(theirs, theirs_params), (mine, ours_params)], STEPS, 1, TOL[dtype], name)


def tensors_equal(a, b):
    if torch.is_tensor(a) or torch.is_tensor(b):
        return torch.is_tensor(a) and torch.is_tensor(b) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(tensors_equal, a, b))
    return a == b


def assert_state_dicts_equal(a, b, values=True):
    """Same keys everywhere; same values (and dtypes) unless ``values`` is False."""
    assert [sorted(g) for g in a["param_groups"]] == [sorted(g) for g in b["param_groups"]]
    for g, h in zip(a["param_groups"], b["param_groups"]):
        for key in g:
            assert tensors_equal(g[key], h[key]), key
    assert sorted(a["state"]) == sorted(b["state"])
    for index, state in a["state"].items():
        assert sorted(state) == sorted(b["state"][index]), index
        for key, value in state.items():
            assert not values or tensors_equal(value, b["state"][index][key]), (index, key)


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_state_dict_round_trips(config):
    name, kwargs = config
    params = params_of(torch.float64)
    opt = ours(name)(groups(params, kwargs), **kwargs)
    for grads in gradient_stream(params, 4, seed=2):
        set_grads(params, grads)
        opt.step()
    saved = opt.state_dict()

    # ours -> ours: the same state_dict back, no key added or lost; the values
    # as torch's own load leaves them (it casts NAdam's mu_product to the
    # parameters' dtype), so the same dict through torch's class is the reference
    twin_params = [p.detach().clone().requires_grad_() for p in params]
    twin = ours(name)(groups(twin_params, kwargs), **kwargs)
    twin.load_state_dict(copy.deepcopy(saved))
    torch_params = [p.detach().clone().requires_grad_() for p in params]
    through_torch = INFOS[name].optim_cls(groups(torch_params, kwargs), **kwargs)
    through_torch.load_state_dict(copy.deepcopy(saved))
    assert_state_dicts_equal(twin.state_dict(), through_torch.state_dict())
    assert_state_dicts_equal(twin.state_dict(), saved, values=name != "NAdam")

    # a step counter saved as a Python float (torch before 1.12)
    old = copy.deepcopy(saved)
    for state in old["state"].values():
        if "step" in state:
            state["step"] = state["step"].item()
    old_params = [p.detach().clone().requires_grad_() for p in params]
    from_old = ours(name)(groups(old_params, kwargs), **kwargs)
    from_old.load_state_dict(old)
    lockstep([(through_torch, torch_params), (twin, twin_params), (from_old, old_params)], 4, 3,
             TOL[torch.float64], f"{name} after load")

    # torch -> ours, both continuing
    theirs_params = [p.detach().clone().requires_grad_() for p in params]
    theirs = INFOS[name].optim_cls(groups(theirs_params, kwargs), **kwargs)
    hand_over_from_torch(opt, params, theirs, theirs_params, 4, seed=4)
    lockstep([(theirs, theirs_params), (opt, params)], 4, 5, TOL[torch.float64], f"{name} torch -> ours")


FUSED = [(c, i) for c, i in zip(CONFIGS, IDS) if ours(c[0]).has_fused_path()]


def record_kernel_use(opt):
    """Wrap ``opt.update_fused`` so the returned list says, per call, whether the kernel ran."""
    ran, update_fused = [], opt.update_fused

    def recorded(*args):
        ran.append(update_fused(*args) is not False)
        return ran[-1]

    opt.update_fused = recorded
    return ran


# Each new set of tensors costs the fused path a compile (seconds, tens of
# seconds on a loaded machine), so every fused test below uses one param group
# of optimizer_cases.make_params with dense gradients, as test_fast_path.py
# does: 5 kernels (Adam with and without AMSGrad, SGD with and without
# momentum, Adagrad) serve both files, plus one for the mixed dtypes.


@compiles_fused
@pytest.mark.slow
@pytest.mark.parametrize("config", [c for c, _ in FUSED], ids=[i for _, i in FUSED])
def test_fused_equals_fast_and_readable(config):
    name, kwargs = config
    runs = []
    for path in ({"foreach": False}, {}, {"fused": True}):
        params = params_of(torch.float64)
        runs.append((ours(name)(params, **kwargs, **path), params))
    ran = record_kernel_use(runs[2][0])
    lockstep(runs, STEPS, 1, dict(rtol=0, atol=1e-12), f"{name} fused", with_none=False)
    assert any(ran), "the compiled kernel never ran"


def spent_budget(monkeypatch, kernel):
    """Make the sets of tensors ``kernel`` has compiled for its whole budget,
    so that the test sees the fallback without paying for compiles."""
    monkeypatch.setattr(fused, "_warned", set())
    monkeypatch.setattr(fused, "SHAPE_BUDGET", len(fused._signatures.get(kernel, ())) or 1)


@compiles_fused
@pytest.mark.slow
def test_sixteen_param_groups_under_fused(monkeypatch):
    """Layer-wise learning rates: 16 groups of different shapes. A kernel
    compiles for at most SHAPE_BUDGET sets of tensors; the other groups take the
    fast path after one warning, and every group gets the readable numbers."""
    from descentlab.optimizers.adam import _adam_kernel
    spent_budget(monkeypatch, _adam_kernel)
    graphs = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    runs = []
    for path in ({"foreach": False}, {"fused": True}):
        first = params_of(torch.float64)   # the shapes the kernel knows
        rest = [p.detach().reshape(-1)[: k + 2].clone().requires_grad_() for k, p in
                enumerate(params_of(torch.float64, seed=1) * 5)]
        groups_ = [{"params": first}] + [{"params": [p], "lr": 1e-3 * 0.9 ** k} for k, p in enumerate(rest)]
        runs.append((optimizers.AdamW(groups_, **path), first + rest))
    assert len(runs[1][0].param_groups) == 16
    ran = record_kernel_use(runs[1][0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lockstep(runs, 3, 6, dict(rtol=0, atol=1e-12), "16 groups", with_none=False)
    assert len([w for w in caught if "fused=True" in str(w.message)]) == 1
    assert ran.count(True) == 3 and ran.count(False) == 3 * 15
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] - graphs <= 1
    assert fused.SHAPE_BUDGET < torch._dynamo.config.recompile_limit


@compiles_fused
@pytest.mark.slow
def test_freezing_and_unfreezing_layers_between_fused_steps(monkeypatch):
    """The set of parameters with gradients changes between steps (frozen
    layers have no .grad); fused SGD with momentum follows torch and the
    readable path, taking the fast path for the sets it has not compiled."""
    from descentlab.optimizers.sgd import _sgd_kernel
    spent_budget(monkeypatch, _sgd_kernel)
    schedule = [(0, 1, 2), (2,), (0, 1, 2), (0, 1, 2), (0, 1), (0, 1, 2), (0, 1, 2)]
    runs = []
    for cls, path in ((torch.optim.SGD, {}), (optimizers.SGD, {"foreach": False}), (optimizers.SGD, {"fused": True})):
        params = params_of(torch.float64)
        runs.append((cls(params, lr=0.05, momentum=0.9, weight_decay=1e-3, **path), params))
    ran = record_kernel_use(runs[2][0])
    g = torch.Generator().manual_seed(7)
    for t, live in enumerate(schedule, 1):
        grads = [torch.randn(p.shape, generator=g, dtype=p.dtype) if i in live else None
                 for i, p in enumerate(runs[0][1])]
        for opt, params in runs:
            set_grads(params, grads)
            opt.step()
        for opt, params in runs[1:]:
            assert_same(opt, params, *runs[0], TOL[torch.float64], f"step {t}")
    assert True in ran and False in ran


@compiles_fused
@pytest.mark.slow
def test_fused_steps_on_float16_bfloat16_and_float32_at_once():
    """One group holding the three dtypes, one kernel: each tensor follows the
    readable path within its dtype's rounding, and keeps its dtype."""
    dtypes = [torch.float16, torch.bfloat16, torch.float32]
    runs = []
    for path in ({"foreach": False}, {"fused": True}):
        params = [p.detach().to(dtype).requires_grad_() for p, dtype in zip(make_params(), dtypes)]
        runs.append((optimizers.Adagrad(params, lr=0.05, weight_decay=0.01, maximize=True, **path), params))
    ran = record_kernel_use(runs[1][0])
    (slow, slow_params), (fast, fast_params) = runs
    g = torch.Generator().manual_seed(8)
    for _ in range(4):
        grads = [torch.randn(p.shape, generator=g).to(p.dtype) for p in slow_params]
        for opt, params in runs:
            set_grads(params, grads)
            opt.step()
    for p, q, tol in zip(fast_params, slow_params, (1e-2, 5e-2, 1e-5)):
        assert p.dtype == q.dtype
        torch.testing.assert_close(p, q, rtol=tol, atol=tol)
    assert all(ran)


@pytest.mark.parametrize("name", [n for n in TWINS if ours(n).has_fused_path()])
def test_fused_meta_and_complex_parameters_give_torchs_error(name):
    for param in (torch.zeros(2, device="meta", requires_grad=True),
                  torch.zeros(2, dtype=torch.complex64, requires_grad=True)):
        messages = []
        for cls in (INFOS[name].optim_cls, ours(name)):
            opt = cls([param], fused=True)
            param.grad = torch.zeros_like(param)
            with pytest.raises(RuntimeError) as err:
                opt.step()
            messages.append(str(err.value))
        assert messages[0] == messages[1]


@pytest.mark.parametrize("name", ["SGD", "Adagrad"])
def test_sparse_gradients_as_torch(name):
    kwargs = INFOS[name].metadata_for_sparse[0]
    results = []
    for cls in (INFOS[name].optim_cls, ours(name)):
        torch.manual_seed(0)
        embedding = torch.nn.Embedding(12, 3, sparse=True).double()
        opt = cls(embedding.parameters(), **{**kwargs, "momentum": 0.9} if name == "SGD" else kwargs)
        for rows in ([1, 2, 2, 5], [0, 5, 11], [2, 2]):
            opt.zero_grad()
            embedding(torch.tensor(rows)).pow(2).sum().backward()
            opt.step()
        results.append(embedding.weight.detach())
    torch.testing.assert_close(results[1], results[0], rtol=0, atol=1e-14)


def test_sparse_gradients_with_weight_decay_give_adagrads_error():
    embedding = torch.nn.Embedding(4, 2, sparse=True)
    opt = optimizers.Adagrad(embedding.parameters(), weight_decay=0.1)
    embedding(torch.tensor([1])).sum().backward()
    with pytest.raises(RuntimeError, match="weight_decay option is not compatible with sparse gradients"):
        opt.step()


# Through several steps torch's own Adam, AdamW, RMSprop and Rprop fail (their
# updates save state tensors that the next step changes in place); one step each.
DIFFERENTIABLE = [(name, 3 if name in ("SGD", "Adagrad", "Adadelta", "NAdam", "RAdam") else 1) for name in sorted(TWINS)]


@pytest.mark.parametrize("name,steps", DIFFERENTIABLE)
def test_differentiable_step_gives_torchs_gradient(name, steps):
    """d(loss after the steps)/d(initial weights) through the update, as torch's differentiable=True."""
    kwargs = {"SGD": dict(lr=0.1, momentum=0.9), "Adam": dict(lr=0.1, amsgrad=True),
              "RMSprop": dict(lr=0.01, centered=True, momentum=0.5)}.get(name, {})
    results = []
    for cls in (INFOS[name].optim_cls, ours(name)):
        w0 = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, requires_grad=True)
        w = w0.clone()
        opt = cls([w], differentiable=True, **kwargs)
        for _ in range(steps):
            u = w.clone()    # the gradient's graph keeps u, which the step leaves alone
            w.grad = torch.autograd.grad((u ** 4).sum(), u, create_graph=True)[0]
            opt.step()
        results.append(torch.autograd.grad((w ** 2).sum(), w0)[0])
    # torch's differentiable mode computes the bias corrections from the
    # float32 step tensor, hence 1e-5 rather than float64 agreement
    torch.testing.assert_close(results[1], results[0], rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("name", sorted(TWINS))
def test_capturable_on_the_cpu_fails_at_the_first_step_as_torch(name):
    if "capturable" not in inspect.signature(INFOS[name].optim_cls).parameters:
        pytest.raises(TypeError, ours(name), [torch.zeros(1, requires_grad=True)], capturable=True)
        return
    p = torch.zeros(1, requires_grad=True)
    opt = ours(name)([p], capturable=True)
    p.grad = torch.ones(1)
    with pytest.raises(AssertionError, match="If capturable=True"):
        opt.step()


@pytest.mark.parametrize("name", sorted(TWINS))
def test_signature_is_torchs(name):
    """torch's parameters, in torch's order and kinds, with torch's defaults;
    ours may only add keyword-only options after them."""
    theirs = list(inspect.signature(INFOS[name].optim_cls).parameters.values())
    mine = list(inspect.signature(ours(name)).parameters.values())
    assert [(p.name, p.kind, p.default) for p in mine[:len(theirs)]] == \
        [(p.name, p.kind, p.default) for p in theirs]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in mine[len(theirs):])


def test_momentum_of_one_or_more_is_accepted_with_a_warning():
    with pytest.warns(UserWarning, match="momentum=1.0 >= 1"):
        optimizers.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=1.0)


# Constructor arguments torch refuses that we accept on purpose (README, "Optimizers"):
# a Tensor lr or betas with foreach=True (our fast path reads their value), and
# betas mixing a float and a Tensor.
ACCEPTED = ("not supported for capturable=False and foreach=True", "betas must be either both floats or both Tensors")
ERRORS = [(name, e) for name, info in sorted(INFOS.items())
          for e in info.optim_error_inputs_func(device="cpu", dtype=torch.float32)
          if e.error_on == OptimizerErrorEnum.CONSTRUCTION_ERROR and not any(a in e.error_regex for a in ACCEPTED)]


@pytest.mark.parametrize("case", ERRORS, ids=[f"{n}-{e.error_regex[:40]}" for n, e in ERRORS])
def test_arguments_torch_refuses_raise_the_same_exception_type(case):
    name, error = case
    given = error.optimizer_error_input
    params = given.params if given.params is not None else [torch.zeros(2, requires_grad=True)]
    expect = pytest.warns if issubclass(error.error_type, Warning) else pytest.raises
    with expect(error.error_type):
        ours(name)(params, **given.kwargs)
