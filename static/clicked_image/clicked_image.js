// The clicked image beside Explore's map, answered in the browser: a click on the map reads that
// test image's record (its pixels, label, z and error) from the app's static files, shows it, and
// decodes its z mean with the model's decoder (ONNX Runtime Web), without waiting for the server.
// Then it tells Python of the click, whose rerun brings the selection back here; an answer for a
// click the person has since replaced is ignored. A box or lasso selection (the chart's own, which
// Streamlit reports) hides this element: the server draws the group's grid below it.

import { loadDecoder } from "../latent_pad/decoder.js";
import { paintPicture } from "../latent_pad/drawing.js";
import { mountView } from "../elements/life_cycle.js";

const views = new WeakMap(); // an element's root -> its view, kept across reruns
const REMEMBERED_GESTURES = 16;
const PREFETCHED_BYTES = 64 * 2 ** 20; // MNIST's 10,000 records are about 8 MB
// A press and release this close in place and time are a click; Plotly's hover reaches 20 pixels.
const CLICK_PIXELS = 5;
const CLICK_MS = 600;
const POINT_PIXELS = 20;
const RING_COLOUR = "#ff00ff"; // the map's marks' colour (figures.ENCODED_COLOUR)

// Components v2's mount, for each run of the page: a new view for a new model (the signature), the
// same view told the server's selection otherwise (see life_cycle.js).
export async function mount({ data, parentElement, setStateValue, setTriggerValue }) {
  const root = parentElement.querySelector(".clicked-image");
  return mountView(views, root, data.signature, {
    create: () => createView(root, data, { setStateValue, setTriggerValue }),
    update: (view) => view.update(data),
  });
}

// The key of a selection: its test-set indices, sorted, comma-separated ("" for none), as Python writes it.
const keyOf = (indices) => [...new Set(indices)].sort((a, b) => a - b).join(",");
const indicesOf = (key) => (key === "" ? [] : key.split(",").map(Number));

// `python` holds Components v2's two ways back to Python.
function createView(root, data, { setStateValue, setTriggerValue }) {
  const prompt = root.querySelector(".prompt");
  const pair = root.querySelector(".pair");
  const image = root.querySelector("canvas.test-image");
  const reconstruction = root.querySelector("canvas.reconstruction");
  const caption = root.querySelector(".image-caption");
  const numbers = root.querySelector(".numbers");
  const [height, width, channels] = data.image_shape;
  for (const canvas of [image, reconstruction]) {
    canvas.width = width;
    canvas.height = height;
  }
  const imagePixels = image.getContext("2d").createImageData(width, height);
  const reconstructionPixels = reconstruction.getContext("2d").createImageData(width, height);
  const records = new Map(); // index -> Promise of its record
  const ring = clickedRing(() => state.chart);
  const state = { data, shown: null, gestures: [], asked: 0, stopped: false, chart: null, all: null };
  // Without records or a decoder Python knows already, and draws the clicked image itself.
  const usable = Boolean(data.records && data.decoder_url);
  const decoder = usable ? loadDecoder(data) : null;
  decoder?.catch((error) => fallBack(error.message));

  function fallBack(reason) {
    if (state.stopped || root.dataset.mode === "server") return;
    console.warn("clicked image: the server draws it instead:", reason);
    root.dataset.mode = "server";
    setStateValue("mode", "server"); // Python draws the clicked image from now on, below this element
  }

  // --- what the element shows --------------------------------------------------------------
  // Show the selection `key`; resolves once what it shows is painted (or cannot be).
  async function show(key) {
    state.shown = key;
    const indices = indicesOf(key);
    root.dataset.selection = indices.length > 1 ? "group" : indices.length ? "one" : "none";
    pair.hidden = numbers.hidden = indices.length !== 1;
    prompt.hidden = indices.length !== 0;
    ring.mark(indices.length === 1 ? indices[0] : null);
    if (indices.length === 1 && root.dataset.mode !== "server") await showOne(indices[0]);
  }

  async function showOne(index) {
    const asked = ++state.asked;
    const current = () => asked === state.asked && !state.stopped;
    let record;
    try {
      record = await recordAt(index);
    } catch (error) {
      fallBack(`test image ${index} could not be read from the app (${error.message})`);
      return;
    }
    if (!current()) return;
    paintPicture(image.getContext("2d"), imagePixels, Float32Array.from(record.pixels, (v) => v / 255), channels);
    const name = record.label < 0 ? "-" : (state.data.class_names[record.label] ?? String(record.label));
    caption.textContent = `test image ${index}: ${name}`;
    image.setAttribute("aria-label", `Test image ${index}, ${name}`);
    numbers.querySelector(".z-mean").textContent = vector(record.zMean);
    numbers.querySelector(".z-std").textContent = vector(record.zStd);
    numbers.querySelector(".error").textContent = record.error.toFixed(4);
    const condition = state.data.classes ? oneHot(record.label, state.data.classes) : null;
    let intensities;
    try {
      intensities = await (await decoder).decode(record.zMean, 1, condition);
    } catch (error) {
      fallBack(`its decoder does not run in this browser (${error.message})`);
      return;
    }
    if (!current()) return;
    paintPicture(reconstruction.getContext("2d"), reconstructionPixels, intensities, channels);
    reconstruction.setAttribute("aria-label", `The reconstruction of test image ${index} from its latent mean`);
    reconstruction.dataset.index = String(index); // what a test or the benchmark waits for
  }

  // Test image `index`'s record: from the whole file once it has come, else its bytes alone, by a
  // Range request (each fetched once).
  function recordAt(index) {
    const { url, bytes } = state.data.records;
    if (state.all) return Promise.resolve(readRecord(state.all, index * bytes, state.data.records));
    if (!records.has(index)) {
      const request = fetch(new URL(url, document.baseURI).href, {
        headers: { Range: `bytes=${index * bytes}-${(index + 1) * bytes - 1}` },
      })
        .then((response) => {
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          return response.arrayBuffer();
        })
        .then((buffer) => readRecord(buffer, buffer.byteLength === bytes ? 0 : index * bytes, state.data.records));
      request.catch(() => records.delete(index)); // a failed fetch is tried again on the next click
      records.set(index, request);
    }
    return records.get(index);
  }

  // The whole file, fetched at once where it is small enough, so that a click waits for no server:
  // a server busy with the click's own rerun answers a fetch late.
  function fetchAll() {
    const { url, bytes, count } = state.data.records;
    if (bytes * count > PREFETCHED_BYTES) return;
    fetch(new URL(url, document.baseURI).href)
      .then((response) => (response.ok ? response.arrayBuffer() : null))
      .then((buffer) => {
        if (buffer?.byteLength === bytes * count) state.all = buffer;
      })
      .catch(() => {}); // the clicks fetch their records one at a time instead
  }

  // --- the map's gestures, heard from the chart itself --------------------------------------
  function gesture(indices) {
    const key = keyOf(indices);
    state.gestures = [...state.gestures.slice(1 - REMEMBERED_GESTURES), key];
    return show(key);
  }

  // A click is this element's to tell Python, once its answer is on the screen: the rerun it starts
  // keeps the page's main thread busy for a while.
  async function clicked(index) {
    await gesture([index]);
    requestAnimationFrame(() =>
      setTimeout(() => {
        if (!state.stopped) setTriggerValue("click", { index, signature: state.data.signature });
      }),
    );
  }
  // Box and lasso selections are the chart's (Streamlit reports them); a double click in those modes
  // clears one.
  const handlers = {
    plotly_selected: (event) => event && gesture(event.points.map((point) => indexOf(point.customdata))),
    plotly_deselect: () => gesture([]),
    plotly_afterplot: () => ring.place(), // zoomed, panned, resized or drawn anew
  };

  // The chart may be drawn after this element, or drawn anew: listen to whichever is on the page.
  function listenToChart() {
    const chart = document.querySelector(`.st-key-${state.data.map_key} .js-plotly-plot`);
    if (chart === state.chart || !chart?.on) return;
    forgetChart();
    state.chart = chart;
    for (const [name, handler] of Object.entries(handlers)) chart.on(name, handler);
    ring.place();
  }
  function forgetChart() {
    for (const [name, handler] of Object.entries(handlers)) state.chart?.removeListener?.(name, handler);
    state.chart = null;
  }
  const watcher = new MutationObserver(listenToChart);
  watcher.observe(document.body, { childList: true, subtree: true });

  // A click is heard from the pointer itself (a press and release close together, in time and place,
  // over the chart's plotting area): Streamlit's own point selection would start a rerun, and hold
  // the page's main thread, before this answer could reach the screen.
  const listening = new AbortController();
  let pressed = null;
  document.addEventListener("pointerdown", (event) => {
    const onChart = state.chart?.contains(event.target);
    pressed = onChart ? { x: event.clientX, y: event.clientY, at: performance.now() } : null;
  }, { capture: true, signal: listening.signal });
  // The release lands on whatever Plotly laid over the page for a possible drag: where the press was is what counts.
  document.addEventListener("pointerup", (event) => {
    const press = pressed;
    pressed = null;
    if (!press || !state.chart || root.dataset.mode === "server") return; // then the chart's own selection takes clicks
    const moved = Math.hypot(event.clientX - press.x, event.clientY - press.y);
    if (moved > CLICK_PIXELS || performance.now() - press.at > CLICK_MS) return; // a drag: pan, zoom, box
    // The point Plotly's tooltip names where there is one (a mouse hovers), else the nearest (a finger).
    const hovered = (state.chart._hoverdata ?? []).find((point) => point.customdata !== undefined);
    const index = hovered ? indexOf(hovered.customdata) : pointAt(state.chart, event.clientX, event.clientY);
    if (index !== null) clicked(index);
  }, { capture: true, signal: listening.signal });

  // --- life cycle --------------------------------------------------------------------------
  const view = {
    get stopped() {
      return state.stopped;
    },
    // The server's selection: where it answers a gesture this element has already shown, or one
    // since replaced (a late rerun), nothing moves; a selection of the server's own (a page opened
    // with one, a cleared map) is shown.
    update(newData) {
      state.data = newData;
      listenToChart();
      const seen = state.gestures.lastIndexOf(newData.selection);
      if (seen >= 0) {
        state.gestures = state.gestures.slice(seen);
      } else if (newData.selection !== state.shown) {
        show(newData.selection);
      }
    },
    stop() {
      state.stopped = true;
      watcher.disconnect();
      listening.abort();
      forgetChart();
      ring.mark(null);
    },
  };
  root.dataset.mode = usable ? "browser" : "server";
  if (usable) fetchAll();
  prompt.querySelector(".ask").textContent = data.prompt;
  prompt.querySelector(".note").textContent = data.note;
  prompt.querySelector(".note").hidden = !data.note;
  listenToChart();
  show(data.selection);
  return view;
}

// The record at byte `offset` of `buffer` (see vae_app/services/browser_records.py), little-endian.
function readRecord(buffer, offset, layout) {
  if (buffer.byteLength < offset + layout.bytes) throw new Error(`no record at byte ${offset}`);
  const numbers = new DataView(buffer, offset, layout.bytes);
  const floats = (at, count) => Float32Array.from({ length: count }, (_, i) => numbers.getFloat32(at + 4 * i, true));
  const latent = (layout.z_std - layout.z_mean) / 4;
  return {
    label: numbers.getInt32(layout.label, true),
    error: numbers.getFloat32(layout.error, true),
    zMean: floats(layout.z_mean, latent),
    zStd: floats(layout.z_std, latent),
    pixels: new Uint8Array(buffer, offset + layout.image, layout.bytes - layout.image),
  };
}

// The ring around the clicked point on the map: a mark laid over the chart (outside this element's
// shadow root, so styled inline), placed by Plotly's own axis mapping and placed again after every
// drawing of the chart. A ring in the figure itself would have Plotly draw all its points again.
function clickedRing(chartOf) {
  const mark = document.createElement("div");
  mark.setAttribute("aria-hidden", "true");
  mark.dataset.clickedRing = "";
  Object.assign(mark.style, {
    position: "absolute", boxSizing: "border-box", width: "20px", height: "20px", margin: "-10px 0 0 -10px", borderRadius: "50%",
    border: `3px solid ${RING_COLOUR}`, pointerEvents: "none", zIndex: 10, display: "none",
  });
  let marked = null;
  const ring = {
    mark(index) {
      marked = index;
      ring.place();
    },
    place() {
      const chart = chartOf();
      const at = marked === null || !chart ? null : pointPlace(chart, marked);
      if (!at) {
        mark.style.display = "none";
        return;
      }
      if (mark.parentElement !== chart.parentElement) chart.parentElement.append(mark);
      chart.parentElement.style.position ||= "relative";
      Object.assign(mark.style, { display: "block", left: `${chart.offsetLeft + at[0]}px`, top: `${chart.offsetTop + at[1]}px` });
    },
  };
  return ring;
}

// A point's test-set index, from the scatter's customdata (a number, or a one-item list).
const indexOf = (custom) => Number(Array.isArray(custom) ? custom[0] : custom);

// Every point `chart` shows (a class hidden from the legend shows none): its test-set index and
// where it is drawn, in pixels from the plotting area's corner, by Plotly's own axis mapping (d2p).
function* shownPoints(chart) {
  const { xaxis, yaxis } = chart._fullLayout;
  for (const trace of chart._fullData ?? []) {
    if (trace.visible !== true || !trace.customdata) continue;
    for (let i = 0; i < trace.x.length; i += 1) {
      yield [indexOf(trace.customdata[i]), xaxis.d2p(trace.x[i]), yaxis.d2p(trace.y[i])];
    }
  }
}

const inPlottingArea = ({ _size: size }, x, y) => x >= 0 && y >= 0 && x <= size.w && y <= size.h;

// Where test image `index` is drawn on `chart`, in pixels from the chart's corner; null where it
// is not (a class hidden from the legend, or zoomed out of the plotting area).
function pointPlace(chart, index) {
  const layout = chart._fullLayout;
  for (const [shown, x, y] of shownPoints(chart)) {
    if (shown === index) return inPlottingArea(layout, x, y) ? [layout._size.l + x, layout._size.t + y] : null;
  }
  return null;
}

// The test-set index of the shown point nearest the page position (x, y) on `chart`, within
// POINT_PIXELS; null where none is (or the position is outside the plotting area).
function pointAt(chart, x, y) {
  const layout = chart._fullLayout;
  const frame = chart.getBoundingClientRect();
  const [px, py] = [x - frame.left - layout._size.l, y - frame.top - layout._size.t];
  if (!inPlottingArea(layout, px, py)) return null;
  let nearest = null;
  let best = POINT_PIXELS ** 2;
  for (const [index, sx, sy] of shownPoints(chart)) {
    const distance = (sx - px) ** 2 + (sy - py) ** 2;
    if (distance < best) [best, nearest] = [distance, index];
  }
  return nearest;
}

const vector = (values) => `[${Array.from(values, (v) => v.toFixed(3)).join(", ")}]`;
const oneHot = (label, classes) => Array.from({ length: classes }, (_, i) => (i === label ? 1 : 0));
