#!/usr/bin/env bash
# Installs what is missing, builds (release), and starts the workbench.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target itera-workbench itera
exec ./build/release/app/itera-workbench "$@"
