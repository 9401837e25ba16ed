// The model's decoder in the browser: ONNX Runtime Web (WebAssembly) and the model's ONNX file, both
// fetched from the app's own static files. One session per decoder file, shared by the page's pads.

const sessions = new Map(); // decoder URL -> Promise of a decoder

// A decoder for `data.decoder_url`: { decode(z, rows, condition) -> Promise of the intensities }.
// Rejects with a sentence for the person where the browser cannot decode.
export function loadDecoder(data) {
  if (!sessions.has(data.decoder_url)) sessions.set(data.decoder_url, startSession(data));
  return sessions.get(data.decoder_url);
}

async function startSession(data) {
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
  return {
    // The pictures of `rows` latent points (z holds them one after another), as one flat array of
    // intensities; `condition` is a conditional decoder's class weights, the same for every row.
    async decode(z, rows, condition) {
      const output = await session.run(inputs(ort, session, z, rows, condition));
      return output[session.outputNames[0]].data;
    },
  };
}

// The decoder's inputs by name: z, and a conditional decoder's class weights, one row per point.
function inputs(ort, session, z, rows, condition) {
  const named = { z: new ort.Tensor("float32", z, [rows, z.length / rows]) };
  if (session.inputNames.includes("condition")) {
    const weights = Float32Array.from({ length: rows * condition.length }, (_, i) => condition[i % condition.length]);
    named.condition = new ort.Tensor("float32", weights, [rows, condition.length]);
  }
  return named;
}

// ONNX Runtime's own words ("Can't create a session. ERROR_CODE: 6 ...") are for developers, in the
// console; the person reads a sentence, and the page decodes on the server.
export function explained(reason, error) {
  console.warn(`latent pad: ${reason}:`, error);
  return new Error(reason);
}
