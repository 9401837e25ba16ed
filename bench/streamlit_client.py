"""A browser tab without the browser: one Streamlit session spoken to over its own websocket protocol.

What Streamlit's frontend does for a person, in the parts the load benchmark needs: it opens
`/_stcore/stream`, asks for a page by its address (`rerun_script` with the page's path and query
string), keeps what the server says about the session (the page's script hash, the query string,
the elements and which fragment holds each, cached messages), answers `auto_rerun` fragments on
their interval, and sends a widget's new value as the frontend does, in a `rerun_script` that
carries the session's widget states (and the fragment id of the widget's element, so that a
fragment reruns alone). Widget values it never set are left out: the server keeps a widget's last
value when the browser does not send it. Media (the pictures' PNGs, fetched over HTTP by a
browser) are not fetched.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import numpy as np
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect

DONE = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)
# Streamlit's prefix for the widgets it keeps out of st.session_state, a component's triggers among them.
INTERNAL_KEY = "$$STREAMLIT_INTERNAL_KEY"


@dataclass
class Element:
    """An element the server drew: its kind (`plotly_chart`, `bidi_component`, ...), its proto, and
    the fragment that drew it ("" outside fragments)."""

    kind: str
    proto: object
    fragment_id: str


@dataclass
class Answer:
    """Seconds from a gesture's message to the first ForwardMsg that matched its marker and to the
    end of the run that sent it; None where it did not come in time."""

    marker: float | None
    finished: float | None


@dataclass
class _Waiter:
    """A sent rerun: the run that answers it is the first to start after it (one session's runs
    follow one another); a run cut short for a newer rerun hands over to the next."""

    sent: float
    marker: Callable[[bytes], bool] | None
    fragment_id: str  # the fragment it reruns, "" for the whole page
    page_script_hash: str  # the page it asks for
    run_id: str | None = None
    marked: float | None = None
    finished: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class StreamlitSession:
    """One simulated browser tab on a Streamlit server at `base_url` (`http://host:port`)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.query_string = ""
        self.page_script_hash = ""
        self.pages: dict[str, str] = {}  # url path name -> page script hash
        self.elements: dict[str, Element] = {}  # element id -> element, this page's
        self.widget_states: dict[str, WidgetState] = {}  # values this tab has set, sent with every rerun
        self.cached: dict[str, bytes] = {}  # message hash -> message, as the frontend's message cache
        self.received_bytes = 0
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._auto_reruns: dict[str, asyncio.Task] = {}
        self._waiters: list[_Waiter] = []
        self._busy = False  # a run of this session is under way (its gesture or page load)
        self.watch: Callable[[bytes], None] | None = None  # called with every message, cached ones resolved

    async def open(self, path: str, timeout: float = 300) -> float:
        """Connect and ask for the page at `path` (`explore?model=...`), as a tab opened on that
        address does; seconds until that page's script run has ended."""
        parts = urlsplit(f"{self.base_url}/{path}")
        ws_url = f"ws{self.base_url.removeprefix('http')}/_stcore/stream"
        self._socket = await connect(
            ws_url, subprotocols=["streamlit"], origin=self.base_url, max_size=None, ping_interval=None
        )
        self._reader = asyncio.create_task(self._read())
        self.query_string = parts.query
        answer = await self.rerun([], page_name=parts.path.strip("/"), marker=None, timeout=timeout)
        if answer.finished is None:
            raise TimeoutError(f"{path} did not finish loading within {timeout} s")
        return answer.finished

    async def close(self) -> None:
        for task in self._auto_reruns.values():
            task.cancel()
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    async def switch_page(self, url_pathname: str, timeout: float = 120) -> float:
        """Go to another page of the app, as a click in the navigation does: the old page's widget
        states and timers are dropped; seconds until the new page's run has ended."""
        for task in self._auto_reruns.values():
            task.cancel()
        self._auto_reruns.clear()
        self.widget_states.clear()
        self.elements.clear()
        self.query_string = ""  # the frontend keeps only parameters bound to widgets; the app sets its own
        answer = await self.rerun([], page_script_hash=self.pages[url_pathname], marker=None, timeout=timeout)
        if answer.finished is None:
            raise TimeoutError(f"page {url_pathname} did not finish within {timeout} s")
        return answer.finished

    async def rerun(
        self,
        states: list[WidgetState],
        *,
        fragment_id: str = "",
        marker: Callable[[bytes], bool] | None,
        timeout: float = 30,
        page_name: str = "",
        page_script_hash: str | None = None,
        auto: bool = False,
    ) -> Answer:
        """Send a rerun with the session's widget states, `states` set (trigger values only for this
        message, as the frontend sends them), and wait for the end of the run that answers it;
        with the time of that run's first ForwardMsg that `marker` accepts (raw bytes, cached
        messages resolved), if any."""
        for state in states:
            if state.WhichOneof("value") not in ("trigger_value", "json_trigger_value", "string_trigger_value"):
                self.widget_states[state.id] = state
        sent_states = {**self.widget_states, **{state.id: state for state in states}}
        message = BackMsg()
        client = message.rerun_script
        client.CopyFrom(self._client_state(page_name, page_script_hash, fragment_id, auto))
        client.widget_states.widgets.extend(sent_states.values())
        waiter = _Waiter(time.perf_counter(), marker, fragment_id, client.page_script_hash)
        self._waiters.append(waiter)
        self._busy = True
        await self._socket.send(message.SerializeToString())
        try:
            finished = await asyncio.wait_for(asyncio.shield(waiter.finished), timeout)
        except TimeoutError:
            finished = None
        finally:
            self._waiters.remove(waiter)
            self._busy = bool(self._waiters)
        marked = None if waiter.marked is None else waiter.marked - waiter.sent
        return Answer(marked, None if finished is None else finished - waiter.sent)

    def _client_state(self, page_name: str, page_script_hash: str | None, fragment_id: str, auto: bool) -> ClientState:
        state = ClientState(
            query_string=self.query_string,
            page_script_hash=self.page_script_hash if page_script_hash is None else page_script_hash,
            page_name=page_name,
            fragment_id=fragment_id,
            is_auto_rerun=auto,
            cached_message_hashes=list(self.cached),
        )
        info = state.context_info
        info.timezone, info.timezone_offset, info.locale = "UTC", 0, "en-US"
        info.url, info.is_embedded, info.color_scheme = f"{self.base_url}/{page_name}", False, "light"
        return state

    async def _read(self) -> None:
        async for raw in self._socket:
            self.received_bytes += len(raw)
            message = ForwardMsg()
            message.ParseFromString(raw)
            if message.WhichOneof("type") == "ref_hash":
                raw = self.cached.get(message.ref_hash, b"")
                message = ForwardMsg()
                message.ParseFromString(raw)
            elif message.metadata.cacheable:
                self.cached[message.hash] = raw
            self._follow(message)
            if self.watch is not None:
                self.watch(raw)
            self._answer(message, raw, time.perf_counter())

    def _answer(self, message: ForwardMsg, raw: bytes, now: float) -> None:
        """Tell the waiting reruns what this message means for them: their run started, showed the
        marker, or ended. A run of another fragment, or of another page, is not theirs (one that an
        earlier rerun, unanswered in time, asked for)."""
        kind, run = message.WhichOneof("type"), message.metadata.run
        for waiter in self._waiters:
            if kind == "new_session" and waiter.run_id is None:
                if self._answers(waiter, message.new_session.page_script_hash, list(run.fragment_ids)):
                    waiter.run_id = run.script_run_id
            elif waiter.run_id is None or waiter.finished.done():
                continue
            elif kind == "script_finished" and run.script_run_id == waiter.run_id:
                if message.script_finished in DONE:
                    waiter.finished.set_result(now)
                else:
                    waiter.run_id = None  # cut short for a newer rerun: the next run answers
            elif waiter.marked is None and waiter.marker is not None and waiter.marker(raw):
                waiter.marked = now

    @staticmethod
    def _answers(waiter: _Waiter, page_script_hash: str, fragment_ids: list[str]) -> bool:
        """Whether a run of these fragments (none: the whole script) on this page answers `waiter`.
        A page asked for by its address (no hash yet) takes the first whole run."""
        if waiter.fragment_id:
            return waiter.fragment_id in fragment_ids
        return not fragment_ids and waiter.page_script_hash in ("", page_script_hash)

    def _follow(self, message: ForwardMsg) -> None:
        """Keep what the frontend keeps: the page, the query string, the elements, the timers."""
        kind = message.WhichOneof("type")
        if kind == "new_session":
            self.page_script_hash = message.new_session.page_script_hash or self.page_script_hash
            self.pages.update({page.url_pathname: page.page_script_hash for page in message.new_session.app_pages})
        elif kind == "navigation":
            self.page_script_hash = message.navigation.page_script_hash or self.page_script_hash
            self.pages.update({page.url_pathname: page.page_script_hash for page in message.navigation.app_pages})
        elif kind == "page_info_changed":
            self.query_string = message.page_info_changed.query_string
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            element_kind = element.WhichOneof("type")
            proto = getattr(element, element_kind) if element_kind else None
            element_id = (
                getattr(proto, "id", "") if proto is not None and "id" in proto.DESCRIPTOR.fields_by_name else ""
            )
            if element_id:
                self.elements[element_id] = Element(element_kind, proto, message.delta.fragment_id)
        elif kind == "auto_rerun":
            fragment_id = message.auto_rerun.fragment_id
            if fragment_id not in self._auto_reruns:
                self._auto_reruns[fragment_id] = asyncio.create_task(
                    self._rerun_every(message.auto_rerun.interval, fragment_id)
                )
        elif kind == "stop_auto_rerun":
            for task in self._auto_reruns.values():
                task.cancel()
            self._auto_reruns.clear()

    async def _rerun_every(self, interval: float, fragment_id: str) -> None:
        """A fragment's `run_every`: the frontend asks for it on a timer, while the page is idle."""
        while True:
            await asyncio.sleep(interval)
            if not self._busy:
                message = BackMsg()
                message.rerun_script.CopyFrom(self._client_state("", None, fragment_id, True))
                message.rerun_script.widget_states.widgets.extend(self.widget_states.values())
                await self._socket.send(message.SerializeToString())

    def find(self, kind: str, accept: Callable[[Element], bool] = lambda element: True) -> Element:
        """The page's last drawn element of `kind` that `accept` takes; KeyError if none."""
        for element in reversed(list(self.elements.values())):
            if element.kind == kind and accept(element):
                return element
        raise KeyError(f"no {kind} element on this page ({len(self.elements)} elements with ids)")

    def labelled(self, label: str) -> Element:
        """The page's widget with this label."""
        for element in reversed(list(self.elements.values())):
            if getattr(element.proto, "label", None) == label:
                return element
        raise KeyError(f"no widget labelled {label!r} on this page")


def component_data(element: Element) -> dict:
    """The JSON data Python mounted a Components v2 element with."""
    proto = element.proto
    return json.loads(proto.mixed.json if proto.HasField("mixed") else proto.json)


def trigger_state(element: Element, event: str, value: object) -> WidgetState:
    """A Components v2 element's `setTriggerValue(event, value)`, as the frontend sends it."""
    state = WidgetState(id=f"{INTERNAL_KEY}_{element.proto.id}__events")
    state.json_trigger_value = json.dumps([{"event": event, "value": value}])
    return state


@functools.lru_cache(maxsize=4)
def plotly_points(spec: str) -> list[tuple[int, int, float, float, object]]:
    """Every point of a Plotly chart's traces that carry customdata, from the chart's JSON `spec`:
    (curve, point index, x, y, customdata). Parsed once per spec: every session gets the same one."""
    points = []
    for curve, trace in enumerate(json.loads(spec).get("data", [])):
        if "customdata" not in trace:
            continue
        xs, ys, custom = (_plotly_array(trace[name]) for name in ("x", "y", "customdata"))
        points += [(curve, index, float(xs[index]), float(ys[index]), custom[index]) for index in range(len(custom))]
    return points


def _plotly_array(value: object) -> list:
    """A Plotly JSON array: a list, or plotly's typed array (`{"dtype": "f8", "bdata": base64}`)."""
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        return array.reshape(value["shape"]).tolist() if "shape" in value else array.tolist()
    return list(value)
