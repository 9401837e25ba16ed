"""Train: settings in a form, then a background run with live loss curves, latent snapshots and Stop,
and at its end the new model's test figures and the way to open it in Explore.

The run belongs to the server process, not to this page: leaving or reloading the page keeps it
going, and every session sees it here.
"""

import streamlit as st

from vae_app.messages import plain
from vae_app.panels.run_outcome import outcome_panel
from vae_app.panels.train_form import settings_form
from vae_app.panels.training_progress import job_board, progress_panel

st.title("Train a VAE")
board = job_board()
board.warm()  # a training process imports Keras while the form is filled in
settings_form(board)
job = board.latest()
if job is not None:
    progress = job.progress()
    st.subheader(plain(f"Run: {progress.name}"))
    (outcome_panel if progress.stage == "finished" else progress_panel)(job)
