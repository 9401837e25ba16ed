// The latent pad: move the pointer over a plane of latent space and the digit decodes in the
// browser, on every move, with ONNX Runtime Web (WebAssembly). Python gets z back once, on release,
// click or key-up, so the page can follow without rerunning on every move. This module wires the
// others together and keeps each pad's state across Streamlit's reruns; vae_app/panels/latent_pad.js
// imports it.

import { explained, loadDecoder } from "./decoder.js";
import { drawBackground, drawPad, legendItems, paintPicture, readoutText } from "./drawing.js";
import { sameZ } from "./geometry.js";
import { buildSliders, listenToPad, showOnSliders } from "./input.js";
import { mountView } from "../elements/life_cycle.js";

const pads = new WeakMap(); // a pad's root element -> its pad, kept across reruns

// Components v2's mount, for each run of the page: a new pad for a new model, plane or theme (the
// signature), the same pad moved otherwise. Answers the function that stops it when it unmounts.
export async function mount({ data, parentElement, setTriggerValue, setStateValue }) {
  // Only where a benchmark or a test asked for them, before the pad mounted (see benchmark.js).
  const benchmark = globalThis.__latentPadBenchmark ? await import("./benchmark.js") : null;
  const root = parentElement.querySelector(".latent-pad");
  const python = { report: setTriggerValue, setState: setStateValue };
  return mountView(pads, root, data.signature, {
    create: () => createPad(root, data, python, benchmark?.watch(root)),
    update: (pad) => pad.update(data, python),
  });
}

// `python` holds Components v2's two ways back to Python; `watcher` (a benchmark's, or none) hears
// when the decoder is ready and when each decoded picture is painted.
function createPad(root, data, python, watcher = {}) {
  const canvas = root.querySelector("canvas.pad");
  const picture = root.querySelector("canvas.picture");
  const status = root.querySelector(".status");
  const readout = root.querySelector(".readout");
  const sliders = root.querySelector(".dimensions");
  const legend = root.querySelector(".legend");
  const pictureContext = picture.getContext("2d");
  const [height, width, channels] = data.image_shape;
  picture.width = width;
  picture.height = height;
  const pixels = pictureContext.createImageData(width, height);
  const background = document.createElement("canvas");
  const listening = new AbortController(); // a pad replaced by another stops hearing events
  const state = {
    data,
    python,
    z: Float32Array.from(data.z), // the committed point
    shown: Float32Array.from(data.z), // the point decoded now (hover or drag)
    pending: null, // {z, since}: the next point to decode, and when the person asked for it
    busy: false,
    frames: 0,
    reported: [], // the last z values sent to Python
    decoder: null,
    stopped: false,
  };

  function redraw() {
    drawPad(canvas, background, state.data, state.z, state.shown);
    readout.textContent = readoutText(state.data, state.shown);
    picture.setAttribute("aria-label", `What the decoder draws at ${readout.textContent}`);
    showOnSliders(sliders, state.shown);
  }

  function countFrame() {
    state.frames += 1;
    picture.dataset.frames = String(state.frames);
  }

  // --- decoding: at once on every move; moves that come while one decodes keep only the last ---
  function ask(z, since) {
    state.shown = z;
    state.pending = { z, since };
    redraw();
    decodePending();
  }

  async function decodePending() {
    if (!state.decoder || state.busy || !state.pending || state.stopped) return;
    const { z, since } = state.pending;
    state.pending = null;
    state.busy = true;
    try {
      const intensities = await state.decoder.decode(Float32Array.from(z), 1, state.data.condition);
      // A decode that finishes after this pad was replaced paints nothing.
      if (!state.stopped) {
        paintPicture(pictureContext, pixels, intensities, channels);
        countFrame();
        watcher.painted?.(since);
      }
    } catch (error) {
      fallBack(explained("this model's decoder does not run in your browser", error).message);
    } finally {
      state.busy = false;
    }
    decodePending();
  }

  function fallBack(reason) {
    state.decoder = null;
    root.dataset.mode = "server";
    status.textContent = `Decoding on the server: ${reason}. Instead, ${state.data.fallback}.`;
    // Python sends its own picture of z from now on, to be shown here, where the browser's would be.
    if (state.data.decoder_url) state.python.setState("mode", "server");
    paintServerPicture();
  }

  function paintServerPicture() {
    const source = state.data.server_picture;
    if (!source || state.decoder || state.stopped) return;
    const image = new Image();
    image.onload = () => {
      if (state.stopped || state.data.server_picture !== source) return; // a newer picture came
      pictureContext.imageSmoothingEnabled = false;
      pictureContext.drawImage(image, 0, 0, width, height);
      countFrame();
    };
    image.src = source;
  }

  function commit(z) {
    state.z = Float32Array.from(z);
    state.shown = state.z;
    root.dataset.z = JSON.stringify(Array.from(state.z));
    state.reported = [...state.reported.slice(-7), state.z];
    redraw();
    state.python.report("z", Array.from(state.z));
  }

  // --- input: what the pointer, keys and sliders may ask of the pad (input.js) ---------------
  const controls = {
    get data() {
      return state.data;
    },
    get z() {
      return state.z; // the committed point
    },
    show: (z, since) => ask(z, since),
    place: (z, since) => {
      state.z = z;
      ask(z, since);
    },
    commit,
  };
  const input = listenToPad(canvas, controls, listening.signal);

  // --- life cycle -------------------------------------------------------------------------
  const pad = {
    get stopped() {
      return state.stopped;
    },
    update(newData, newPython) {
      state.python = newPython;
      const newPicture = newData.server_picture !== state.data.server_picture;
      // Python's z moves the pad only when Python moved it (the sliders below): a rerun may bring
      // back, late, a z this pad reported itself, which must not pull the pad back.
      const fromPython = Float32Array.from(newData.z);
      const echoed = state.reported.some((z) => sameZ(z, fromPython, 1e-5));
      const movedByPython = !sameZ(fromPython, Float32Array.from(state.data.z), 1e-5) && !echoed;
      const newClass = JSON.stringify(newData.condition) !== JSON.stringify(state.data.condition);
      state.data = newData;
      if (movedByPython && !input.isDragging()) {
        state.z = fromPython;
        ask(state.z, performance.now());
      } else if (newClass) {
        ask(state.shown, performance.now()); // a conditional model's class changed: the same z, redrawn
      }
      if (newPicture) paintServerPicture();
    },
    stop() {
      state.stopped = true;
      listening.abort();
    },
  };

  canvas.width = 420; // drawing resolution; CSS scales the canvas to the column
  canvas.height = data.is_line ? 105 : 420;
  canvas.style.aspectRatio = data.is_line ? "4 / 1" : "1 / 1";
  background.width = canvas.width;
  background.height = canvas.height;
  drawBackground(background, data);
  legend.hidden = data.background.names.length === 0;
  legend.replaceChildren(...legendItems(data.background));
  buildSliders(sliders, controls, listening.signal);
  redraw();
  root.dataset.mode = "loading";
  status.textContent = "Loading the decoder into your browser…";
  if (!data.decoder_url) {
    fallBack(data.no_decoder_reason);
  } else {
    loadDecoder(data).then(
      (decoder) => {
        if (state.stopped) return;
        state.decoder = decoder;
        watcher.ready?.((z, rows) => decoder.decode(z, rows, state.data.condition), data.base.length);
        root.dataset.mode = "browser";
        status.textContent = "Decoding in your browser (WebAssembly): move over the pad, drag, or use the arrow keys.";
        ask(state.z, performance.now());
      },
      (error) => fallBack(error.message),
    );
  }
  return pad;
}
