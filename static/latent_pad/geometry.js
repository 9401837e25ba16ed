// Where things are: a latent point z, its coordinates (u, v) on the pad's plane, and the canvas's
// pixels (x, y). `plane` is what Python sent: base, axes (two rows; a line's second is zeros),
// ranges ([[u0, u1], [v0, v1]], the test set's extent) and is_line.

const MARGIN = 8; // pixels between the canvas's edge and the plane's ranges

export const clamp = (value, low, high) => Math.min(Math.max(value, low), high);

// The canvas pixel of the plane's point (u, v).
export function toPixel({ ranges }, canvas, [u, v]) {
  const [[u0, u1], [v0, v1]] = ranges;
  return [
    MARGIN + ((u - u0) / (u1 - u0)) * (canvas.width - 2 * MARGIN),
    canvas.height - MARGIN - ((v - v0) / (v1 - v0)) * (canvas.height - 2 * MARGIN),
  ];
}

// The plane's point at canvas pixel (x, y), kept within the plane's ranges.
export function toPlane({ ranges, is_line }, canvas, [x, y]) {
  const [[u0, u1], [v0, v1]] = ranges;
  const u = u0 + ((x - MARGIN) / (canvas.width - 2 * MARGIN)) * (u1 - u0);
  const v = v0 + ((canvas.height - MARGIN - y) / (canvas.height - 2 * MARGIN)) * (v1 - v0);
  return [clamp(u, u0, u1), is_line ? 0 : clamp(v, v0, v1)];
}

// z's coordinates (u, v) on the plane.
export function project({ axes, base }, z) {
  return axes.map((axis) => axis.reduce((sum, a, i) => sum + a * (z[i] - base[i]), 0));
}

// z moved so that its coordinates on the plane become (u, v). Dimensions off the plane keep their
// values, so the per-dimension sliders and the pad can be used together.
export function moved(plane, z, [u, v]) {
  const [pu, pv] = project(plane, z);
  const [a, b] = plane.axes;
  return Float32Array.from(z, (value, i) => value + (u - pu) * a[i] + (v - pv) * b[i]);
}

// z moved one arrow key's step (2% of the plane's range, 10% with Shift), kept within the ranges.
export function stepped(plane, z, [du, dv], large) {
  const [[u0, u1], [v0, v1]] = plane.ranges;
  const [u, v] = project(plane, z);
  const step = large ? 0.1 : 0.02;
  const [u2, v2] = [clamp(u + du * step * (u1 - u0), u0, u1), clamp(v + dv * step * (v1 - v0), v0, v1)];
  return moved(plane, z, [u2, plane.is_line ? 0 : v2]);
}

export function sameZ(a, b, tolerance = 0) {
  return a.length === b.length && a.every((value, i) => Math.abs(value - b[i]) <= tolerance);
}
