"""Input-shape checks and layer sizes shared by the model files."""

import math

import torch


def features(input_shape):
    """The number of input features: ``prod(input_shape)`` (the models that flatten their input)."""
    return math.prod(input_shape)


def image(model, input_shape, smallest):
    """``(C, H, W)``, or ``ValueError`` if ``input_shape`` is not an image of at least ``smallest`` pixels a side."""
    if len(input_shape) != 3 or min(input_shape[1:]) < smallest:
        raise ValueError(f"model '{model}' needs image input (C, H, W) of at least {smallest}x{smallest} "
                         f"pixels, got input shape {tuple(input_shape)}; use logreg or mlp for feature data")
    return tuple(input_shape)


def flat_size(layers, input_shape):
    """How many features ``layers`` produce for one input: one forward pass on zeros, so the
    size always matches the layers (padding, pooling rounding) without a formula to keep in step."""
    with torch.no_grad():
        return layers(torch.zeros(1, *input_shape)).numel()
