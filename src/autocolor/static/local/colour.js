// The colour path's per-pixel steps on the device, strip by strip of rows: a photo's lightness (as
// colorspace.srgb_to_fy) and, at the end, lightness + the guide's coefficients -> sRGB (as composer.Compose,
// then colorspace.linear_to_srgb), written straight into the strip's RGBA pixels. The Python colour path runs
// the same maths in numpy and an ONNX graph; here they are plain JavaScript loops, which the engine compiles
// to machine code: several times faster than the graph on WebAssembly, with no copies in between.
// Real-browser tests hold the device's results to the server's.

const AB_SCALE = 110; // network output 1 = 110 Lab units (colorspace.AB_SCALE)
const T = 0.2068966; // Lab's f^-1 switches from linear to cubic here (composer._T)
const T3 = T * T * T;
const KNEE = 0.008856; // Lab's f switches from linear to the cube root here
const F_KNEE = Math.cbrt(KNEE);
const LEVELS = 65535; // linear light as 16-bit levels before the sRGB curve (colorspace.LINEAR_LEVELS)

// linear light of each sRGB level (kornia's rgb_to_linear_rgb)
const LINEAR = Float64Array.from({ length: 256 }, (_, v) => {
  const c = v / 255;
  return c > 0.04045 ? Math.pow((c + 0.055) / 1.055, 2.4) : c / 12.92;
});

// sRGB uint8 of each of the 65,536 linear levels (colorspace._srgb_table)
const SRGB = Uint8Array.from({ length: LEVELS + 1 }, (_, i) => {
  const t = i / LEVELS;
  return Math.floor((t > 0.0031308 ? 1.055 * Math.pow(t, 1 / 2.4) - 0.055 : 12.92 * t) * 255 + 0.5);
});

// Cube roots: a table's first guess, then two Newton steps (within 1e-10 of Math.cbrt, twice as fast).
const GUESSES = 4096;
const CBRT = Float64Array.from({ length: GUESSES + 2 }, (_, i) => Math.cbrt((i + 0.5) / GUESSES));

// RGBA pixels (n of them) -> their lightness fy = (L + 16) / 116 into `fy`; `luminance`: the weights of linear
// R, G, B in Y (the manifest's); `gray`: fy of the 256 gray levels (the manifest's, srgb_to_fy's own), used
// for gray pixels (so a gray photo's lightness is the server's, value for value). Returns whether all are opaque.
export function lightness(rgba, n, luminance, gray, fy) {
  const [wr, wg, wb] = luminance;
  let opaque = true;
  for (let i = 0, q = 0; i < n; i++, q += 4) {
    const r = rgba[q];
    const g = rgba[q + 1];
    const b = rgba[q + 2];
    opaque = opaque && rgba[q + 3] === 255;
    if (r === g && g === b) {
      fy[i] = gray[r];
      continue;
    }
    const y = wr * LINEAR[r] + wg * LINEAR[g] + wb * LINEAR[b];
    if (y > KNEE) {
      let x = CBRT[(y * GUESSES) | 0];
      x -= (x * x * x - y) / (3 * x * x);
      x -= (x * x * x - y) / (3 * x * x);
      fy[i] = x;
    } else fy[i] = F_KNEE + (y - KNEE) * 7.787;
  }
  return opaque;
}

const fInv = t => (t > T ? t * t * t : (t - T) * (1 / 7.787) + T3);

// fy (r * W): rows [top, top + r) of the lightness; coef (4, h, W) from the guide graph; H: the photo's
// height; m: the 3 x 3 matrix from (X/Xn, Y, Z/Zn) to linear R, G, B (the manifest's); rgba: the strip's
// pixels, whose R, G, B are overwritten (alpha untouched).
export function compose(fy, coef, h, W, top, r, H, m, rgba) {
  const plane = h * W;
  const [[m00, m01, m02], [m10, m11, m12], [m20, m21, m22]] = m;
  for (let y = 0; y < r; y++) {
    // the two coefficient rows around this row and its weight, as composer._taps (bilinear, half-pixel)
    const src = Math.max(0, (top + y + 0.5) * (h / H) - 0.5);
    const i0 = Math.min(Math.floor(src), h - 1);
    const wy = src - i0;
    const o0 = i0 * W;
    const o1 = Math.min(i0 + 1, h - 1) * W;
    for (let x = 0, p = y * W, q = 4 * y * W; x < W; x++, p++, q += 4) {
      const f = fy[p];
      const j0 = o0 + x;
      const j1 = o1 + x;
      let c = coef[j0];
      const sa = c + (coef[j1] - c) * wy; // ab = slope * fy + offset, as the guide fitted them
      c = coef[plane + j0];
      const sb = c + (coef[plane + j1] - c) * wy;
      c = coef[2 * plane + j0];
      const oa = c + (coef[2 * plane + j1] - c) * wy;
      c = coef[3 * plane + j0];
      const ob = c + (coef[3 * plane + j1] - c) * wy;
      let a = sa * f + oa;
      a = a > AB_SCALE ? AB_SCALE : a < -AB_SCALE ? -AB_SCALE : a;
      let b = sb * f + ob;
      b = b > AB_SCALE ? AB_SCALE : b < -AB_SCALE ? -AB_SCALE : b;
      const X = fInv(a * 0.002 + f);
      const Y = fInv(f);
      const zf = f - b * 0.005;
      const Z = fInv(zf > 0 ? zf : 0);
      // linear RGB relative to the gray of the same luminance, mixed with that gray just enough to fit
      const dr = m00 * X + m01 * Y + m02 * Z - Y;
      const dg = m10 * X + m11 * Y + m12 * Z - Y;
      const db = m20 * X + m21 * Y + m22 * Z - Y;
      let hi = dr > dg ? dr : dg;
      hi = hi > db ? hi : db;
      let lo = dr < dg ? dr : dg;
      lo = lo < db ? lo : db;
      let k = LEVELS;
      if (Y + hi > 1 && hi > 1e-9) k = Math.max(0, Math.min(k, (LEVELS * (1 - Y)) / hi));
      if (Y + lo < 0 && lo < -1e-9) k = Math.max(0, Math.min(k, (-LEVELS * Y) / lo));
      const base = Y * LEVELS + 0.5;
      let v = (base + dr * k) | 0;
      rgba[q] = SRGB[v > LEVELS ? LEVELS : v];
      v = (base + dg * k) | 0;
      rgba[q + 1] = SRGB[v > LEVELS ? LEVELS : v];
      v = (base + db * k) | 0;
      rgba[q + 2] = SRGB[v > LEVELS ? LEVELS : v];
    }
  }
}
