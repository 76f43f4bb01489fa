"""Gradient clipping against hand-computed values and torch.nn.utils's
clip_grad_norm_ / clip_grad_value_: clipped gradients, the returned pre-clip
norm, None gradients, generators, non-finite norms and invalid arguments."""

import math

import pytest
import torch

from descentlab.optimizers.clipping import clip_grad_norm, clip_grad_value


def params_with_grads(*grads):
    params = []
    for grad in grads:
        p = torch.zeros(1 if grad is None else len(grad), dtype=torch.float64, requires_grad=True)
        p.grad = None if grad is None else torch.tensor(grad, dtype=torch.float64)
        params.append(p)
    return params


def test_global_norm_by_hand():
    params = params_with_grads([3.0, 4.0], None, [12.0])       # ||g|| = sqrt(9 + 16 + 144) = 13
    assert clip_grad_norm(params, 6.5) == 13.0
    scale = 6.5 / (13 + 1e-6)
    assert params[0].grad.tolist() == pytest.approx([3 * scale, 4 * scale], rel=1e-15)
    assert params[1].grad is None
    assert params[2].grad.tolist() == pytest.approx([12 * scale], rel=1e-15)


def test_small_gradients_are_left_alone():
    params = params_with_grads([0.3, 0.4])
    assert clip_grad_norm(iter(params), 1.0) == pytest.approx(0.5)   # a generator is fine too
    assert params[0].grad.tolist() == [0.3, 0.4]


def test_by_value_by_hand():
    params = params_with_grads([3.0, -4.0, 0.0], [12.0])
    assert clip_grad_value(params, 1.0) == 13.0                 # the 2-norm before clipping
    assert params[0].grad.tolist() == [1.0, -1.0, 0.0]
    assert params[1].grad.tolist() == [1.0]


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.1, 1.0, 100.0])
def test_norm_matches_torch(max_norm, norm_type):
    g = torch.Generator().manual_seed(0)
    shapes = [(3, 4), (5,), (2, 3, 2)]
    ours = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in shapes]
    theirs = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in shapes]
    for p, q in zip(ours, theirs):
        p.grad = torch.randn(p.shape, generator=g, dtype=torch.float64) * 3
        q.grad = p.grad.clone()
    norm = clip_grad_norm(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert norm == pytest.approx(expected.item(), rel=1e-14)
    for p, q in zip(ours, theirs):
        torch.testing.assert_close(p.grad, q.grad, rtol=0, atol=1e-14)


def test_value_matches_torch():
    g = torch.Generator().manual_seed(1)
    ours = [torch.zeros(4, 5, requires_grad=True), torch.zeros(7, requires_grad=True)]
    theirs = [torch.zeros(4, 5, requires_grad=True), torch.zeros(7, requires_grad=True)]
    for p, q in zip(ours, theirs):
        p.grad = torch.randn(p.shape, generator=g)
        q.grad = p.grad.clone()
    clip_grad_value(ours, 0.5)
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    for p, q in zip(ours, theirs):
        torch.testing.assert_close(p.grad, q.grad, rtol=0, atol=0)


def test_single_tensor_and_no_gradients():
    p = params_with_grads([6.0, 8.0])[0]
    assert clip_grad_norm(p, 5.0) == 10.0
    assert p.grad.norm().item() == pytest.approx(5.0, rel=1e-6)
    assert clip_grad_norm(params_with_grads(None), 1.0) == 0.0
    assert clip_grad_value([], 1.0) == 0.0


def test_non_finite_norm_propagates_like_torch():
    params = params_with_grads([math.inf, 1.0])
    assert clip_grad_norm(params, 1.0) == math.inf
    assert torch.isnan(params[0].grad[0]) and params[0].grad[1] == 0.0


@pytest.mark.parametrize("kwargs", [dict(max_norm=0), dict(max_norm=-1.0), dict(max_norm=math.nan),
                                    dict(max_norm="1"), dict(max_norm=1.0, norm_type=0.5),
                                    dict(max_norm=1.0, norm_type=True)])
def test_bad_norm_arguments(kwargs):
    with pytest.raises(ValueError, match=list(kwargs)[-1]):
        clip_grad_norm(params_with_grads([1.0]), **kwargs)


@pytest.mark.parametrize("clip_value", [0, -1.0, math.inf, None])
def test_bad_clip_value(clip_value):
    with pytest.raises(ValueError, match="clip_value"):
        clip_grad_value(params_with_grads([1.0]), clip_value)
