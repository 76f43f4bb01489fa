"""Two convolutional and two fully connected layers, for images.

``variant="default"``: a small net - conv 32 3x3 (padding 1), ReLU, max-pool 2;
conv 64 3x3, ReLU, max-pool 2; fc 128, ReLU; fc classes. PyTorch's default
initialisation. This is the CNN of ``benchmarks/train_loop.py`` and ``benchmarks/inference.py``.

``variant="fmnist_2c2d"``: the DeepOBS ``fmnist_2c2d`` test problem (Schneider,
Balles, Hennig, "DeepOBS: A Deep Learning Optimizer Benchmark Suite", ICLR
2019): conv 32 5x5 'same', ReLU, max-pool 2 'same'; conv 64 5x5 'same', ReLU,
max-pool 2 'same'; fc 1024, ReLU; fc classes. Weights from a normal
distribution with std 0.05 truncated at two standard deviations, biases 0.05,
as in DeepOBS. TensorFlow's 'same' 2x2 pooling keeps a last odd row/column,
which is ``ceil_mode=True`` here.

Both work on any image of at least 4x4 pixels (8x8 digits included): the
first fully connected layer is sized from the input shape. The modules pool
before the ReLU, which computes the same function and gradients for less
work (``models/blocks.py``).
"""

from torch import nn

from descentlab.models import shapes
from descentlab.models.blocks import conv_pool_relu

VARIANTS = {  # kernel, padding, fc width, TF-style 'same' pooling
    "default": (3, 1, 128, False),
    "fmnist_2c2d": (5, 2, 1024, True),
}


class CNN(nn.Module):
    def __init__(self, input_shape, num_classes, variant="default"):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"model 'cnn': unknown variant '{variant}' (available: {', '.join(VARIANTS)})")
        channels = shapes.image("cnn", input_shape, smallest=4)[0]
        kernel, padding, width, same_pool = VARIANTS[variant]
        self.features = nn.Sequential(
            *conv_pool_relu(channels, 32, kernel, padding, same_pool),
            *conv_pool_relu(32, 64, kernel, padding, same_pool),
            nn.Flatten())
        self.classifier = nn.Sequential(
            nn.Linear(shapes.flat_size(self.features, input_shape), width), nn.ReLU(),
            nn.Linear(width, num_classes))
        if variant == "fmnist_2c2d":
            for layer in self.modules():
                if isinstance(layer, (nn.Conv2d, nn.Linear)):
                    nn.init.trunc_normal_(layer.weight, std=0.05, a=-0.1, b=0.1)
                    nn.init.constant_(layer.bias, 0.05)

    def forward(self, x):
        return self.classifier(self.features(x))
