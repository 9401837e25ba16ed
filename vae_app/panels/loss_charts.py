"""A run's loss curves on a page: total, reconstruction and KL, a chart each, in columns, side by
side on a wide screen and one above another on a phone (`st.columns` stacks there); and the same
losses as a CSV file to download."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from vae_app.figures import loss_panels
from vae_core.exports.loss_history import history_csv

# The chosen epoch's line on the replay's curves.
MARK_COLOUR = "#e040fb"


def loss_charts(history: Sequence[dict[str, float]], key: str, marked_epoch: int | None = None) -> None:
    """The three charts of `history`, keyed `key` and the term; `marked_epoch`, if any, as a dotted line."""
    for column, panel in zip(st.columns(3), loss_panels(history), strict=True):
        title = panel.layout.title.text
        if marked_epoch is not None:
            panel.add_vline(x=marked_epoch, line_dash="dot", line_color=MARK_COLOUR)
        marked = "" if marked_epoch is None else f", epoch {marked_epoch} marked"
        # No tool bar: on a phone it would cover the legend.
        column.plotly_chart(
            panel, key=f"{key}:{title}", alt=f"{title} loss per epoch{marked}", config={"displayModeBar": False}
        )


def losses_download(history: Sequence[dict[str, float]], stem: str, key: str) -> None:
    """A button that downloads `history`'s losses per epoch as `stem`-losses.csv, made only when clicked."""
    st.download_button(
        "Download the losses per epoch (CSV)",
        lambda: history_csv(history),
        file_name=f"{stem}-losses.csv",
        mime="text/csv",
        on_click="ignore",
        key=key,
    )
