// The network's input, computed as the Python front end computes it (Colorizer.prepare, network_input):
// lightness fy = (L + 16) / 116 at full size -> resized so the long side is `size` -> L / 50 - 1 -> padded
// to the network's multiple.
// The resize reproduces Pillow's Image.resize(BILINEAR, reducing_gap=2.0) on a float image: a box reduction
// by an integer factor, then a triangle filter whose support widens with the scale (values agree with
// Pillow's to float32 rounding). Everything here is bookkeeping around that one resampler; the colour maths
// runs in the exported ONNX graphs.

const f32 = Math.fround;

// Python's round(): halves go to the even neighbour.
function roundHalfEven(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** [h, w] of the resized lightness: long side `size`, the other side in proportion (at least 1). */
export function renderShape(height, width, size) {
  const scale = size / Math.max(height, width);
  return [Math.max(1, roundHalfEven(height * scale)), Math.max(1, roundHalfEven(width * scale))];
}

/** Pillow's reducing_gap=2 factors for one axis. */
export function reduceFactor(inSize, outSize) {
  return Math.trunc(inSize / outSize / 2.0) || 1;
}

/**
 * Accumulates box means of `fx` x `fy` blocks from strips of full-resolution rows, so the full-size
 * lightness is never held. Strips must start on a multiple of `fy` rows (the last one may be short).
 */
export class BoxReducer {
  constructor(height, width, fx, fy) {
    Object.assign(this, { fx, fy, width });
    this.rw = Math.ceil(width / fx);
    this.rh = Math.ceil(height / fy);
    this.out = new Float32Array(this.rw * this.rh);
    this.height = height;
  }

  /** rows: Float32Array (r * width) of fy for rows [top, top + r). */
  add(rows, top, r) {
    const { fx, fy, width, rw } = this;
    const sums = new Float64Array(rw);
    for (let j0 = 0; j0 < r; j0 += fy) {
      const j1 = Math.min(j0 + fy, r);
      sums.fill(0);
      for (let j = j0; j < j1; j++) {
        const row = j * width;
        for (let x = 0; x < width; x++) sums[(x / fx) | 0] += rows[row + x];
      }
      const outRow = ((top + j0) / fy) * rw;
      for (let i = 0; i < rw; i++) {
        const n = (j1 - j0) * (Math.min((i + 1) * fx, width) - i * fx);
        this.out[outRow + i] = sums[i] / n;
      }
    }
  }
}

// Triangle-filter taps for `outSize` samples over [0, in1) of an axis of `inSize` pixels.
function taps(inSize, in1, outSize) {
  const scale = f32(in1) / outSize;
  const support = Math.max(scale, 1.0);
  const list = [];
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(center + support + 0.5));
    const w = [];
    let sum = 0;
    for (let x = lo; x < hi; x++) {
      const v = Math.max(0, 1 - Math.abs((x - center + 0.5) / support));
      w.push(v);
      sum += v;
    }
    list.push([lo, sum ? w.map(v => v / sum) : w]);
  }
  return list;
}

/**
 * Resample `src` (sh x sw, float32), which covers [0, boxW) x [0, boxH) of the original axes, to h x w.
 * Horizontal pass first, then vertical, each stored as float32 (as Pillow does).
 */
export function resample(src, sh, sw, boxH, boxW, h, w) {
  const tx = taps(sw, boxW, w);
  const tmp = new Float32Array(sh * w);
  for (let y = 0; y < sh; y++) {
    for (let o = 0; o < w; o++) {
      const [lo, k] = tx[o];
      let s = 0;
      for (let t = 0; t < k.length; t++) s += src[y * sw + lo + t] * k[t];
      tmp[y * w + o] = s;
    }
  }
  const ty = taps(sh, boxH, h);
  const out = new Float32Array(h * w);
  for (let o = 0; o < h; o++) {
    const [lo, k] = ty[o];
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let t = 0; t < k.length; t++) s += tmp[(lo + t) * w + x] * k[t];
      out[o * w + x] = s;
    }
  }
  return out;
}

const SLOPE = f32(116 / 50);
const OFFSET = f32(16 / 50 + 1);

/** fy (h x w) at render size -> (channels, hp, wp) float32: channel 0 is L / 50 - 1 (in float32, as numpy
 *  computes it), edge-padded to a multiple of `multiple` at the bottom and right; further (hint) channels zero. */
export function networkInput(fy, h, w, multiple, channels) {
  const hp = Math.ceil(h / multiple) * multiple;
  const wp = Math.ceil(w / multiple) * multiple;
  const out = new Float32Array(channels * hp * wp);
  for (let y = 0; y < hp; y++) {
    const row = Math.min(y, h - 1) * w;
    for (let x = 0; x < wp; x++) out[y * wp + x] = f32(f32(fy[row + Math.min(x, w - 1)] * SLOPE) - OFFSET);
  }
  return { data: out, hp, wp };
}
