// How the page's browser-side elements live across Streamlit's reruns. Components v2 mounts an
// element on every run of the page; an element keeps its view (its state, its listeners) while
// Python's `signature` (the model, and whatever else needs a new view) stays the same.

// The view kept for `root`: told the new run's data by `update(view)` where its signature is the
// same, else stopped and replaced by `create()`. Answers the function Components v2 calls to stop
// it, which may come after a later mount of the same view: only the latest mount's stop stops it.
export function mountView(views, root, signature, { create, update }) {
  let view = views.get(root);
  if (view && !view.stopped && view.signature === signature) {
    update(view);
  } else {
    view?.stop();
    view = create();
    view.signature = signature;
    view.mounts = 0;
    views.set(root, view);
  }
  view.mounts += 1;
  const mounted = view.mounts;
  return () => {
    if (mounted === view.mounts) view.stop();
  };
}
