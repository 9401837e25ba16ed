"""What leaves the app for other tools: the test set's latent codes (or a selection's) as CSV and
NPZ, and the files TensorFlow's Embedding Projector opens."""
