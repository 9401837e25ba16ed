"""What a trained model has learned, measured: test metrics, latent planes and directions, the worst
explained images, the posterior lens, conditional grids and comparisons between models."""
