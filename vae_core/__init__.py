"""The VAE engine behind the app: models, data, training, evaluation and model bundles.

It knows nothing about Streamlit. Modules are imported where needed (`vae_core.training.train`,
`vae_core.bundles.bundle`, ...) so that importing the package itself does not start a Keras backend.
"""
