// Hooks for bench.pad_latency and the tests that check them, loaded only on a page that sets
// `window.__latentPadBenchmark = true` before the pad mounts (Playwright's add_init_script): a
// person's page has none of them. On the pad's root element:
// - data-latencies: the last 500 decodes' milliseconds, comma-separated, from the pointer event (or
//   key, or slider) to the frame that shows its picture;
// - data-ready-at: when the decoder was ready, in ms since the page's navigation started;
// - timeBatchDecode(count): ms to decode `count` random points in one call, as a grid would.

// A watcher for createPad in pad.js: it hears when the decoder is ready and when a picture is painted.
export function watch(root) {
  const latencies = [];
  return {
    ready(decodeBatch, dimensions) {
      root.dataset.readyAt = performance.now().toFixed(1);
      root.timeBatchDecode = async (count) => {
        const z = Float32Array.from({ length: count * dimensions }, () => Math.random() * 4 - 2);
        const started = performance.now();
        await decodeBatch(z, count);
        return performance.now() - started;
      };
    },
    painted(since) {
      // The next frame after the paint, when its callbacks run (the frame's own start time can
      // precede the event it shows).
      requestAnimationFrame(() => {
        latencies.push(performance.now() - since);
        if (latencies.length > 500) latencies.shift();
        root.dataset.latencies = latencies.map((ms) => ms.toFixed(2)).join(",");
      });
    },
  };
}
