// The colour scheme lives in CSS custom properties (style.css); canvases and charts read them
// from the element they draw into, so a page and a widget's shadow root each use their own.

/** The custom property `name` as it applies at `el`, or `fallback`. */
export function cssVar(el, name, fallback) {
  const v = getComputedStyle(el).getPropertyValue(name).trim();
  return v || fallback;
}
