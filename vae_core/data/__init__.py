"""What a model is trained and tested on: the built-in datasets, users' files, image folders and
archives, and the batches and feeds that carry them into training."""
