// Colorizing on this device, in a module worker, with onnxruntime-web and the exported ONNX graphs:
//   generator  L (1, C, Hp, Wp) [, temperature] -> ab (1, 2, Hp, Wp)       once, at render size
//   guide      ab (2, h, w), fy (h, w), gain, radius, eps, row (W) -> coef (4, h, W)
// and, strip by strip of rows, the per-pixel steps in JavaScript (colour.js): the strip's lightness fy (r, W),
// and at the end fy + coef -> the strip's colours.
// The photo is decoded by the browser and never leaves the device. Memory beyond the decoded photo is a few
// strips of rows, so photos of many megapixels colorize at full size.
// Messages in: {id, file, options: {renderSize?, stripPixels?, vividness?, reference? (a colour photo's File)}}.
// Out: {id, progress, stage} ... then {id, blob (PNG) or bitmap (an opaque result, for the page to encode
// without alpha), times, reference ({confidence, used, map}: what it took from the reference, or null),
// backend} or {id, error}.

import * as ort from "../vendor/onnxruntime-web/ort.webgpu.min.mjs";
import * as colour from "./colour.js";
import { abOf, cropCells, match, propagate } from "./reference.js";
import { BoxReducer, networkInput, reduceFactor, renderShape, resample } from "./render.js";

const STRIP_PIXELS = 1 << 18;
const modelBase = new URL("../../model/", import.meta.url);
ort.env.wasm.wasmPaths = new URL("../vendor/onnxruntime-web/", import.meta.url).href;
// Threads need a cross-origin isolated page (COOP/COEP headers); a plain static host runs on one thread.
ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;

let engine = null;

async function createEngine() {
  const response = await fetch(new URL("manifest.json", modelBase));
  if (!response.ok) throw new Error(`no model for the browser at ${response.url} (${response.status})`);
  const manifest = await response.json();
  const url = name => new URL(manifest.graphs[name], modelBase).href;
  const cpu = { executionProviders: ["wasm"] };
  const threads = ort.env.wasm.numThreads;
  const [generator, guide] = await Promise.all(
    ["generator", "guide"].map(n => ort.InferenceSession.create(url(n), cpu)),
  );
  const e = { manifest, generator, guide, grayLightness: Float32Array.from(manifest.gray_lightness) };
  e.backend = `WebAssembly, ${threads} thread${threads > 1 ? "s" : ""}`;
  await warmUp(e);
  preferWebGPU(e, url("generator")); // in the background: the CPU path is ready now
  return e;
}

const delay = (ms, value) => new Promise(resolve => setTimeout(() => resolve(value), ms));

// The generator moves to the GPU where WebGPU is available, gives the same output as WebAssembly (to 0.01;
// a network output of 1 is 110 Lab units) and is faster at the render size. The colour graphs stay on the
// CPU. A GPU that takes more than a few times the CPU's time (a software adapter) is left alone.
async function preferWebGPU(e, generatorUrl) {
  if (!self.navigator.gpu || !(await self.navigator.gpu.requestAdapter().catch(() => null))) return;
  const m = e.manifest;
  const side = Math.ceil(m.render_size / m.multiple) * m.multiple;
  const data = new Float32Array(m.in_channels * side * side);
  for (let i = 0; i < side * side; i++) data[i] = Math.sin(i * 0.001) * Math.cos((i % side) * 0.05);
  const run = async s => {
    const t = performance.now();
    const feeds = generatorFeeds(e, new ort.Tensor("float32", data, [1, m.in_channels, side, side]));
    const out = (await s.run(feeds))[s.outputNames[0]].data;
    return [performance.now() - t, out];
  };
  try {
    const [cpuMs, cpuOut] = await run(e.generator);
    const trial = (async () => {
      const gpu = await ort.InferenceSession.create(generatorUrl, { executionProviders: ["webgpu"] });
      await run(gpu); // first run: set-up
      return [gpu, ...(await run(gpu))];
    })();
    const result = await Promise.race([trial, delay(Math.max(10_000, 4 * cpuMs), null)]);
    if (!result) return console.info("WebGPU not used: too slow here");
    const [gpu, gpuMs, gpuOut] = result;
    let worst = 0;
    for (let i = 0; i < cpuOut.length; i++) worst = Math.max(worst, Math.abs(gpuOut[i] - cpuOut[i]));
    if (worst <= 0.01 && gpuMs < cpuMs) {
      e.generator = gpu;
      e.backend = "WebGPU";
      self.postMessage({ backend: e.backend });
    } else {
      console.info(`WebGPU not used: ${gpuMs.toFixed(0)} ms vs ${cpuMs.toFixed(0)} ms, largest difference ${worst}`);
    }
  } catch (err) {
    console.info("WebGPU is present but could not run the generator; using WebAssembly", err);
  }
}

// One small run of every graph, so the first photo does not pay for first-run set-up.
async function warmUp(e) {
  const m = e.manifest;
  const n = m.multiple;
  const fy = new ort.Tensor("float32", new Float32Array(n * n).fill(0.5), [n, n]);
  const L = new ort.Tensor("float32", new Float32Array(m.in_channels * n * n), [1, m.in_channels, n, n]);
  const ab = (await e.generator.run(generatorFeeds(e, L)))[e.generator.outputNames[0]];
  const { coef } = await e.guide.run({
    ab: new ort.Tensor("float32", ab.data.slice(0, 2 * n * n), [2, n, n]),
    fy,
    gain: scalar("float32", m.chroma_gain),
    radius: scalar("int64", m.guide_radius),
    eps: scalar("float32", m.guide_eps),
    row: new ort.Tensor("float32", new Float32Array(n), [n]),
  });
  colour.compose(fy.data, coef.data, n, n, 0, n, n, m.xyz_to_linear, new Uint8ClampedArray(4 * n * n));
}

// The generator's feeds: its input and, for a colour-class model, the annealed-mean temperature that the
// vividness gives (temperature = 5 x 10^-vividness, as config.vividness_to_temperature computes it).
function generatorFeeds(e, input, vividness) {
  const feeds = { [e.generator.inputNames[0]]: input };
  if (e.generator.inputNames.includes("temperature"))
    feeds.temperature = scalar("float32", 5 * Math.pow(10, -(vividness ?? e.manifest.vividness)));
  return feeds;
}

const scalar = (type, value) =>
  new ort.Tensor(type, type === "int64" ? BigInt64Array.of(BigInt(value)) : Float32Array.of(value), []);

// Rows [top, top + r) of the photo -> their RGBA pixels and lightness fy (r, W) (colour.js; a gray pixel's is
// the manifest's value for its level, colorspace.srgb_to_fy's own, as the Python front end takes it).
function lightnessRows(e, ctx, top, r, W) {
  const rgba = ctx.getImageData(0, top, W, r).data;
  const fy = new Float32Array(r * W);
  const opaque = colour.lightness(rgba, r * W, e.manifest.luminance, e.grayLightness, fy);
  return { fy, rgba, opaque };
}

// A photo file -> its canvas and its lightness at render size (h, w), read strip by strip and box-reduced on
// the way (the full-size lightness is never held); with `withRgb`, its colour at render size too, resampled
// the same way and rounded as Pillow rounds (a reference photo's: colorspace.rgb_to_ab of the resized photo).
async function readPhoto(e, file, size, stripPixels, progress, withRgb = false) {
  const m = e.manifest;
  const bitmap = await createImageBitmap(file, {
    imageOrientation: "from-image", // EXIF orientation, as the Python loader applies it
    colorSpaceConversion: "none", // raw pixel values, as Pillow reads them (no ICC conversion)
    premultiplyAlpha: "none",
  }).catch(() => {
    throw new Error(`${file.name}: not an image this browser can decode`);
  });
  const W = bitmap.width;
  const H = bitmap.height;
  if (W * H > m.max_pixels) {
    bitmap.close();
    throw new Error(`${file.name}: too large (${(W * H / 1e6).toFixed(1)} megapixels; the limit is ${m.max_pixels / 1e6})`);
  }
  const canvas = new OffscreenCanvas(W, H);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const [h, w] = renderShape(H, W, size);
  const fx = reduceFactor(W, w);
  const fyf = reduceFactor(H, h);
  const reducer = new BoxReducer(H, W, fx, fyf);
  const colours = withRgb ? [0, 1, 2].map(() => new BoxReducer(H, W, fx, fyf)) : [];
  let opaque = true;
  const rows = Math.max(fyf, Math.floor(stripPixels / W / fyf) * fyf);
  for (let top = 0; top < H; top += rows) {
    const r = Math.min(rows, H - top);
    const strip = lightnessRows(e, ctx, top, r, W);
    reducer.add(strip.fy, top, r);
    colours.forEach((red, c) => red.add(Float32Array.from({ length: r * W }, (_, i) => strip.rgba[4 * i + c]), top, r));
    opaque &&= strip.opaque;
    progress(20 * (top + r) / H, "reading");
  }
  const small = resample(reducer.out, reducer.rh, reducer.rw, H / fyf, W / fx, h, w);
  const rgb = colours.map(red => Uint8Array.from(resample(red.out, red.rh, red.rw, H / fyf, W / fx, h, w), v => Math.round(v)));
  return { canvas, ctx, W, H, h, w, small, opaque, rgb };
}

// The network at render size: the photo's ab (2, h, w) in the network's scale and, where the graph answers
// them, its encoder's features (C, hp / 8, wp / 8).
async function runNetwork(e, small, h, w, vividness) {
  const m = e.manifest;
  const input = networkInput(small, h, w, m.multiple, m.in_channels);
  const tensor = new ort.Tensor("float32", input.data, [1, m.in_channels, input.hp, input.wp]);
  const res = await e.generator.run(generatorFeeds(e, tensor, vividness));
  const out = res[e.generator.outputNames[0]];
  const ab = new Float32Array(2 * h * w);
  for (let c = 0; c < 2; c++)
    for (let y = 0; y < h; y++)
      ab.set(out.data.subarray((c * input.hp + y) * input.wp, (c * input.hp + y) * input.wp + w), (c * h + y) * w);
  const f = res.features;
  return { ab, features: f && { data: f.data, C: f.dims[1], hp: f.dims[2], wp: f.dims[3] } };
}

// The photo's ab with the colours it matches in a reference photo (reference.js), and what it took:
// {confidence, used, map (a PNG of where, white)}.
async function takeReference(e, file, photo, net, options, stripPixels) {
  const s = e.manifest.reference;
  if (!s || !net.features) throw new Error("this model cannot match a reference photo (no encoder features)");
  const size = options.renderSize || e.manifest.render_size;
  const ref = await readPhoto(e, file, size, stripPixels, () => {}, true);
  const refNet = await runNetwork(e, ref.small, ref.h, ref.w, options.vividness);
  const cells = (f, h, w) => cropCells(f.data, f.C, f.hp, f.wp, h, w, s.grid);
  const L = small => Float32Array.from(small, v => v * 116 - 16);
  const refAb = abOf(...ref.rgb, ref.h * ref.w);
  if (refAb.every(v => Math.abs(v) * 110 < 1)) throw new Error(`${file.name}: is gray, so it has no colours to give; use a colour photo`);
  const reference = { feats: cells(refNet.features, ref.h, ref.w), L: L(ref.small), ab: refAb, h: ref.h, w: ref.w };
  const { h, w } = photo;
  const lightness = L(photo.small);
  const found = match(reference, cells(net.features, h, w), lightness, h, w, s);
  const ab = found.used ? propagate(net.ab, lightness, found.raster, h, w, s.sigma_s, s.sigma_r, s.reach) : net.ab;
  const pixels = new Uint8ClampedArray(4 * h * w);
  for (let i = 0; i < h * w; i++) {
    pixels.fill(found.used ? Math.round(255 * found.raster[2 * h * w + i]) : 0, 4 * i, 4 * i + 3);
    pixels[4 * i + 3] = 255;
  }
  const canvas = new OffscreenCanvas(w, h);
  canvas.getContext("2d").putImageData(new ImageData(pixels, w, h), 0, 0);
  const map = await canvas.convertToBlob({ type: "image/png" });
  return { ab, taken: { confidence: found.confidence, used: found.used, map } };
}

async function colorize(e, file, options, progress) {
  const m = e.manifest;
  const times = {};
  let clock = performance.now();
  const lap = name => {
    const now = performance.now();
    times[name] = Math.round(now - clock);
    clock = now;
  };
  // 1. the network's input: lightness strip by strip, box-reduced on the way, then resampled.
  const size = options.renderSize || m.render_size;
  const stripPixels = options.stripPixels || STRIP_PIXELS;
  const photo = await readPhoto(e, file, size, stripPixels, progress);
  const { ctx, W, H, h, w, small, opaque } = photo;
  lap("input");

  // 2. the network, at render size (and the colours of a reference photo); then the guided-upsampling model
  // of its colour.
  const net = await runNetwork(e, small, h, w, options.vividness);
  let ab = net.ab;
  let reference = null;
  if (options.reference) {
    ({ ab, taken: reference } = await takeReference(e, options.reference, photo, net, options, stripPixels));
  }
  lap("network");
  const { coef } = await e.guide.run({
    ab: new ort.Tensor("float32", ab, [2, h, w]),
    fy: new ort.Tensor("float32", small, [h, w]),
    gain: scalar("float32", m.chroma_gain),
    radius: scalar("int64", m.guide_radius),
    eps: scalar("float32", m.guide_eps),
    row: new ort.Tensor("float32", new Float32Array(W), [W]), // only its length (the width) is used
  });
  lap("guide");
  progress(40, "colouring");

  // 3. full resolution, strip by strip, written back over the photo in the same canvas.
  const strip = Math.max(1, Math.floor(stripPixels / W));
  for (let top = 0; top < H; top += strip) {
    const r = Math.min(strip, H - top);
    const { fy, rgba } = lightnessRows(e, ctx, top, r, W);
    colour.compose(fy, coef.data, h, W, top, r, H, m.xyz_to_linear, rgba);
    ctx.putImageData(new ImageData(rgba, W, r), 0, top);
    progress(40 + 50 * (top + r) / H, "colouring");
  }
  lap("compose");
  progress(95, "encoding");
  if (opaque) return { bitmap: photo.canvas.transferToImageBitmap(), times, reference }; // the page writes it without alpha
  const blob = await photo.canvas.convertToBlob({ type: "image/png" });
  lap("encode");
  return { blob, times, reference };
}

self.onmessage = async ({ data }) => {
  const { id, file, options = {} } = data;
  try {
    engine = engine || createEngine().catch(err => {
      engine = null; // a failed start is retried with the next photo
      throw err;
    });
    const e = await engine;
    if (!file) return self.postMessage({ id, ready: true, backend: e.backend });
    const { blob, bitmap, times, reference } = await colorize(e, file, options, (progress, stage) =>
      self.postMessage({ id, progress, stage }),
    );
    self.postMessage({ id, blob, bitmap, times, reference, backend: e.backend }, bitmap ? [bitmap] : []);
  } catch (err) {
    self.postMessage({ id, error: String(err && err.message ? err.message : err) });
  }
};
