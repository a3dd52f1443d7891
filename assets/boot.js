// Boot helpers, run as the page's script and again as its worker.
//
// In the page: starts the worker at once and defines `coachboardBoot(init, wasmUrl)`, which
// index.html's loader calls. It waits until the page's frame has painted, then has the worker
// download and compile the WebAssembly, and instantiates the compiled module. Compiling in
// the worker keeps ~40 ms of decoding off the main thread; waiting for the paint keeps the
// 300 KB download from competing with the frame, which is the page's largest paint.
//
// In the worker: warms the browser's time-zone data (the first Intl.DateTimeFormat of a page
// costs ~50 ms while ICU reads its tables, which the whole process then shares), then
// compiles what it is asked to.
if (typeof document !== "undefined") {
  let worker = null;
  try {
    worker = new Worker(document.currentScript.src);
  } catch (_) {
    // No worker (a strict policy, another origin): the page compiles on its own thread.
  }

  // Resolves once the browser reports the first contentful paint (the frame's). A hidden tab
  // paints nothing, so it does not wait there, nor longer than a second anywhere.
  const painted = () =>
    new Promise((resolve) => {
      if (document.visibilityState === "hidden" || !window.PerformanceObserver) return resolve();
      setTimeout(resolve, 1000);
      try {
        new PerformanceObserver((list, observer) => {
          if (list.getEntriesByName("first-contentful-paint").length > 0) {
            observer.disconnect();
            resolve();
          }
        }).observe({ type: "paint", buffered: true });
      } catch (_) {
        resolve();
      }
    });

  const compiledByWorker = (url) =>
    new Promise((resolve) => {
      if (!worker) return resolve(null);
      worker.onmessage = (message) => resolve(message.data.module || null);
      worker.onerror = () => resolve(null);
      worker.postMessage(url);
    });

  window.coachboardBoot = async (init, wasmUrl) => {
    await painted();
    const url = new URL(wasmUrl, document.baseURI).href;
    const module = await compiledByWorker(url);
    // Without a compiled module (no worker, or it failed) the page fetches and compiles.
    return init({ module_or_path: module || url });
  };
} else {
  new Intl.DateTimeFormat().resolvedOptions();
  onmessage = async (message) => {
    const url = message.data;
    try {
      let module;
      try {
        module = await WebAssembly.compileStreaming(fetch(url));
      } catch (_) {
        // A host that does not send application/wasm: compile from the bytes instead.
        const response = await fetch(url);
        module = await WebAssembly.compile(await response.arrayBuffer());
      }
      postMessage({ module });
    } catch (error) {
      postMessage({ error: String(error) });
    }
    close();
  };
}
