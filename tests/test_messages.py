"""Text shown through Streamlit's Markdown widgets reads exactly as written, under CommonMark."""

from __future__ import annotations

import html

import pytest
from markdown_it import MarkdownIt

from vae_app.messages import plain


def rendered_text(markdown: str) -> str:
    """What a reader sees: CommonMark with GFM tables and strikethrough, tags stripped."""
    page = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)
    assert page.startswith("<p>") and page.endswith("</p>\n"), page  # one paragraph: no heading, list or quote
    lines = page[3:-5].split("<br />\n")  # a hard break; any other line end shows as a space
    return html.unescape("\n".join(line.replace("\n", " ") for line in lines))


@pytest.mark.parametrize(
    "text",
    [
        "expected k*k (grayscale) or 3*k*k (RGB)",
        "**bold** and __strong__ and _emphasis_ and ~~struck~~",
        "set $VAE_DATA_DIR to a folder; $HOME is not it",
        "`code` [link](http://x) <b>tag</b> a\\b | c",
        "# not a heading",
        "> not a quote",
        "'y' should hold integer labels; found dtype <U5.",
        "first line\nsecond line",
        "__init__ and snake_case_name",
    ],
)
def test_plain_text_renders_as_written(text):
    assert rendered_text(plain(text)) == text


def test_underscores_inside_names_stay_unescaped():
    assert plain("VAE_DATA_DIR") == "VAE_DATA_DIR"  # searchable as written in the page's text


def test_dollar_signs_cannot_open_latex():
    assert plain("$a$ and $b") == "\\$a\\$ and \\$b"  # Streamlit typesets $...$ as LaTeX
