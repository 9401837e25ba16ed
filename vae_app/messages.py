"""Text from data and errors shown through Streamlit's Markdown widgets exactly as written.

`st.error`, `st.warning`, `st.info`, `st.success` and `st.markdown` render Markdown, so "k*k" shows
as "kk" and two `$` turn the text between them into LaTeX.
"""

from __future__ import annotations

import re

# Backslash escapes (CommonMark 2.4) for the characters that start emphasis, code, links, HTML,
# headings, quotes, tables, strikethrough or LaTeX. An underscore between two letters or digits
# cannot start or end emphasis (CommonMark 6.2), so names like VAE_DATA_DIR stay searchable.
_SPECIAL = re.compile(r"[\\`*$\[\]<>~|#]|(?<![^\W_])_|_(?![^\W_])")


def plain(text: str) -> str:
    """`text` escaped so that Markdown shows every character and line break as written."""
    return _SPECIAL.sub(lambda match: "\\" + match.group(), text).replace("\n", "  \n")
