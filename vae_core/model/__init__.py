"""The VAE itself: its layers, encoder and decoder architectures, losses, mixed precision, and the
codec that runs a trained model over arrays in batches."""
