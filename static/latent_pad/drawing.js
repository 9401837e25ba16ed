// What the pad draws: the test set's points by class, the crosshairs, the decoded picture, the legend
// and the readout. Colours, symbols and names come from Python, for the theme the page shows.

import { project, sameZ, toPixel } from "./geometry.js";

// The test set's points, drawn once into `target` (an offscreen canvas the size of the pad's).
export function drawBackground(target, data) {
  const { points, colours, symbols, labels } = data.background;
  const drawing = target.getContext("2d");
  for (let i = 0; i < points.length; i += 1) {
    const [x, y] = toPixel(data, target, points[i]);
    drawing.fillStyle = colours[labels[i] % colours.length];
    drawing.strokeStyle = drawing.fillStyle;
    drawMarker(drawing, symbols[labels[i] % symbols.length], x, y, 2.2);
  }
}

// The pad: the background, a crosshair at the committed point `z` and a smaller one at the point
// `shown` (hovered or dragged) where it differs.
export function drawPad(canvas, background, data, z, shown) {
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, canvas.width, canvas.height);
  context.drawImage(background, 0, 0);
  const crosshair = (point, colour, size) => {
    const [x, y] = toPixel(data, canvas, project(data, point));
    context.strokeStyle = colour;
    context.lineWidth = 2;
    context.beginPath();
    context.moveTo(x - size, y);
    context.lineTo(x + size, y);
    context.moveTo(x, y - size);
    context.lineTo(x, y + size);
    context.stroke();
  };
  crosshair(z, data.crosshair_colour, 10);
  if (!sameZ(shown, z)) crosshair(shown, data.hover_colour, 6);
}

// The decoder's intensities (0 to 1, height x width x channels) into `pixels` (the picture's
// ImageData), then onto the picture.
export function paintPicture(context, pixels, intensities, channels) {
  const count = pixels.width * pixels.height;
  for (let p = 0; p < count; p += 1) {
    for (let c = 0; c < 3; c += 1) {
      const value = intensities[p * channels + (channels === 3 ? c : 0)];
      pixels.data[p * 4 + c] = Math.round(Math.min(Math.max(value, 0), 1) * 255);
    }
    pixels.data[p * 4 + 3] = 255;
  }
  context.putImageData(pixels, 0, 0);
}

// The legend's entries: each class's marker and name.
export function legendItems({ colours, symbols, names }) {
  return names.map((name, label) => {
    const item = document.createElement("span");
    const swatch = document.createElement("canvas");
    swatch.width = 12;
    swatch.height = 12;
    const drawing = swatch.getContext("2d");
    drawing.fillStyle = colours[label % colours.length];
    drawing.strokeStyle = drawing.fillStyle;
    drawMarker(drawing, symbols[label % symbols.length], 6, 6, 4.5);
    item.append(swatch, name);
    return item;
  });
}

// "u-title = 0.12, v-title = -1.30": where z is on the plane, in the axes' own names.
export function readoutText(data, z) {
  const [u, v] = project(data, z);
  const [uName, vName] = data.axis_titles;
  return data.is_line ? `${uName} = ${u.toFixed(2)}` : `${uName} = ${u.toFixed(2)}, ${vName} = ${v.toFixed(2)}`;
}

// Class `symbol` (the scatter's Plotly names) at (x, y), `size` pixels from centre to edge: classes
// differ by shape as well as colour.
export function drawMarker(drawing, symbol, x, y, size) {
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
