// The entry of the page's browser-side elements (the latent pad, the clicked image). Components v2
// runs this module from a blob: URL, where a relative import cannot resolve, so each element's own
// modules (under static/) are imported from the app's static files, at the address Python sends as
// `data.module`, resolved against the page, as ONNX Runtime Web is: offline, and under any
// server.baseUrlPath. That module's `mount(component)` does the rest.

export default async function (component) {
  let element;
  try {
    element = await import(new URL(component.data.module, document.baseURI).href);
  } catch (error) {
    console.warn("this element's modules could not be loaded from the app:", error);
    const status = component.parentElement.querySelector("[role=status]");
    if (status) status.textContent = "This part of the page could not be loaded from the app (static/ is not served).";
    component.setStateValue("mode", "server"); // Python draws what this element would have
    return undefined;
  }
  return element.mount(component);
}
