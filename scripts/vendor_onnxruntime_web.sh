#!/usr/bin/env bash
# Vendor ONNX Runtime Web, which decodes latent points in the browser, into static/ (served by the
# app itself, so it runs offline): `bash scripts/vendor_onnxruntime_web.sh [VERSION]`.
# Only the WebAssembly build is kept: its ES module (the WASM glue bundled in) and its one binary,
# which runs single-threaded where the page is not cross-origin isolated. Update by running this
# with a newer version, then the browser tests.
set -euo pipefail
version="${1:-1.30.0}"
cd "$(dirname "$0")/.."
target=static/vendor/onnxruntime-web
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
(cd "$scratch" && npm pack --silent "onnxruntime-web@$version" >/dev/null && tar xzf "onnxruntime-web-$version.tgz")
rm -rf "$target" && mkdir -p "$target"
cp "$scratch/package/dist/ort.wasm.bundle.min.mjs" "$scratch/package/dist/ort-wasm-simd-threaded.wasm" "$target/"
echo "$version" > "$target/VERSION"
cat > "$target/LICENSE" <<'LICENSE'
MIT License

Copyright (c) Microsoft Corporation

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
du -sh "$target"
