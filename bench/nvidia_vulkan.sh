# Sourced by bench/gpu.sh and scripts/gpu-dawn.sh: `use_nvidia_vulkan DIR` points the Vulkan
# loader at NVIDIA's driver through its EGL entry point, unless VK_ICD_FILENAMES is set already.
# Headless (no X server) the driver answers through libEGL_nvidia; the manifest it ships names
# libGLX_nvidia, whose vkCreateInstance fails without a display (seen on the lent H200, driver
# 580). So a manifest naming libEGL_nvidia is written to DIR/nvidia_icd.json. Does nothing where
# no libEGL_nvidia is found (no NVIDIA driver).
use_nvidia_vulkan() {
  [ -n "${VK_ICD_FILENAMES:-}" ] && return 0
  local egl
  egl=$(find /usr/local/nvidia /usr/lib /usr/lib64 -name 'libEGL_nvidia.so.0' 2>/dev/null | head -n 1)
  [ -n "$egl" ] || return 0
  mkdir -p "$1"
  printf '{"file_format_version":"1.0.1","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$egl" > "$1/nvidia_icd.json"
  export VK_ICD_FILENAMES="$1/nvidia_icd.json"
}
