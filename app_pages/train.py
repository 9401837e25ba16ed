"""Train: settings in a form, then a background run with live loss curves, latent snapshots and Stop.

The run belongs to the server process, not to this page: leaving or reloading the page keeps it
going, and every session sees it here.
"""

import streamlit as st

from vae_app.messages import plain
from vae_app.train_form import settings_form
from vae_app.training_panel import job_board, progress_panel

st.title("Train a VAE")
board = job_board()
settings_form(board)
job = board.latest()
if job is not None:
    st.subheader(plain(f"Run: {job.progress().name}"))
    progress_panel(job)
