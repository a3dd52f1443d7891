// Loads the browser's time-zone data off the main thread. The first Intl.DateTimeFormat of
// a page costs ~50 ms (ICU reads its zone tables) and the dashboard needs one for the
// viewer's zone; made here, in a worker started while the WebAssembly downloads, it warms
// the tables the whole page shares, and the dashboard's own call then takes under 1 ms.
if (typeof document !== "undefined") {
  try {
    new Worker(document.currentScript.src);
  } catch (_) {
    // No worker (or another origin): the dashboard pays the cost itself.
  }
} else {
  new Intl.DateTimeFormat().resolvedOptions();
  close();
}
