#!/usr/bin/env python3
"""Checks that core/ includes only go down the layers of docs/architecture.md.

Every `#include "folder/..."` in core/FOLDER/ must name FOLDER itself or a
folder in its ALLOWED row; core/ never includes Qt or ui/. Prints each
violation as FILE:LINE: message and exits 1 when there is one.

    tools/check_layers.py [ROOT]        # ROOT: the repository (default: here)
"""

import pathlib
import re
import sys

# Each layer may include the layers listed (and itself); the order is
# docs/architecture.md's: util → format → tokenizer → data → model → infer →
# eval → train, compress → sweep → store → report → workflows → serve.
BELOW = ["util", "format", "tokenizer", "data", "model", "infer", "eval"]
ALLOWED = {
    "util": [],
    "format": ["util"],
    "tokenizer": ["util", "format"],
    "data": ["util", "format", "tokenizer"],
    "model": ["util", "format", "tokenizer", "data"],
    "infer": ["util", "format", "tokenizer", "data", "model"],
    "eval": ["util", "format", "tokenizer", "data", "model", "infer"],
    "train": BELOW,
    "compress": BELOW,
    "sweep": BELOW + ["train"],
    "store": BELOW + ["train", "compress", "sweep"],
    "report": BELOW + ["train", "compress", "sweep", "store"],
    "workflows": BELOW + ["train", "compress", "sweep", "store", "report"],
    "serve": BELOW + ["train", "compress", "sweep", "store", "report", "workflows"],
}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')


def check(root: pathlib.Path) -> list:
    problems = []
    core = root / "core"
    for path in sorted(core.rglob("*")):
        if path.suffix not in (".h", ".cpp", ".inc") or not path.is_file():
            continue
        layer = path.relative_to(core).parts[0]
        if layer not in ALLOWED:
            if path.parent != core:
                problems.append(f"{path}: core/{layer}/ is not a layer of the table")
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            target = m.group(1)
            where = f"{path.relative_to(root)}:{number}"
            if target.startswith(("Q", "qt")) or target.split("/")[0] == "ui":
                problems.append(f"{where}: core/ includes {target} (no Qt, no ui/ in core)")
                continue
            folder = target.split("/")[0]
            if folder not in ALLOWED or folder == layer:
                continue
            if folder not in ALLOWED[layer]:
                problems.append(f"{where}: {layer} includes {target}; {layer} may include "
                                f"{', '.join(ALLOWED[layer]) or 'no other layer'}")
    return problems


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    if not (root / "core").is_dir():
        print(f"check_layers: {root} has no core/ folder", file=sys.stderr)
        return 2
    problems = check(root)
    for p in problems:
        print(p)
    if problems:
        print(f"check_layers: {len(problems)} include(s) against the layers "
              "(docs/architecture.md)", file=sys.stderr)
        return 1
    print("check_layers: every core/ include goes down the layers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
