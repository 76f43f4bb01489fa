"""A small LeNet-5-like network (LeCun et al. 1998, "Gradient-based learning
applied to document recognition"): conv 6 5x5, ReLU, max-pool 2; conv 16 5x5,
ReLU, max-pool 2; fc 120, ReLU; fc 84, ReLU; fc classes.

Differences from LeNet-5, for today's training and for small inputs: ReLU and
max-pooling instead of scaled tanh and trainable sub-sampling, full connection
between the two conv layers, and padding 2 on both convolutions, so 28x28
images need no padding to 32x32 and 8x8 digits still leave a 2x2 map.
The modules pool before the ReLU: the same function and gradients for less
work (``models/blocks.py``).
"""

from torch import nn

from descentlab.models import shapes
from descentlab.models.blocks import conv_pool_relu


class LeNet(nn.Module):
    def __init__(self, input_shape, num_classes):
        super().__init__()
        channels = shapes.image("lenet", input_shape, smallest=4)[0]
        self.features = nn.Sequential(
            *conv_pool_relu(channels, 6, 5, 2),
            *conv_pool_relu(6, 16, 5, 2),
            nn.Flatten())
        self.classifier = nn.Sequential(
            nn.Linear(shapes.flat_size(self.features, input_shape), 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))
