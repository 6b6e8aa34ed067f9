// Colour from a reference photo, on this device: the same steps as autocolor/reference.py and propagate.py
// (their settings come in the model's manifest, "reference"), for the worker to apply to the network's ab
// before the guided upsampling.
//   match:     each 8 x 8 cell of the photo's features -> the most similar cell of the reference's (cosine),
//              each pixel the reference pixel at the same place in that cell, weighted by a similarity ramp
//              and by how well the lightness agrees -> a hint raster (ab, weight) and the share matched
//   propagate: the raster's corrections spread along the photo's lightness (domain transform)

/** sRGB bytes (3 planes, n values each) -> Lab a and b in the network's scale (/ 110), as colorspace.rgb_to_ab. */
export function abOf(r, g, b, n) {
  const out = new Float32Array(2 * n);
  const lin = v => (v /= 255) > 0.04045 ? Math.pow((v + 0.055) / 1.055, 2.4) : v / 12.92;
  const f = t => t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 4 / 29;
  for (let i = 0; i < n; i++) {
    const R = lin(r[i]), G = lin(g[i]), B = lin(b[i]);
    const X = (0.412453 * R + 0.35758 * G + 0.180423 * B) / 0.95047;
    const Y = 0.212671 * R + 0.71516 * G + 0.072169 * B;
    const Z = (0.019334 * R + 0.119193 * G + 0.950227 * B) / 1.08883;
    out[i] = (500 * (f(X) - f(Y))) / 110;
    out[n + i] = (200 * (f(Y) - f(Z))) / 110;
  }
  return out;
}

/** Features (C, hp, wp) of a padded render -> (C, gh, gw) of the cells that cover (h, w). */
export function cropCells(data, C, hp, wp, h, w, grid) {
  const gh = Math.ceil(h / grid), gw = Math.ceil(w / grid);
  const out = new Float32Array(C * gh * gw);
  for (let c = 0; c < C; c++)
    for (let y = 0; y < gh; y++)
      out.set(data.subarray((c * hp + y) * wp, (c * hp + y) * wp + gw), (c * gh + y) * gw);
  return { data: out, C, gh, gw };
}

/** The photo's cells (`feats`, as cropCells) and lightness L (h, w) -> {raster (3, h, w), confidence, used}. */
export function match(ref, feats, L, h, w, s) {
  const { C, gh, gw } = feats;
  const N = gh * gw, M = ref.feats.gh * ref.feats.gw, rgw = ref.feats.gw;
  const best = new Int32Array(N), weight = new Float32Array(N);
  const t = feats.data, r = ref.feats.data;
  for (let i = 0; i < N; i++) {
    let top = -Infinity, arg = 0;
    for (let j = 0; j < M; j++) {
      let dot = 0;
      for (let c = 0; c < C; c++) dot += t[c * N + i] * r[c * M + j];
      if (dot > top) { top = dot; arg = j; }
    }
    best[i] = arg;
    weight[i] = Math.min(1, Math.max(0, (top - s.low) / (s.high - s.low)));
  }
  const raster = new Float32Array(3 * h * w);
  const [hr, wr] = [ref.h, ref.w];
  let sum = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const cell = Math.floor(y / s.grid) * gw + Math.floor(x / s.grid);
      const src = best[cell];
      const ry = Math.min(Math.floor(src / rgw) * s.grid + (y % s.grid), hr - 1);
      const rx = Math.min((src % rgw) * s.grid + (x % s.grid), wr - 1);
      const d = (L[y * w + x] - ref.L[ry * wr + rx]) / s.lightness_sigma;
      const k = weight[cell] * Math.exp(-0.5 * d * d);
      const i = y * w + x;
      raster[i] = ref.ab[ry * wr + rx];
      raster[h * w + i] = ref.ab[hr * wr + ry * wr + rx];
      raster[2 * h * w + i] = k;
      sum += k;
    }
  const confidence = sum / (h * w);
  return { raster, confidence, used: confidence >= s.min_confidence };
}

// One left-to-right then right-to-left recursive filter along rows of x (C planes of h x w); a: feedback.
function passRows(x, C, h, w, a) {
  for (let c = 0; c < C; c++)
    for (let y = 0; y < h; y++) {
      const o = (c * h + y) * w, g = y * w;
      for (let j = 1; j < w; j++) x[o + j] += a[g + j] * (x[o + j - 1] - x[o + j]);
      for (let j = w - 2; j >= 0; j--) x[o + j] += a[g + j + 1] * (x[o + j + 1] - x[o + j]);
    }
}

function passCols(x, C, h, w, a) {
  for (let c = 0; c < C; c++)
    for (let j = 0; j < w; j++) {
      const o = c * h * w;
      for (let y = 1; y < h; y++) x[o + y * w + j] += a[y * w + j] * (x[o + (y - 1) * w + j] - x[o + y * w + j]);
      for (let y = h - 2; y >= 0; y--) x[o + y * w + j] += a[(y + 1) * w + j] * (x[o + (y + 1) * w + j] - x[o + y * w + j]);
    }
}

/** Edge-aware smoothing of x (C, h, w) guided by `guide` (h, w), in place (Gastal and Oliveira 2011). */
function domainTransform(x, C, h, w, guide, sigmaS, sigmaR) {
  const dx = new Float64Array(h * w), dy = new Float64Array(h * w);
  for (let y = 0; y < h; y++)
    for (let j = 0; j < w; j++) {
      const i = y * w + j;
      dx[i] = 1 + (sigmaS / sigmaR) * Math.abs(j ? guide[i] - guide[i - 1] : 0);
      dy[i] = 1 + (sigmaS / sigmaR) * Math.abs(y ? guide[i] - guide[i - w] : 0);
    }
  const ax = new Float64Array(h * w), ay = new Float64Array(h * w);
  for (let it = 0; it < 3; it++) {
    const sigma = (sigmaS * Math.sqrt(3) * 2 ** (3 - it - 1)) / Math.sqrt(4 ** 3 - 1);
    const base = Math.exp(-Math.SQRT2 / sigma);
    for (let i = 0; i < h * w; i++) { ax[i] = base ** dx[i]; ay[i] = base ** dy[i]; }
    passRows(x, C, h, w, ax);
    passCols(x, C, h, w, ay);
  }
}

const loneCache = new Map();

// How strong one 3 x 3 hint is at its own centre on flat ground (propagate._lone_strength).
function loneStrength(h, w, sigmaS) {
  const key = `${h}x${w}:${sigmaS}`;
  if (!loneCache.has(key)) {
    const x = new Float64Array(h * w);
    const cy = Math.floor(h / 2), cx = Math.floor(w / 2);
    for (let y = cy - 1; y <= cy + 1; y++) for (let j = cx - 1; j <= cx + 1; j++) if (y >= 0 && y < h && j >= 0 && j < w) x[y * w + j] = 1;
    domainTransform(x, 1, h, w, new Float64Array(h * w), sigmaS, 1);
    loneCache.set(key, x[cy * w + cx]);
  }
  return loneCache.get(key);
}

/** ab (2, h, w) with the raster's colours spread along L (propagate.propagate_hints); a new array. */
export function propagate(ab, L, raster, h, w, sigmaS, sigmaR, reach) {
  const n = h * w;
  const x = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const m = raster[2 * n + i];
    x[i] = (raster[i] - ab[i]) * m;
    x[n + i] = (raster[n + i] - ab[n + i]) * m;
    x[2 * n + i] = m;
  }
  domainTransform(x, 3, h, w, L, sigmaS, sigmaR);
  const floor = reach * loneStrength(h, w, sigmaS);
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const norm = Math.max(x[2 * n + i], floor);
    out[i] = ab[i] + x[i] / norm;
    out[n + i] = ab[n + i] + x[n + i] / norm;
  }
  return out;
}
