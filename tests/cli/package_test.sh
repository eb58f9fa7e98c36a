#!/bin/sh
# The .deb as a user gets it: built by CPack from this build, unpacked into a
# scratch root, its files, dependencies, desktop entry and metainfo checked,
# and the installed programs run (the CLI tokenising with the SentencePiece
# shim it installed, the GUI answering --version, bash completion).
# usage: package_test.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$d/pkg" > "$d/cpack.log" 2>&1 ||
  { cat "$d/cpack.log"; fail "cpack"; }
deb=$(ls "$d"/pkg/*.deb)
dpkg-deb -I "$deb" > "$d/info.txt"
for dep in qt6-qpa-plugins libopenblas0-openmp libtorch libqt6widgets6 libqcustomplot2.1-qt6 \
           libsqlite3 libsentencepiece; do
  grep '^ Depends:' "$d/info.txt" | grep -q "$dep" || fail "Depends lacks $dep: $(grep Depends "$d/info.txt")"
done
dpkg-deb -x "$deb" "$d/root"
r="$d/root/usr"
for f in bin/itera bin/itera-workbench lib/itera-workbench/libitera_spm.so \
         share/applications/org.iteralite.workbench.desktop \
         share/metainfo/org.iteralite.workbench.metainfo.xml \
         share/icons/hicolor/scalable/apps/itera-workbench.svg \
         share/icons/hicolor/16x16/apps/itera-workbench.png \
         share/icons/hicolor/48x48/apps/itera-workbench.png \
         share/icons/hicolor/256x256/apps/itera-workbench.png \
         share/bash-completion/completions/itera share/itera-workbench/fetch-corpora.sh \
         share/doc/itera-workbench/LICENSE share/doc/itera-workbench/docs/workbench.md; do
  [ -s "$r/$f" ] || fail "package lacks /usr/$f"
done
desktop-file-validate "$r/share/applications/org.iteralite.workbench.desktop" || fail "desktop entry"
appstreamcli validate --no-net "$r/share/metainfo/org.iteralite.workbench.metainfo.xml" > "$d/as.txt" 2>&1 ||
  { cat "$d/as.txt"; fail "metainfo"; }

"$r/bin/itera" --version | grep -q "^itera [0-9]" || fail "itera --version"
QT_QPA_PLATFORM=offscreen "$r/bin/itera-workbench" --version 2>/dev/null | grep -q "[0-9]\.[0-9]" ||
  fail "itera-workbench --version"

# The installed CLI trains a BPE tokenizer through the shim it installed.
awk 'BEGIN { srand(7); split("call me ishmael some years ago never mind how long precisely having little or no money in my purse", w, " ");
             for (i = 0; i < 20000; i++) printf "%s%s", w[int(rand() * 19) + 1], (i % 13 == 12) ? ".\n" : " " }' > "$d/corpus.txt"
LD_DEBUG=files ITERA_DATA_DIR="$d/data" "$r/bin/itera" data prepare --data "$d/corpus.txt" \
  --tokenizer bpe --vocab-size 300 --out "$d/ds" > "$d/prepare.txt" 2>&1 ||
  { tail -5 "$d/prepare.txt"; fail "installed itera data prepare --tokenizer bpe"; }
grep "file=.*libitera_spm.so" "$d/prepare.txt" | grep -q "$d/root/usr/lib/itera-workbench/" ||
  fail "the installed itera did not load its own libitera_spm.so"

# Bash completion: subcommands, and options read from the command's --help.
out=$(bash -c ". '$r/share/bash-completion/completions/itera'; COMP_WORDS=(itera rep); COMP_CWORD=1; _itera; echo \"\${COMPREPLY[*]}\"")
[ "$out" = report ] || fail "completion of 'itera rep': '$out'"
out=$(PATH="$r/bin:$PATH" bash -c ". '$r/share/bash-completion/completions/itera'; COMP_WORDS=(itera compress --met); COMP_CWORD=2; _itera; echo \"\${COMPREPLY[*]}\"")
[ "$out" = --method ] || fail "completion of 'itera compress --met': '$out'"
out=$(bash -c ". '$r/share/bash-completion/completions/itera'; COMP_WORDS=(itera runs s); COMP_CWORD=2; _itera; echo \"\${COMPREPLY[*]}\"")
[ "$out" = show ] || fail "completion of 'itera runs s': '$out'"
echo "ok: $(basename "$deb") $(wc -c < "$deb") bytes"
