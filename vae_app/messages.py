"""Text from data and errors shown exactly as written, in Streamlit's Markdown and in Plotly charts.

`st.error`, `st.warning`, `st.info`, `st.success`, `st.markdown`, captions, widget labels and radio
options render Markdown, so "k*k" shows as "kk" and two `$` turn the text between them into LaTeX.
Plotly renders a few HTML tags in trace names and hover labels (<b>, <a href>, <br>). Class names
come from folder names in an uploaded archive: anything can be in them.
"""

from __future__ import annotations

import html
import re

# Backslash escapes (CommonMark 2.4) for the characters that start emphasis, code, links, HTML,
# headings, quotes, tables, strikethrough or LaTeX. An underscore between two letters or digits
# cannot start or end emphasis (CommonMark 6.2), so names like VAE_DATA_DIR stay searchable.
_SPECIAL = re.compile(r"[\\`*$\[\]<>~|#]|(?<![^\W_])_|_(?![^\W_])")


def plain(text: str) -> str:
    """`text` escaped so that Markdown shows every character and line break as written."""
    return _SPECIAL.sub(lambda match: "\\" + match.group(), text).replace("\n", "  \n")


def plain_for_plotly(text: str) -> str:
    """`text` for a Plotly name or label: tags shown as written (Plotly decodes entities after it
    has read the tags)."""
    return html.escape(text, quote=False)
