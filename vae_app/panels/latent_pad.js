// The latent pad's entry. Components v2 runs this module from a blob: URL, where a relative import
// cannot resolve, so the pad's modules (static/latent_pad/: pad.js wiring geometry, drawing,
// decoder and input) are imported from the app's own static files, at an address resolved against
// the page, as ONNX Runtime Web is: offline, and under any server.baseUrlPath.

export default async function (component) {
  let pad;
  try {
    pad = await import(new URL(component.data.pad_module, document.baseURI).href);
  } catch (error) {
    console.warn("latent pad: its modules could not be loaded from the app:", error);
    const status = component.parentElement.querySelector(".latent-pad .status");
    status.textContent = "The latent pad could not be loaded from the app (static/ is not served).";
    return undefined;
  }
  return pad.mount(component);
}
