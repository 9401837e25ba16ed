"""Importing a VAE built elsewhere: its encoder and decoder, as Keras or ONNX files, with a dataset, become a bundle."""
