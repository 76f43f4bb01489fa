"""The convolutional block of the image models: convolution, max-pooling, ReLU.

Max-pooling then ReLU computes exactly what ReLU then max-pooling computes
(ReLU is non-decreasing, so it commutes with a maximum), and its gradients are
the same: the window's largest input gets the gradient either way, and ReLU
passes it only when that input is positive. Pooling first runs ReLU and its
backward pass on a quarter of the values (``benchmarks/compare_time.py`` times
the training step with and without it and channels_last).
"""

from torch import nn


def conv_pool_relu(in_channels, out_channels, kernel, padding, ceil_mode=False):
    """Conv ``kernel`` x ``kernel``, 2x2 max-pool, ReLU, as three modules."""
    return [nn.Conv2d(in_channels, out_channels, kernel, padding=padding),
            nn.MaxPool2d(2, ceil_mode=ceil_mode), nn.ReLU()]
