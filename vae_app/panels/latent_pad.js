// The latent pad: move the pointer over a plane of latent space and the digit decodes in the
// browser, on every animation frame, with ONNX Runtime Web (WebAssembly). Python gets z back once,
// on release, click or key-up, so the page can follow without rerunning on every move.

const sessions = new Map(); // decoder URL -> Promise of an ONNX Runtime session, shared by pads
const pads = new WeakMap(); // a pad's root element -> its state, kept across reruns

function loadSession(data) {
  if (!sessions.has(data.decoder_url)) {
    sessions.set(
      data.decoder_url,
      (async () => {
        if (typeof WebAssembly !== "object") {
          throw new Error("this browser does not run WebAssembly");
        }
        const ort = await import(new URL(data.ort_module, document.baseURI).href).catch((error) => {
          throw explained("ONNX Runtime could not be loaded from the app", error);
        });
        // Only the binary's address: the module has its WebAssembly glue code bundled in.
        ort.env.wasm.wasmPaths = { wasm: new URL(data.ort_wasm, document.baseURI).href };
        ort.env.wasm.numThreads = 1; // threads need a cross-origin isolated page
        const url = new URL(data.decoder_url, document.baseURI).href;
        const session = await ort.InferenceSession.create(url, { executionProviders: ["wasm"] }).catch((error) => {
          throw explained("this model's decoder does not run in your browser", error);
        });
        return { ort, session };
      })(),
    );
  }
  return sessions.get(data.decoder_url);
}

// ONNX Runtime's own words ("Can't create a session. ERROR_CODE: 6 ...") are for developers, in the
// console; the person reads a sentence, and the page decodes on the server.
function explained(reason, error) {
  console.warn(`latent pad: ${reason}:`, error);
  return new Error(reason);
}

function element(root, selector) {
  return root.querySelector(selector);
}

export default function (component) {
  const { data, parentElement, setTriggerValue, setStateValue } = component;
  const root = element(parentElement, ".latent-pad");
  let pad = pads.get(root);
  if (!pad || pad.signature !== data.signature) {
    pad?.stop();
    pad = createPad(root, data, setTriggerValue, setStateValue);
    pads.set(root, pad);
  } else {
    pad.update(data, setTriggerValue, setStateValue);
  }
  return () => pad.stop();
}

function createPad(root, data, setTriggerValue, setStateValue) {
  const canvas = element(root, "canvas.pad");
  const picture = element(root, "canvas.picture");
  const status = element(root, ".status");
  const readout = element(root, ".readout");
  const sliders = element(root, ".dimensions");
  const legend = element(root, ".legend");
  const context = canvas.getContext("2d");
  const pictureContext = picture.getContext("2d");
  const [height, width, channels] = data.image_shape;
  picture.width = width;
  picture.height = height;
  const pixels = pictureContext.createImageData(width, height);
  const listening = new AbortController(); // a pad replaced by another stops hearing events
  const on = (target, type, handler) => target.addEventListener(type, handler, { signal: listening.signal });
  const state = {
    data,
    report: setTriggerValue,
    setState: setStateValue,
    z: Float32Array.from(data.z), // the committed point
    shown: Float32Array.from(data.z), // the point decoded now (hover or drag)
    pending: null, // {z, since}: the next point to decode, and when the pointer asked for it
    busy: false,
    dragging: false,
    frames: 0,
    reported: [], // the last z values sent to Python
    latencies: [],
    decoder: null,
    stopped: false,
  };

  // --- geometry: the plane's coordinates (u, v) and the canvas's pixels --------------------
  const margin = 8;
  const toPixel = (u, v) => {
    const [[u0, u1], [v0, v1]] = state.data.ranges;
    return [
      margin + ((u - u0) / (u1 - u0)) * (canvas.width - 2 * margin),
      canvas.height - margin - ((v - v0) / (v1 - v0)) * (canvas.height - 2 * margin),
    ];
  };
  const toPlane = (x, y) => {
    const [[u0, u1], [v0, v1]] = state.data.ranges;
    const u = u0 + ((x - margin) / (canvas.width - 2 * margin)) * (u1 - u0);
    const v = v0 + ((canvas.height - margin - y) / (canvas.height - 2 * margin)) * (v1 - v0);
    return [Math.min(Math.max(u, u0), u1), state.data.is_line ? 0 : Math.min(Math.max(v, v0), v1)];
  };
  // z's coordinates on the plane, and z moved so that they become (u, v): dimensions off the
  // plane keep their values, so the per-dimension sliders and the pad can be used together.
  const project = (z) =>
    state.data.axes.map((axis) => axis.reduce((sum, a, i) => sum + a * (z[i] - state.data.base[i]), 0));
  const moved = (z, u, v) => {
    const [pu, pv] = project(z);
    const [a, b] = state.data.axes;
    return Float32Array.from(z, (value, i) => value + (u - pu) * a[i] + (v - pv) * b[i]);
  };

  // --- drawing --------------------------------------------------------------------------
  const background = document.createElement("canvas");
  function drawBackground() {
    const { points, colours, symbols, labels } = state.data.background;
    background.width = canvas.width;
    background.height = canvas.height;
    const drawing = background.getContext("2d");
    for (let i = 0; i < points.length; i += 1) {
      const [x, y] = toPixel(points[i][0], points[i][1]);
      drawing.fillStyle = colours[labels[i] % colours.length];
      drawing.strokeStyle = drawing.fillStyle;
      drawMarker(drawing, symbols[labels[i] % symbols.length], x, y, 2.2);
    }
  }

  function drawPad() {
    context.clearRect(0, 0, canvas.width, canvas.height);
    context.drawImage(background, 0, 0);
    const crosshair = (z, colour, size) => {
      const [x, y] = toPixel(...project(z));
      context.strokeStyle = colour;
      context.lineWidth = 2;
      context.beginPath();
      context.moveTo(x - size, y);
      context.lineTo(x + size, y);
      context.moveTo(x, y - size);
      context.lineTo(x, y + size);
      context.stroke();
    };
    crosshair(state.z, state.data.crosshair_colour, 10);
    if (!sameZ(state.shown, state.z)) crosshair(state.shown, state.data.hover_colour, 6);
  }

  function paint(intensities) {
    if (state.stopped) return; // a decode that finished after this pad was replaced
    for (let p = 0; p < width * height; p += 1) {
      for (let c = 0; c < 3; c += 1) {
        const value = intensities[p * channels + (channels === 3 ? c : 0)];
        pixels.data[p * 4 + c] = Math.round(Math.min(Math.max(value, 0), 1) * 255);
      }
      pixels.data[p * 4 + 3] = 255;
    }
    pictureContext.putImageData(pixels, 0, 0);
    state.frames += 1;
    picture.dataset.frames = String(state.frames);
  }

  function showReadout() {
    const [u, v] = project(state.shown);
    const names = state.data.axis_titles;
    readout.textContent = state.data.is_line
      ? `${names[0]} = ${u.toFixed(2)}`
      : `${names[0]} = ${u.toFixed(2)}, ${names[1]} = ${v.toFixed(2)}`;
    picture.setAttribute("aria-label", `What the decoder draws at ${readout.textContent}`);
    sliders.querySelectorAll("input").forEach((input) => {
      const value = state.shown[Number(input.dataset.dimension)];
      if (root.getRootNode().activeElement !== input) input.value = String(value); // not under a thumb being moved
      input.nextElementSibling.textContent = value.toFixed(2);
    });
  }

  // --- decoding: at once on every move; moves that come while one decodes keep only the last ---
  function ask(z, since) {
    state.shown = z;
    state.pending = { z, since };
    drawPad();
    showReadout();
    decodePending();
  }

  async function decodePending() {
    if (!state.decoder || state.busy || !state.pending || state.stopped) return;
    const { z, since } = state.pending;
    state.pending = null;
    state.busy = true;
    try {
      const { ort, session } = state.decoder;
      const output = await session.run(decoderInputs(ort, session, Float32Array.from(z), 1, state.data.condition));
      paint(output[session.outputNames[0]].data);
      // From the pointer event to the frame that shows the picture: the next one after the paint,
      // when its callbacks run (the frame's own start time can precede the event it shows).
      requestAnimationFrame(() => recordLatency(performance.now() - since));
    } catch (error) {
      fallBack(explained("this model's decoder does not run in your browser", error).message);
    } finally {
      state.busy = false;
    }
    decodePending();
  }

  function recordLatency(milliseconds) {
    state.latencies.push(milliseconds);
    if (state.latencies.length > 2000) state.latencies.shift();
    root.dataset.latencies = state.latencies.slice(-500).map((ms) => ms.toFixed(2)).join(",");
  }

  function fallBack(reason) {
    state.decoder = null;
    root.dataset.mode = "server";
    status.textContent = `Decoding on the server: ${reason}. Instead, ${state.data.fallback}.`;
    // Python sends its own picture of z from now on, to be shown here, where the browser's would be.
    if (state.data.decoder_url) state.setState("mode", "server");
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
      state.frames += 1;
      picture.dataset.frames = String(state.frames);
    };
    image.src = source;
  }

  // --- input: pointer (mouse, pen, touch), keys, per-dimension sliders -------------------
  const pointerAt = (event) => {
    const box = canvas.getBoundingClientRect();
    return toPlane(
      ((event.clientX - box.left) / box.width) * canvas.width,
      ((event.clientY - box.top) / box.height) * canvas.height,
    );
  };
  const commit = (z) => {
    state.z = Float32Array.from(z);
    state.shown = state.z;
    root.dataset.z = JSON.stringify(Array.from(state.z));
    state.reported = [...state.reported.slice(-7), state.z];
    drawPad();
    showReadout();
    state.report("z", Array.from(state.z));
  };

  on(canvas, "pointerdown", (event) => {
    state.dragging = true;
    canvas.setPointerCapture(event.pointerId);
    ask(moved(state.z, ...pointerAt(event)), event.timeStamp);
    event.preventDefault();
  });
  on(canvas, "pointermove", (event) => {
    ask(moved(state.z, ...pointerAt(event)), event.timeStamp);
  });
  on(canvas, "pointerup", (event) => {
    if (!state.dragging) return;
    state.dragging = false;
    commit(moved(state.z, ...pointerAt(event)));
  });
  const cancel = (event) => {
    // A touch taken over by the system (a gesture, another app): back to the committed point.
    if (!state.dragging) return;
    state.dragging = false;
    ask(state.z, event.timeStamp);
  };
  on(canvas, "pointercancel", cancel);
  on(canvas, "lostpointercapture", cancel);
  on(canvas, "pointerleave", (event) => {
    if (!state.dragging) ask(state.z, event.timeStamp); // hovering ended: back to the committed z
  });
  on(canvas, "keydown", (event) => {
    const steps = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    if (!(event.key in steps)) return;
    const [[u0, u1], [v0, v1]] = state.data.ranges;
    const [u, v] = project(state.z);
    const [du, dv] = steps[event.key];
    const step = event.shiftKey ? 0.1 : 0.02;
    state.z = moved(state.z, Math.min(Math.max(u + du * step * (u1 - u0), u0), u1),
      state.data.is_line ? 0 : Math.min(Math.max(v + dv * step * (v1 - v0), v0), v1));
    ask(state.z, event.timeStamp);
    event.preventDefault();
  });
  on(canvas, "keyup", (event) => {
    if (event.key.startsWith("Arrow")) commit(state.z);
  });

  function buildLegend() {
    const { colours, names } = state.data.background;
    legend.hidden = names.length === 0;
    legend.replaceChildren(
      ...names.map((name, label) => {
        const item = document.createElement("span");
        const swatch = document.createElement("canvas");
        swatch.width = 12;
        swatch.height = 12;
        const drawing = swatch.getContext("2d");
        drawing.fillStyle = colours[label % colours.length];
        drawing.strokeStyle = drawing.fillStyle;
        drawMarker(drawing, state.data.background.symbols[label % state.data.background.symbols.length], 6, 6, 4.5);
        item.append(swatch, name);
        return item;
      }),
    );
  }

  function buildSliders() {
    sliders.replaceChildren();
    state.data.dimension_ranges.forEach(([low, high], dimension) => {
      const label = document.createElement("label");
      const input = document.createElement("input");
      const value = document.createElement("span");
      label.textContent = `z${dimension}`;
      Object.assign(input, { type: "range", min: String(low), max: String(high), step: String((high - low) / 200) });
      input.dataset.dimension = String(dimension);
      input.value = String(state.z[dimension]);
      input.setAttribute("aria-label", `latent dimension z${dimension}`);
      on(input, "input", (event) => {
        const z = Float32Array.from(state.z);
        z[dimension] = Number(input.value);
        state.z = z;
        ask(z, event.timeStamp);
      });
      on(input, "change", () => commit(state.z));
      label.append(input, value);
      sliders.append(label);
    });
  }

  // --- life cycle -----------------------------------------------------------------------
  const pad = {
    signature: data.signature,
    update(newData, report, setState) {
      state.report = report;
      state.setState = setState;
      const newPicture = newData.server_picture !== state.data.server_picture;
      // Python's z moves the pad only when Python moved it (the sliders below): a rerun may bring
      // back, late, a z this pad reported itself, which must not pull the pad back.
      const fromPython = Float32Array.from(newData.z);
      const echoed = state.reported.some((z) => sameZ(z, fromPython, 1e-5));
      const movedByPython = !sameZ(fromPython, Float32Array.from(state.data.z), 1e-5) && !echoed;
      const newClass = JSON.stringify(newData.condition) !== JSON.stringify(state.data.condition);
      state.data = newData;
      if (movedByPython && !state.dragging) {
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
  canvas.height = state.data.is_line ? 105 : 420;
  canvas.style.aspectRatio = state.data.is_line ? "4 / 1" : "1 / 1";
  buildLegend();
  buildSliders();
  drawBackground();
  drawPad();
  showReadout();
  root.dataset.mode = "loading";
  status.textContent = "Loading the decoder into your browser…";
  if (!data.decoder_url) {
    fallBack(data.no_decoder_reason);
  } else {
    loadSession(data).then(
      (decoder) => {
        if (state.stopped) return;
        state.decoder = decoder;
        root.dataset.readyAt = performance.now().toFixed(1); // since the page's navigation started
        root.timeBatchDecode = (count) => timeBatchDecode(decoder, state.data, count);
        root.dataset.mode = "browser";
        status.textContent = "Decoding in your browser (WebAssembly): move over the pad, drag, or use the arrow keys.";
        ask(state.z, performance.now());
      },
      (error) => fallBack(error.message),
    );
  }
  return pad;
}

// The decoder's inputs for `rows` latent points, by name: z, and a conditional decoder's class
// weights (the class Python sent, one row for each point).
function decoderInputs(ort, session, z, rows, condition) {
  const inputs = { z: new ort.Tensor("float32", z, [rows, z.length / rows]) };
  if (session.inputNames.includes("condition")) {
    const weights = Float32Array.from({ length: rows * condition.length }, (_, i) => condition[i % condition.length]);
    inputs.condition = new ort.Tensor("float32", weights, [rows, condition.length]);
  }
  return inputs;
}

// For bench.pad_latency: milliseconds to decode `count` random points in one call, as a grid would.
async function timeBatchDecode({ ort, session }, data, count) {
  const z = Float32Array.from({ length: count * data.base.length }, () => Math.random() * 4 - 2);
  const started = performance.now();
  await session.run(decoderInputs(ort, session, z, count, data.condition));
  return performance.now() - started;
}

function sameZ(a, b, tolerance = 0) {
  return a.length === b.length && a.every((value, i) => Math.abs(value - b[i]) <= tolerance);
}

// Class `symbol` (the scatter's Plotly names) at (x, y), `size` pixels from centre to edge: classes
// differ by shape as well as colour.
function drawMarker(drawing, symbol, x, y, size) {
  const path = new Path2D();
  const corners = {
    square: [[-1, -1], [1, -1], [1, 1], [-1, 1]],
    diamond: [[0, -1.3], [1.3, 0], [0, 1.3], [-1.3, 0]],
    "triangle-up": [[0, -1.3], [1.2, 1], [-1.2, 1]],
    "triangle-down": [[0, 1.3], [1.2, -1], [-1.2, -1]],
  }[symbol];
  if (symbol === "x" || symbol === "cross") {
    const ends = symbol === "x" ? [[-1, -1, 1, 1], [-1, 1, 1, -1]] : [[-1.2, 0, 1.2, 0], [0, -1.2, 0, 1.2]];
    ends.forEach(([x0, y0, x1, y1]) => {
      path.moveTo(x + x0 * size, y + y0 * size);
      path.lineTo(x + x1 * size, y + y1 * size);
    });
    drawing.lineWidth = Math.max(1, size / 2);
    drawing.stroke(path);
    return;
  }
  if (corners) {
    corners.forEach(([dx, dy], i) => (i ? path.lineTo : path.moveTo).call(path, x + dx * size, y + dy * size));
    path.closePath();
  } else {
    path.arc(x, y, size, 0, 2 * Math.PI); // a circle, and any symbol this pad does not know
  }
  drawing.fill(path);
}
