"""Training a model: the loop, its monitor and events, training on several devices, and the pipeline
that trains, evaluates and saves a run."""
