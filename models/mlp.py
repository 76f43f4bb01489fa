"""Fully connected network: flatten, then Linear + ReLU per hidden layer, then a linear output."""

from torch import nn

from descentlab.models import shapes


class MLP(nn.Module):
    def __init__(self, input_shape, num_classes, hidden=(128,)):
        super().__init__()
        hidden = (hidden,) if isinstance(hidden, int) else tuple(hidden)
        if not all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in hidden):
            raise ValueError(f"model 'mlp': hidden must be positive layer sizes, got {hidden!r}")
        layers, width = [nn.Flatten()], shapes.features(input_shape)
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        layers.append(nn.Linear(width, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)
