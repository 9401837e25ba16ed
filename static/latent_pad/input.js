// What the person does to the pad: the pointer (mouse, pen, touch), the arrow keys and the
// per-dimension sliders. Each asks the pad (see `controls` in pad.js) to show a point at once
// (`show`: a hover or a drag; `place`: a key or slider, which moves the committed point too) and
// to commit one when let go (`commit`: the one that goes to Python).

import { moved, stepped, toPlane } from "./geometry.js";

const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };

// Listen to the pad's canvas until `signal` aborts; whether a drag is under way.
export function listenToPad(canvas, controls, signal) {
  const on = (type, handler) => canvas.addEventListener(type, handler, { signal });
  let dragging = false;
  const pointedAt = (event) => {
    const box = canvas.getBoundingClientRect();
    const pixel = [
      ((event.clientX - box.left) / box.width) * canvas.width,
      ((event.clientY - box.top) / box.height) * canvas.height,
    ];
    return moved(controls.data, controls.z, toPlane(controls.data, canvas, pixel));
  };
  on("pointerdown", (event) => {
    dragging = true;
    canvas.setPointerCapture(event.pointerId);
    controls.show(pointedAt(event), event.timeStamp);
    event.preventDefault();
  });
  on("pointermove", (event) => controls.show(pointedAt(event), event.timeStamp));
  on("pointerup", (event) => {
    if (!dragging) return;
    dragging = false;
    controls.commit(pointedAt(event));
  });
  const cancel = (event) => {
    // A touch taken over by the system (a gesture, another app): back to the committed point.
    if (!dragging) return;
    dragging = false;
    controls.show(controls.z, event.timeStamp);
  };
  on("pointercancel", cancel);
  on("lostpointercapture", cancel);
  on("pointerleave", (event) => {
    if (!dragging) controls.show(controls.z, event.timeStamp); // hovering ended: back to the committed z
  });
  on("keydown", (event) => {
    if (!(event.key in ARROWS)) return;
    controls.place(stepped(controls.data, controls.z, ARROWS[event.key], event.shiftKey), event.timeStamp);
    event.preventDefault();
  });
  on("keyup", (event) => {
    if (event.key in ARROWS) controls.commit(controls.z);
  });
  return { isDragging: () => dragging };
}

// One slider per latent dimension, over the test set's range on it, in `container`.
export function buildSliders(container, controls, signal) {
  container.replaceChildren(
    ...controls.data.dimension_ranges.map(([low, high], dimension) => {
      const label = document.createElement("label");
      const input = document.createElement("input");
      const value = document.createElement("span");
      label.textContent = `z${dimension}`;
      Object.assign(input, { type: "range", min: String(low), max: String(high), step: String((high - low) / 200) });
      input.dataset.dimension = String(dimension);
      input.value = String(controls.z[dimension]);
      input.setAttribute("aria-label", `latent dimension z${dimension}`);
      input.addEventListener(
        "input",
        (event) => {
          const z = Float32Array.from(controls.z);
          z[dimension] = Number(input.value);
          controls.place(z, event.timeStamp);
        },
        { signal },
      );
      input.addEventListener("change", () => controls.commit(controls.z), { signal });
      label.append(input, value);
      return label;
    }),
  );
}

// The sliders at z, each with its value written beside it; not the one under a thumb being moved.
export function showOnSliders(container, z) {
  const focused = container.getRootNode().activeElement;
  container.querySelectorAll("input").forEach((input) => {
    const value = z[Number(input.dataset.dimension)];
    if (input !== focused) input.value = String(value);
    input.nextElementSibling.textContent = value.toFixed(2);
  });
}
