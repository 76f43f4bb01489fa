"""Every registry entry against its torch.optim twin, step by step, for every
flag combination: parameters AND every state tensor equal to 1e-10."""

import copy
import io

import pytest
import torch

from descentlab import optimizers
from optimizer_cases import (STEPS, all_cases, case_id, constructs, flag_combinations, gradient_stream,
                             hand_over_from_torch, make_params, param_groups, set_grads, twin_of)

# Classes with a fast path run twice: the default (fast) and foreach=False (readable).
CASES = [(name, {**hp, **path}) for name, hp in all_cases(with_counterpart=True)
         for path in (({}, {"foreach": False}) if optimizers.info(name).cls.has_fast_path() else ({},))]
TOL = dict(rtol=0, atol=1e-10)


def build_pair(name, hp):
    """Ours and torch's optimizer over two identical copies of the parameters."""
    ours_params, torch_params = make_params(), make_params()
    ours = optimizers.create(name, param_groups(ours_params, hp), **hp)
    torch_cls, torch_hp = twin_of(name, hp)
    theirs = torch_cls(param_groups(torch_params, hp), **torch_hp)
    return ours, ours_params, theirs, torch_params


def assert_same(ours, ours_params, theirs, torch_params, where):
    for i, (p, q) in enumerate(zip(ours_params, torch_params)):
        torch.testing.assert_close(p, q, **TOL, msg=lambda m: f"{where}, param {i}: {m}")
        s, r = ours.state[p], theirs.state[q]
        assert set(s) == set(r), f"{where}, param {i}: state keys {sorted(s)} != torch {sorted(r)}"
        for key in r:
            assert s[key].dtype == r[key].dtype, f"{where}, param {i}, state[{key!r}] dtype"
            torch.testing.assert_close(s[key], r[key], **TOL,
                                       msg=lambda m: f"{where}, param {i}, state[{key!r}]: {m}")


def run_lockstep(ours, ours_params, theirs, torch_params, steps, seed, label):
    for t, grads in enumerate(gradient_stream(ours_params, steps, seed), 1):
        set_grads(ours_params, grads)
        set_grads(torch_params, grads)
        ours.step()
        theirs.step()
        assert_same(ours, ours_params, theirs, torch_params, f"{label} step {t}")


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_steps_match_torch(case):
    name, hp = case
    ours, ours_params, theirs, torch_params = build_pair(name, hp)
    run_lockstep(ours, ours_params, theirs, torch_params, STEPS, 1, name)


@pytest.mark.parametrize("name", [n for n in optimizers.available() if optimizers.info(n).counterpart])
def test_invalid_combinations_are_invalid_for_torch_too(name):
    for flags in flag_combinations(name):
        twin = twin_of(name, flags)
        if twin is None:
            continue
        torch_cls, torch_hp = twin
        try:
            torch_cls(make_params(), **torch_hp)
            torch_ok = True
        except ValueError:
            torch_ok = False
        assert constructs(name, flags) == torch_ok, flags


def test_every_entry_with_a_twin_is_covered():
    covered = {name for name, _ in CASES}
    with_twin = {n for n in optimizers.available() if optimizers.info(n).counterpart is not None}
    assert covered == with_twin


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_state_dict_round_trip_through_torch(case):
    """torch -> ours -> torch, the three continuing in lockstep."""
    name, hp = case
    ours, ours_params, theirs, torch_params = build_pair(name, hp)
    hand_over_from_torch(ours, ours_params, theirs, torch_params, 10, seed=2)
    run_lockstep(ours, ours_params, theirs, torch_params, 10, 3, f"{name} after torch->ours")

    torch_cls, torch_hp = twin_of(name, hp)
    back_params = [p.detach().clone().requires_grad_() for p in ours_params]
    back = torch_cls(param_groups(back_params, hp), **torch_hp)
    back.load_state_dict(copy.deepcopy(ours.state_dict()))
    run_lockstep(ours, ours_params, back, back_params, 10, 4, f"{name} after ours->torch")


@pytest.mark.parametrize("name", optimizers.available())
def test_save_load_and_deepcopy(name):
    hp = {"lr": 0.01} if "lr" in optimizers.defaults(name) else {}
    params = make_params()
    opt = optimizers.create(name, param_groups(params, hp), **hp)
    for grads in gradient_stream(params, 5):
        set_grads(params, grads)
        opt.step(lambda: sum((p * p).sum() for p in params))
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)

    twins = []
    for source in (loaded, copy.deepcopy(opt).state_dict()):
        twin_params = [p.detach().clone().requires_grad_() for p in params]
        twin = optimizers.create(name, param_groups(twin_params, hp), **hp)
        twin.load_state_dict(source)
        twins.append((twin, twin_params))
    for grads in gradient_stream(params, 5, seed=9):
        for o, ps in [(opt, params)] + twins:
            set_grads(ps, grads)
            o.step(lambda: sum((p * p).sum() for p in ps))
    for twin, twin_params in twins:
        for p, q in zip(params, twin_params):
            torch.testing.assert_close(p, q, **TOL)
