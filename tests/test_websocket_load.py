"""The load benchmark's protocol client against a real server: one simulated session (Streamlit's
websocket protocol, no browser) opens Explore, clicks a point of the scatter and is answered with
the clicked image's element given that selection. No times are asserted."""

from __future__ import annotations

import asyncio
import random
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.streamlit_client import StreamlitSession
from bench.websocket_load import EXPLORE, click
from tests.streamlit_server import app_with_own_models

pytestmark = pytest.mark.slow  # a served app


async def open_explore_and_click(url: str) -> tuple[float | None, bool, int]:
    session = StreamlitSession(url)
    try:
        await session.open(EXPLORE, timeout=120)  # the first page of a fresh server loads the model
        seconds, captioned = await click(session, random.Random(0), timeout=60)
    finally:
        await session.close()
    return seconds, captioned, session.received_bytes


def test_a_simulated_session_clicks_a_point_and_the_server_answers_with_that_selection(tmp_path):
    with app_with_own_models(tmp_path, sys.executable) as server:
        # In a thread of its own: the browser tests' Playwright keeps an event loop running in this one.
        with ThreadPoolExecutor(max_workers=1) as thread:
            seconds, captioned, received = thread.submit(asyncio.run, open_explore_and_click(server.url)).result()
    assert captioned, "the click's run ended without the clicked image's element given that selection"
    assert seconds is not None and received > 0
