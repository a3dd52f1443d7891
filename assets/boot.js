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
  // A worker that cannot start (a policy forbids it, its script does not load) or whose
  // module cannot be received says so by an error event, at any time: `failed` resolves then,
  // and the page compiles on its own thread.
  let worker = null;
  let fail = null;
  const failed = new Promise((resolve) => (fail = () => resolve(null)));
  try {
    worker = new Worker(document.currentScript.src);
    worker.onerror = worker.onmessageerror = fail;
  } catch (_) {
    fail();
  }

  // Resolves once the browser reports the first contentful paint (the frame's); where paint
  // timing is unknown, two animation frames from now, when the first frame has been drawn.
  // A hidden tab paints nothing, so it does not wait there, nor longer than a second anywhere.
  const painted = () =>
    new Promise((resolve) => {
      if (document.visibilityState === "hidden") return resolve();
      setTimeout(resolve, 1000);
      const known = (window.PerformanceObserver && PerformanceObserver.supportedEntryTypes) || [];
      if (!known.includes("paint")) {
        requestAnimationFrame(() => requestAnimationFrame(resolve));
        return;
      }
      new PerformanceObserver((list, observer) => {
        if (list.getEntriesByName("first-contentful-paint").length > 0) {
          observer.disconnect();
          resolve();
        }
      }).observe({ type: "paint", buffered: true });
    });

  const compiledByWorker = (url) => {
    if (!worker) return failed;
    const answer = new Promise((resolve) => {
      worker.onmessage = (message) => resolve(message.data.module || null);
    });
    worker.postMessage(url);
    return Promise.race([answer, failed]);
  };

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
