"""The single sigmoid neuron f(x) = 1 / (1 + exp(-(w·x + b))) of lecture 002
(Khapra CS7015 lecture 5), with parameters named ``w`` and ``b`` as on the slides.

Its forward returns the sigmoid output f(x), shape [N, 1] - a value in (0, 1),
not a logit - so it is created with ``num_classes=1`` and trained with the
lecture's squared error L(w, b) = 1/2 Σ (y - f(x))², e.g. on ``sigmoid2`` and
``sparse``. On a binary classification dataset (``blobs2d``) it reads as
P(class 1 | x): create it with ``num_classes=1``, train with squared error or
binary cross-entropy against ``y.float()``, and predict class ``f(x) > 0.5``.
Inputs of any shape are flattened, so w has one weight per input feature.
"""

import math

import torch
from torch import nn

from descentlab.models import shapes


class Neuron(nn.Module):
    def __init__(self, input_shape, num_classes=1):
        super().__init__()
        if num_classes != 1:
            raise ValueError(f"model 'neuron' has a single sigmoid output: create it with num_classes=1 "
                             f"(got {num_classes}); for a binary dataset its output is P(class 1)")
        n = shapes.features(input_shape)
        # nn.Linear's default initialisation: uniform in ±1/sqrt(fan_in).
        bound = 1.0 / math.sqrt(n)
        self.w = nn.Parameter(torch.empty(1, n).uniform_(-bound, bound))
        self.b = nn.Parameter(torch.empty(1).uniform_(-bound, bound))

    def forward(self, x):
        return torch.sigmoid(x.flatten(1) @ self.w.T + self.b)
