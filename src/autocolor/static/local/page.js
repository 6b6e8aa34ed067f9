// The page's "colorize on this device" switch. On (the default where the model has a browser version), photos
// are colorized in a worker on this device and never sent anywhere; off, they go to this server's
// /api/colorize. An exported static site (no server) has no switch.
// Exposes window.autocolorLocal = { enabled(), run(file, status, bar) -> Promise<Blob> } to the page's script;
// its `options` ({renderSize, stripPixels, vividness}) change the render size, the rows colorized at once and
// the colour strength; run's `extra` options apply to one photo.

const staticSite = document.documentElement.hasAttribute("data-static-site");
const KEY = "autocolor.on-this-device";
let worker = null;
let nextId = 0;
const pending = new Map();
let deviceLimit = null; // "up to N megapixels each": the limit of colorizing on this device (from the manifest)

function startWorker() {
  if (worker) return worker;
  worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  worker.onmessage = ({ data }) => {
    if (data.id === undefined) return describe(` (${data.backend})`); // the generator moved to the GPU
    const job = pending.get(data.id);
    if (!job) return;
    if (data.progress !== undefined) return job.progress(data);
    pending.delete(data.id);
    if (data.error) job.reject(new Error(data.error));
    else job.resolve(data);
  };
  worker.onerror = e => {
    for (const job of pending.values()) job.reject(new Error(`this browser could not start the colorizer: ${e.message || "worker error"}`));
    pending.clear();
    worker = null;
  };
  return worker;
}

function ask(message, progress = () => {}) {
  return new Promise((resolve, reject) => {
    const id = ++nextId;
    pending.set(id, { resolve, reject, progress });
    startWorker().postMessage({ id, ...message });
  });
}

const box = document.createElement("label");
box.id = "where";
const toggle = Object.assign(document.createElement("input"), { type: "checkbox", id: "on-device" });
const text = document.createElement("span");
box.append(toggle, text);
document.getElementById("drop").before(box);
// Decided before anything is fetched, so a photo dropped at once is never sent by mistake.
toggle.checked = staticSite || localStorage.getItem(KEY) !== "off";
toggle.hidden = staticSite; // nothing to switch to
describe();

function describe(note = "") {
  text.textContent = toggle.checked
    ? `Colorize on this device: photos never leave this computer${note}`
    : "Colorize on this device (off: photos are sent to this server to be colorized)";
  const limits = document.getElementById("limits"); // the drop zone quotes the limits of the path in use
  if (limits) limits.textContent = toggle.checked && deviceLimit ? deviceLimit : limits.dataset.server;
}

async function init() {
  const manifest = await fetch(new URL("../../model/manifest.json", import.meta.url)).catch(() => null);
  if (!manifest || !manifest.ok) {
    toggle.checked = false;
    toggle.disabled = true;
    text.textContent = "This server's model has no browser version: photos are sent to this server.";
    return;
  }
  const { max_pixels, reference } = await manifest.json();
  deviceLimit = `up to ${max_pixels / 1e6} megapixels each`;
  window.autocolorLocal.matchesReferences = !!reference; // this model can take colours from a reference here
  toggle.onchange = () => {
    localStorage.setItem(KEY, toggle.checked ? "on" : "off");
    describe();
    if (toggle.checked) warmUp();
  };
  describe();
  if (toggle.checked) warmUp();
}

function warmUp() {
  ask({}).then(
    ({ backend }) => describe(` (${backend})`),
    e => describe(` (could not start: ${e.message})`),
  );
}

// A PNG without an alpha channel, as the server writes for photos without transparency (a worker's
// OffscreenCanvas always writes one; a page canvas created without alpha does not).
async function encodeOpaque(bitmap, times) {
  const start = performance.now();
  const canvas = Object.assign(document.createElement("canvas"), { width: bitmap.width, height: bitmap.height });
  canvas.getContext("2d", { alpha: false }).drawImage(bitmap, 0, 0);
  bitmap.close();
  const blob = await new Promise(resolve => canvas.toBlob(resolve, "image/png"));
  canvas.width = canvas.height = 0;
  times.encode = Math.round(performance.now() - start);
  return blob;
}

window.autocolorLocal = {
  options: {},
  matchesReferences: false,
  enabled: () => toggle.checked,
  async run(file, status, bar, extra = {}) {
    status.textContent = "colorizing on this device";
    const options = { ...window.autocolorLocal.options, ...extra };
    const { blob, bitmap, times, reference } = await ask({ file, options }, ({ progress, stage }) => {
      bar.value = progress;
      status.textContent = `${stage} on this device`;
    });
    window.autocolorLocal.lastTimes = times; // milliseconds per stage, for the curious and for tests
    window.autocolorLocal.lastReference = reference; // what it took from a reference photo, if one was given
    return blob || encodeOpaque(bitmap, times);
  },
};

init();
