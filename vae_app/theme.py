"""The theme the person's browser shows, so that figures draw in colours that stand out on it."""

from __future__ import annotations

import streamlit as st


def page_theme() -> str:
    """The theme, light or dark, the browser reported with this run; light, Streamlit's default, where no
    browser said (AppTest, a bare script run). Streamlit does not rerun on a switch of theme: figures
    follow it on the page's next run."""
    return "dark" if st.context.theme.type == "dark" else "light"
