"""Every invalid hyperparameter of every registry entry raises ValueError naming it,
and the registry answers unknown names with a suggestion."""

import pytest
import torch

from descentlab import optimizers

# One invalid value per hyperparameter name; a new hyperparameter needs a row
# here (test_every_hyperparameter_has_an_invalid_example fails until then).
INVALID = {
    "lr": -1e-3,
    "eps": -1e-8,
    "weight_decay": -0.1,
    "momentum": -0.1,
    "dampening": 1.5,
    "rho": -0.1,
    "alpha": 1.5,
    "lr_decay": -1.0,
    "initial_accumulator_value": -1.0,
    "betas": (0.9, 1.0),
    "etas": (1.5, 1.2),
    "step_sizes": (50, 1e-6),
    "momentum_decay": -1.0,
    "lrs": (),
    "method": "no-such-method",
    "c": 1.5,
    "shrink": 1.5,
    "max_backtracks": -1,
}
FLAGS = {"maximize", "nesterov", "ema", "amsgrad", "bias_correction", "eps_in_sqrt", "centered",
         "decoupled_weight_decay", "foreach", "fused", "capturable", "differentiable"}


def cases():
    for name in optimizers.available():
        for key in optimizers.defaults(name):
            if key not in FLAGS:
                yield name, key


@pytest.mark.parametrize("name,key", list(cases()))
def test_invalid_value_raises_value_error_naming_it(name, key):
    assert key in INVALID, f"add an invalid example for {key!r}"
    p = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=key):
        optimizers.create(name, [p], **{key: INVALID[key]})


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "0.1", None])
def test_lr_must_be_a_finite_number(value):
    with pytest.raises(ValueError, match="lr"):
        optimizers.create("adam", [torch.zeros(1, requires_grad=True)], lr=value)


@pytest.mark.parametrize("betas", [(1.0, 0.999), (0.9, -0.1), (0.9,), "0.9"])
def test_bad_betas(betas):
    with pytest.raises(ValueError, match="betas"):
        optimizers.create("adam", [torch.zeros(1, requires_grad=True)], betas=betas)


def test_unknown_name_suggests_and_lists():
    with pytest.raises(ValueError) as err:
        optimizers.create("adma", [torch.zeros(1, requires_grad=True)])
    message = str(err.value)
    assert "did you mean 'adam'" in message
    assert all(name in message for name in optimizers.available())


def test_unknown_hyperparameter_is_a_value_error():
    with pytest.raises(ValueError, match="bta"):
        optimizers.create("adam", [torch.zeros(1, requires_grad=True)], bta=0.9)


def test_defaults_are_what_create_uses():
    for name in optimizers.available():
        p = torch.zeros(2, requires_grad=True)
        group = optimizers.create(name, [p]).param_groups[0]
        for key, value in optimizers.defaults(name).items():
            assert group[key] == value, (name, key)


def test_registry_entries_carry_reference_and_description():
    for name in optimizers.available():
        info = optimizers.info(name)
        assert info.reference and info.description, name
