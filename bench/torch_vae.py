"""The PyTorch reference: the core's `conv` preset written as a plain PyTorch eager training loop.

The same network as `build_vae(ModelConfig(preset="conv", latent_dim=2))`: Conv 32 and 64 (3x3,
stride 2, ReLU), Dense 16, z_mean and z_log_var, and the mirror image: Dense 16, Dense 7x7x64,
transposed convolutions 64 and 32 (stride 2, ReLU) and a stride-1 transposed convolution to one
channel of logits. Parameter for parameter the same count (`bench.torch_speed` checks it), started
the way Keras starts it (Glorot-uniform weights, zero biases, not PyTorch's own defaults), so both
draw their first weights from the same distribution. The convolutions pad one pixel on every
side, the PyTorch idiom, where Keras's "same" pads only after, which changes neither shapes nor
arithmetic. The loss is the core's: Bernoulli -log p(x|z) summed over pixels plus the closed-form
KL, averaged over the batch; Adam at 1e-3.

The loop is what a PyTorch user writes for speed without leaving eager mode: the whole training set
on the device, one random permutation per epoch, batches sliced from it, the epoch's losses summed
on the device and read once at its end, and on a GPU cuDNN's autotuner on. Both contenders run
float32 code with the GPU's default arithmetic for it: JAX computes float32 convolutions and
matrix products in TF32 on GPUs with tensor cores, PyTorch does so for convolutions by default and
is told to for matrix products here, so neither gets cheaper arithmetic than the other.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional

LEARNING_RATE = 1e-3


class TorchConvVAE(nn.Module):
    """Encoder, reparameterised sample and decoder of the `conv` preset, NCHW."""

    def __init__(self, latent_dim: int = 2, hidden: int = 16) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 32, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(7 * 7 * 64, hidden),
            nn.ReLU(),
        )
        self.z_mean = nn.Linear(hidden, latent_dim)
        self.z_log_var = nn.Linear(hidden, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 7 * 7 * 64),
            nn.ReLU(),
            nn.Unflatten(1, (64, 7, 7)),
            nn.ConvTranspose2d(64, 64, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(32, 1, 3, padding=1),
        )
        for layer in self.modules():  # Keras's initialisers: Glorot-uniform weights, zero biases
            if isinstance(layer, nn.Linear | nn.Conv2d | nn.ConvTranspose2d):
                nn.init.xavier_uniform_(layer.weight)
                nn.init.zeros_(layer.bias)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(logits, z_mean, z_log_var) for images (n, 1, 28, 28) in [0, 1]."""
        features = self.encoder(images)
        z_mean, z_log_var = self.z_mean(features), self.z_log_var(features)
        z = z_mean + torch.exp(0.5 * z_log_var) * torch.randn_like(z_mean)
        return self.decoder(z), z_mean, z_log_var


def negative_elbo(
    images: torch.Tensor, logits: torch.Tensor, z_mean: torch.Tensor, z_log_var: torch.Tensor
) -> torch.Tensor:
    """Batch mean of Bernoulli -log p(x|z) summed over pixels plus KL(q(z|x) || N(0, I))."""
    reconstruction = functional.binary_cross_entropy_with_logits(logits, images, reduction="none").sum((1, 2, 3))
    kl = -0.5 * torch.sum(1.0 + z_log_var - z_mean.square() - z_log_var.exp(), dim=1)
    return torch.mean(reconstruction + kl)


def trainable_parameters(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)


def train_torch_vae(
    images: np.ndarray, epochs: int, batch_size: int, seed: int, device: torch.device
) -> tuple[list[float], list[float]]:
    """Train a fresh model; (seconds per epoch, mean training loss per epoch).

    `images`: float32 intensities in [0, 1], (n, 28, 28, 1) as the core takes them.
    """
    torch.manual_seed(seed)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
    model = TorchConvVAE().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    data = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2))).to(device)
    seconds, losses = [], []
    for _ in range(epochs):
        started = time.perf_counter()
        order = torch.randperm(len(data), device=device)
        total = torch.zeros((), device=device)
        for start in range(0, len(data), batch_size):
            batch = data[order[start : start + batch_size]]
            loss = negative_elbo(batch, *model(batch))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(batch)
        losses.append(total.item() / len(data))  # .item() waits for the device: the epoch is done
        seconds.append(time.perf_counter() - started)
    return seconds, losses
