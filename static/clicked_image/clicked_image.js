// The clicked image beside Explore's map, answered in the browser: a click on the map reads that
// test image's record (its pixels, label, z and error) from the app's static files by a byte-range
// fetch, shows it, and decodes its z mean with the model's decoder (ONNX Runtime Web), without
// waiting for the server. The server hears the click too (Streamlit's own selection event) and its
// rerun brings the selection back here; an answer for a click the person has since replaced is
// ignored. A box or lasso selection hides this element: the server draws the group's grid below it.

import { loadDecoder } from "../latent_pad/decoder.js";
import { paintPicture } from "../latent_pad/drawing.js";
import { mountView } from "../elements/life_cycle.js";

const views = new WeakMap(); // an element's root -> its view, kept across reruns
const REMEMBERED_GESTURES = 16;
const PREFETCHED_BYTES = 64 * 2 ** 20; // MNIST's 10,000 records are about 8 MB

// Components v2's mount, for each run of the page: a new view for a new model (the signature), the
// same view told the server's selection otherwise (see life_cycle.js).
export async function mount({ data, parentElement, setStateValue }) {
  const root = parentElement.querySelector(".clicked-image");
  return mountView(views, root, data.signature, {
    create: () => createView(root, data, setStateValue),
    update: (view) => view.update(data),
  });
}

// The key of a selection: its test-set indices, sorted, comma-separated ("" for none), as Python writes it.
const keyOf = (indices) => [...new Set(indices)].sort((a, b) => a - b).join(",");
const indicesOf = (key) => (key === "" ? [] : key.split(",").map(Number));

function createView(root, data, setStateValue) {
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
  const state = { data, shown: null, gestures: [], asked: 0, stopped: false, chart: null, all: null };
  const decoder = data.decoder_url ? loadDecoder(data) : Promise.reject(new Error(data.no_decoder_reason));
  decoder.catch((error) => fallBack(error.message));

  function fallBack(reason) {
    if (state.stopped || root.dataset.mode === "server") return;
    console.warn("clicked image: the server draws it instead:", reason);
    root.dataset.mode = "server";
    setStateValue("mode", "server"); // Python draws the clicked image from now on, below this element
  }

  // --- what the element shows --------------------------------------------------------------
  function show(key) {
    state.shown = key;
    const indices = indicesOf(key);
    root.dataset.selection = indices.length > 1 ? "group" : indices.length ? "one" : "none";
    pair.hidden = numbers.hidden = indices.length !== 1;
    prompt.hidden = indices.length !== 0;
    if (indices.length === 1) showOne(indices[0]);
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
    show(key);
  }
  const handlers = {
    plotly_click: (event) => gesture([pointIndex(event.points[0])]),
    plotly_selected: (event) => event && gesture(event.points.map(pointIndex)),
    plotly_deselect: () => gesture([]),
  };

  // The chart may be drawn after this element, or drawn anew: listen to whichever is on the page.
  function listenToChart() {
    const chart = document.querySelector(`.st-key-${state.data.map_key} .js-plotly-plot`);
    if (chart === state.chart || !chart?.on) return;
    forgetChart();
    state.chart = chart;
    for (const [name, handler] of Object.entries(handlers)) chart.on(name, handler);
  }
  function forgetChart() {
    for (const [name, handler] of Object.entries(handlers)) state.chart?.removeListener?.(name, handler);
    state.chart = null;
  }
  const watcher = new MutationObserver(listenToChart);
  watcher.observe(document.body, { childList: true, subtree: true });

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
      forgetChart();
    },
  };
  root.dataset.mode = data.records ? "browser" : "server";
  if (data.records) fetchAll();
  else fallBack(data.no_records_reason);
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

// A point's test-set index: the scatter's customdata (a number, or a one-item list).
function pointIndex(point) {
  const custom = point.customdata;
  return Number(Array.isArray(custom) ? custom[0] : custom);
}

const vector = (values) => `[${Array.from(values, (v) => v.toFixed(3)).join(", ")}]`;
const oneHot = (label, classes) => Array.from({ length: classes }, (_, i) => (i === label ? 1 : 0));
