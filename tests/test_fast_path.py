"""The fast path (``update_group``, multi-tensor ops) against the readable
per-tensor path (``foreach=False``): every registry entry, every flag
combination of ``optimizer_cases``, float64, parameters and every state
tensor equal to 1e-12 after 30 steps with two groups and None gradients.

The readable path is itself checked against torch.optim and the lecture
references (test_optimizer_parity.py, test_optimizer_reference.py,
test_recent_optimizers.py); this file proves the fast one computes the same.
"""

import pytest
import torch

from descentlab import optimizers
import descentlab.optimizers.base
from optimizer_cases import all_cases, compiles_fused, case_id, gradient_stream, make_params, param_groups, set_grads

TOL = dict(rtol=0, atol=1e-12)
FAST = [n for n in optimizers.available() if optimizers.info(n).cls.has_fast_path()]
CASES = [c for twin in (True, False) for c in all_cases(with_counterpart=twin) if c[0] in FAST]


def run(name, hp, foreach, steps=30):
    params = make_params()
    opt = optimizers.create(name, param_groups(params, hp), foreach=foreach, **hp)
    for grads in gradient_stream(params, steps):
        set_grads(params, grads)
        opt.step()
    return params, opt


def assert_same_run(name, hp):
    (slow, slow_opt), (fast, fast_opt) = run(name, hp, False), run(name, hp, None)
    for i, (p, q) in enumerate(zip(slow, fast)):
        torch.testing.assert_close(q, p, **TOL, msg=lambda m: f"param {i}: {m}")
        s, r = fast_opt.state[q], slow_opt.state[p]
        assert set(s) == set(r), f"param {i}: state keys {sorted(s)} != {sorted(r)}"
        for key in r:
            assert s[key].dtype == r[key].dtype and s[key].shape == r[key].shape, (i, key)
            torch.testing.assert_close(s[key], r[key], **TOL, msg=lambda m: f"param {i}, {key}: {m}")


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_fast_path_equals_readable_path(case, monkeypatch):
    # Chunks of ~100 bytes split the three float64 test tensors (96, 40, 48
    # bytes) into several update_group calls, as a large model would be.
    monkeypatch.setattr(descentlab.optimizers.base, "FAST_PATH_CHUNK_BYTES", 100)
    assert_same_run(*case)


@pytest.mark.parametrize("name", FAST)
def test_fast_path_in_one_chunk(name):
    assert_same_run(name, {})


def test_entries_without_a_fast_path_are_the_known_ones():
    """New entries get a fast path, or are listed here on purpose."""
    readable_only = {n for n in optimizers.available() if n not in FAST}
    assert readable_only <= {"angulargrad", "linesearch"}


def test_fast_path_is_used_by_default_and_foreach_false_turns_it_off(monkeypatch):
    calls = []
    monkeypatch.setattr(optimizers.Adam, "update", lambda *a: calls.append("update"))
    monkeypatch.setattr(optimizers.Adam, "update_group", lambda *a: calls.append("group"))
    for foreach in (None, True, False):
        params = make_params()
        opt = optimizers.Adam(params, foreach=foreach)
        set_grads(params, [torch.ones_like(p) for p in params])
        opt.step()
    assert calls == ["group", "group"] + ["update"] * 3


def test_subclass_rewriting_update_alone_keeps_its_own_formula():
    """A subclass of Adam that only writes ``update`` must not run Adam's fast path."""
    class SignDescent(optimizers.Adam):
        def update(self, param, grad, state, group):
            param.add_(grad.sign(), alpha=-group["lr"])

    assert not SignDescent.has_fast_path()
    params = make_params()
    start = [p.detach().clone() for p in params]
    opt = SignDescent(params, lr=0.5)
    set_grads(params, [torch.full_like(p, -3.0) for p in params])
    opt.step()
    for p, p0 in zip(params, start):
        torch.testing.assert_close(p.detach(), p0 + 0.5)


def test_step_counters_stay_torch_tensors():
    """state['step'] keeps torch's 0-d float tensor, counted per parameter
    (parameter 1 skips the steps where its gradient is None)."""
    params, opt = run("adam", {"lr": 0.01}, None, steps=6)
    steps = [opt.state[p]["step"] for p in params]
    assert all(s.dim() == 0 and s.dtype == torch.float32 for s in steps)
    assert [s.item() for s in steps] == [6.0, 4.0, 6.0]  # None on steps 2 and 6


# fused=True compiles one kernel per set of tensors (seconds each), so it is
# checked on the one group and dense gradients test_dropin.py uses (the same
# compiled kernels serve both), with the flag set that exercises the most branches.
FUSED_CASES = [
    ("adam", {"amsgrad": True, "maximize": True, "weight_decay": 0.05, "eps_in_sqrt": True}),
    ("adamw", {}),
    ("sgd", {"momentum": 0.9, "nesterov": True, "maximize": True, "weight_decay": 0.05}),
    ("adagrad", {"lr_decay": 0.01, "initial_accumulator_value": 0.1, "maximize": True,
                 "weight_decay": 0.05}),
]


@compiles_fused
@pytest.mark.slow
@pytest.mark.parametrize("case", FUSED_CASES, ids=[case_id(c) for c in FUSED_CASES])
def test_fused_path_equals_readable_path(case):
    name, hp = case
    runs = []
    for path in ({"foreach": False}, {"fused": True}):
        params = make_params()
        opt = optimizers.create(name, params, lr=0.01, **hp, **path)
        for t, grads in enumerate(gradient_stream(params, 12, with_none=False), 1):
            if t == 7:  # a schedule's new lr must not need a recompile
                opt.param_groups[0]["lr"] = 0.02
                graphs = torch._dynamo.utils.counters["stats"]["unique_graphs"]
            set_grads(params, grads)
            opt.step()
        runs.append((params, opt))
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] == graphs
    (slow, slow_opt), (fused, fused_opt) = runs
    for p, q in zip(slow, fused):
        torch.testing.assert_close(q, p, **TOL)
        for key, value in slow_opt.state[p].items():
            torch.testing.assert_close(fused_opt.state[q][key], value, **TOL)


def test_fused_and_foreach_together_are_refused_as_torch_does():
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
        optimizers.Adam(make_params(), fused=True, foreach=True)
