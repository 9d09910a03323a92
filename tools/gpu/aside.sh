#!/usr/bin/env bash
# Moves what a device call does not need out of the working tree, and back (the call carries at most 64 MiB;
# tools/gpu/README.md). Kept: public/models/tiny-kandinsky-2-2 and tests/golden (PARITY=1 runs them on the GPU).
#   bash tools/gpu/aside.sh out    before the device call
#   bash tools/gpu/aside.sh back   after it (also after an interrupted call: it moves back whatever is aside)
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=${KWEB_ASIDE:-/tmp/kweb-aside}
paths=(tests/golden-2-1 tests/golden-micro tests/pillow)
for d in public/models/*; do [ "$(basename "$d")" = tiny-kandinsky-2-2 ] || paths+=("$d"); done
case "${1:-}" in
  out)
    [ -s "$dest/moved.txt" ] && { echo "aside: $dest holds an earlier move; run 'back' first" >&2; exit 1; }
    mkdir -p "$dest"
    : >"$dest/moved.txt"
    for p in "${paths[@]}"; do
      [ -e "$p" ] || continue
      mkdir -p "$dest/$(dirname "$p")"
      mv "$p" "$dest/$p"
      echo "$p" >>"$dest/moved.txt"
    done
    echo "aside: moved to $dest; run 'bash tools/gpu/aside.sh back' after the device call" ;;
  back)
    [ -f "$dest/moved.txt" ] || { echo "aside: nothing in $dest"; exit 0; }
    left=0
    while IFS= read -r p; do
      if [ -e "$p" ]; then echo "aside: $p is in the tree again; left $dest/$p alone" >&2; left=1; continue; fi
      mkdir -p "$(dirname "$p")"
      mv "$dest/$p" "$p"
    done <"$dest/moved.txt"
    [ "$left" = 0 ] && rm -rf "$dest"
    echo "aside: moved back" ;;
  *) echo "usage: bash tools/gpu/aside.sh out|back" >&2; exit 2 ;;
esac
