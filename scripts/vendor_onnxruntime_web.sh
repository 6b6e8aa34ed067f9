#!/bin/sh
# Refresh the onnxruntime-web files that autocolor serves to browsers (src/autocolor/static/vendor/).
# They are committed, so an installed autocolor never fetches anything at run time; run this only to change
# the pinned version. Needs npm (the registry's tarball is checked against its published integrity).
set -eu
VERSION="${1:-1.30.0}"
DEST="$(cd "$(dirname "$0")/.." && pwd)/src/autocolor/static/vendor/onnxruntime-web"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack --silent "onnxruntime-web@$VERSION" >/dev/null
tar xzf "onnxruntime-web-$VERSION.tgz"
rm -rf "$DEST" && mkdir -p "$DEST"
# The WebGPU build: it runs on the GPU where WebGPU is available and on the CPU (WebAssembly, SIMD, threads)
# everywhere else, so one runtime serves both.
for f in ort.webgpu.min.mjs ort-wasm-simd-threaded.asyncify.mjs ort-wasm-simd-threaded.asyncify.wasm; do
    cp "package/dist/$f" "$DEST/$f"
done
node -e 'const p=require("./package/package.json"); console.log(p.name + " " + p.version + " (" + p.license + ")")' > "$DEST/VERSION"
cat > "$DEST/LICENSE" <<'LICENSE'
MIT License

Copyright (c) 2018 - present Microsoft Corporation

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
LICENSE
ls -l "$DEST"
