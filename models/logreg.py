"""Multinomial logistic regression: one linear layer on the flattened input.

With the cross-entropy loss this is a convex problem, the setting in which the
lectures' convergence statements about gradient descent hold (lecture 003,
condition number and step size).
"""

from torch import nn

from descentlab.models import shapes


class LogReg(nn.Module):
    def __init__(self, input_shape, num_classes):
        super().__init__()
        self.linear = nn.Linear(shapes.features(input_shape), num_classes)

    def forward(self, x):
        return self.linear(x.flatten(1))
