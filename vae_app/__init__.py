"""The Streamlit side of the app: cached model loading, the model picker, and picture helpers.

Pages in `app_pages/` stay thin by calling these and `vae_core`; nothing here does maths.
"""
