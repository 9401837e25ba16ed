"""What leaves the app for other tools: the test set's latent codes (or a selection's) as CSV and
NPZ, the files TensorFlow's Embedding Projector opens, and a run's losses per epoch as CSV."""
