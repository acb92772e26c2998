#!/usr/bin/env bash
# The page's own WebGPU on a GPU machine: bench/dawn.mjs (the trunk build's wasm under Node, on
# Dawn — Chrome's WebGPU implementation — and on the wasm CPU path, in one process) on NVIDIA's
# Vulkan driver. Nothing is fetched there: Node, the Vulkan loader, the page's build and Dawn
# travel in .dawn/ (ignored), prepared here.
#
# 1. Here, once per build (after `trunk build` and `npm ci`; uses `apt-get download`):
#      scripts/gpu-dawn.sh --prepare
#    fills .dawn/ with Debian bookworm's .debs of Node 18 and its libraries and of the Vulkan
#    loader (libvulkan1): 23 MB; and page.tar.gz (dist/alam.js, dist/alam_bg.wasm, the webgpu
#    package's linux-x64 dawn.node): 10 MB. With the tracked tree (~6 MB) a device call carries
#    ~40 MB of its 64 MiB.
# 2. On the GPU machine, one call of the device tool:
#      run(command="bash scripts/gpu-dawn.sh", carry=[".dawn"], timeout_s=480)
#    It says what it found (GPU, Node, Vulkan loader, driver manifest, Dawn's adapter), checks
#    that WebGPU's first updates agree with the CPU path's (2×64 and 2×256; 1, 4, 16 seeds), then
#    prints the table of agent-updates/s, WebGPU beside the CPU path, for N = 1, 4, 16 at
#    2×64/64 and 2×256/256 (and 64, which the page refuses: a population has 1 to 16 seeds).
#    $OUT/dawn.jsonl gets the figures as JSON lines, $OUT/dawn-stderr.log the progress. At most
#    ~8 minutes (the check 2, the table 5.5: a figure cut off by its timeout is lost, the rows
#    printed before it are not), so a 15-minute lease leaves room for a start and a shorter rerun.
#    Extra arguments go to bench/dawn.mjs (e.g. `--sizes 64 --seconds 4`).
#
# ALAM_NODE=carried uses the carried Node even where one is installed (to try the carry here:
# `VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json ALAM_NODE=carried
# scripts/gpu-dawn.sh --sizes 64 --seeds 1`).
set -uo pipefail
cd "$(dirname "$0")/.."
CARRY=.dawn
ARCH_LIB=usr/lib/x86_64-linux-gnu

prepare() {
  [ -f dist/alam_bg.wasm ] || { echo "no dist/alam_bg.wasm: run trunk build first" >&2; exit 1; }
  [ -f node_modules/webgpu/dist/linux-x64/dawn.node ] || { echo "no webgpu package: run npm ci first" >&2; exit 1; }
  rm -rf "$CARRY" && mkdir -p "$CARRY/debs"
  # Debian's own Node (not another repository's build the machine may have), its libraries, the
  # JS modules it loads from /usr/share/nodejs, and the Vulkan loader.
  local node
  node=$(apt-cache madison nodejs | awk '$0 ~ /debian/ { print $3; exit }')
  [ -n "$node" ] || { echo "apt knows no Debian nodejs (apt-get update first)" >&2; exit 1; }
  (cd "$CARRY/debs" && apt-get download -q "nodejs=$node" "libnode108=$node" libicu72 libuv1 libc-ares2 \
    libbrotli1 libnghttp2-14 libssl3 node-acorn node-cjs-module-lexer node-undici libvulkan1) || exit 1
  tar -czf "$CARRY/page.tar.gz" dist/alam.js dist/alam_bg.wasm node_modules/webgpu/index.js \
    node_modules/webgpu/package.json node_modules/webgpu/dist/linux-x64/dawn.node
  du -ch "$CARRY"/debs/*.deb | tail -n 1 | sed 's/total/of .debs/'
  du -h "$CARRY/page.tar.gz"
  echo "carry: [\"$CARRY\"]; the tracked tree adds $(git ls-files -z | du -cb --files0-from=- | tail -n 1 | cut -f1) bytes"
}
if [ "${1:-}" = --prepare ]; then
  prepare
  exit 0
fi

OUT="${OUT:-bench/results}"
mkdir -p "$OUT"
echo "== what is here"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
if [ -f "$CARRY/page.tar.gz" ]; then
  tar -xzf "$CARRY/page.tar.gz" && echo "page build and Dawn: from $CARRY/page.tar.gz"
fi
[ -f dist/alam_bg.wasm ] && [ -f node_modules/webgpu/dist/linux-x64/dawn.node ] ||
  { echo "no page build or Dawn: run scripts/gpu-dawn.sh --prepare here and carry $CARRY" >&2; exit 1; }
unpack() { # unpack PACKAGE-PATTERN DIR: the carried .deb(s) into DIR (never into /)
  local f
  for f in "$CARRY"/debs/$1_*.deb; do
    [ -f "$f" ] || { echo "$1 is not carried ($CARRY/debs): run --prepare here" >&2; exit 1; }
    dpkg -x "$f" "$2"
  done
}

# Node ≥ 18: the machine's, else Debian's from the carry, with its libraries beside it.
NODE=(node)
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "${ALAM_NODE:-}" = carried ] || [ "$major" -lt 18 ]; then
  root=/tmp/dawn-node
  for p in nodejs libnode108 libicu72 libuv1 libc-ares2 libbrotli1 libnghttp2-14 libssl3 node-acorn node-cjs-module-lexer node-undici; do
    unpack "$p" "$root"
  done
  # Debian's Node loads some of its own JS modules from this absolute path.
  [ -e /usr/share/nodejs ] || ln -s "$root/usr/share/nodejs" /usr/share/nodejs
  NODE=(env "LD_LIBRARY_PATH=$root/$ARCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$root/usr/bin/node")
fi
echo "Node: $("${NODE[@]}" --version) (${NODE[*]})"

# The Vulkan loader Dawn opens (libvulkan.so.1): the machine's, else Debian's from the carry.
if ldconfig -p | grep -q 'libvulkan\.so\.1 '; then
  echo "Vulkan loader: the machine's"
else
  unpack libvulkan1 /tmp/dawn-vulkan
  export LD_LIBRARY_PATH="/tmp/dawn-vulkan/$ARCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "Vulkan loader: carried libvulkan1"
fi
. bench/nvidia_vulkan.sh
use_nvidia_vulkan "$OUT"
echo "Vulkan driver manifest: ${VK_ICD_FILENAMES:-${VK_DRIVER_FILES:-none named: the loader searches}}"

echo "== WebGPU's first updates against the CPU path's"
timeout 120 "${NODE[@]}" bench/dawn.mjs --check --sizes 64,256 --seeds 1,4,16 --updates 4 "$@" 2>>"$OUT/dawn-stderr.log"
echo "check: exit $?"
echo "== agent-updates/s"
rm -f "$OUT/dawn.jsonl"
timeout 330 "${NODE[@]}" bench/dawn.mjs --seconds 6 --json "$OUT/dawn.jsonl" "$@" 2>>"$OUT/dawn-stderr.log"
echo "bench: exit $?"
