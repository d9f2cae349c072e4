#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The layers of libmagassay, enforced (docs/architecture.md#layers).
#
#   check_layers.sh SOURCE_DIR            check the tree; exit 1 on a forbidden include
#   check_layers.sh --self-test           prove the check fails on a forbidden include
#
# Every library or CLI source file belongs to the layer of its top folder. A
# file may include its own layer's headers and those of the layers listed
# after it in ALLOWED below, nothing else. Public headers (include/magassay/)
# belong to the layer that implements them (OWNER below); a public header
# that is not in OWNER fails the check, so a new header must be placed.
# Some external libraries belong to one layer (LIBRARY below): the X-ray data
# only to physics, the databases only to the store, USB and serial only to
# the drivers' transports, the drawing only to plot and report.
# Tests and benchmarks may include anything. There are no exceptions.
set -euo pipefail

declare -A ALLOWED=(
  [core]=""
  [formats]="core"
  [physics]="core"
  [calib]="core physics"
  [plot]="core"
  [drivers]="core physics"
  [analysis]="core physics calib"
  [store]="core calib"
  [acq]="core formats drivers store calib"
  [sequence]="core formats drivers analysis store calib"
  [reprocess]="core formats physics calib analysis store"
  [report]="core formats physics calib plot analysis store"
  [serve]="core formats physics calib plot drivers analysis store acq sequence reprocess report"
  [cli]="core formats physics calib plot drivers analysis store acq sequence reprocess report serve"
)

declare -A OWNER=(
  [error.h]=core [log.h]=core [buf.h]=core [fileio.h]=core [spectrum.h]=core [version.h]=core
  [icp.h]=core [id.h]=core
  [format.h]=formats
  [xray.h]=physics [instrument.h]=physics
  [calib.h]=calib
  [plot.h]=plot
  [transport.h]=drivers [device.h]=drivers [dp5.h]=drivers [icp_device.h]=drivers [usbids.h]=drivers
  [xrfsim.h]=drivers
  [analysis.h]=analysis [quant.h]=analysis [icp_analysis.h]=analysis
  [store.h]=store [store_qc.h]=store
  [acq.h]=acq
  [sequence.h]=sequence
  [reprocess.h]=reprocess
  [report.h]=report [qc.h]=report
  [serve.h]=serve
)

# External headers that only the listed layers may include.
declare -A LIBRARY=(
  [xraylib.h]="physics"
  [sqlite3.h]="store" [libpq-fe.h]="store"
  [libusb.h]="drivers" [libusb-1.0/libusb.h]="drivers" [libserialport.h]="drivers"
  [cairo.h]="plot report" [cairo-pdf.h]="plot report" [pango/pangocairo.h]="plot" [png.h]="plot"
  [ini.h]="core"
)

# The layer of a path relative to the source root, or "" (tests, bench, ...).
layer_of() {
  local top="${1%%/*}"
  [ -n "${ALLOWED[$top]+x}" ] && echo "$top" || echo ""
}

# check ROOT: print every forbidden include; 1 if there is one.
check() {
  local root="$1" bad=0 f inc target tl fl lib
  local -a files
  mapfile -t files < <(cd "$root" && find . \( -name '*.c' -o -name '*.h' \) -not -path './tests/*' \
                         -not -path './bench/*' -not -path './build*' -not -path './.git/*' | sed 's|^\./||' | sort)
  for f in "${files[@]}"; do
    if [[ "$f" == include/magassay/* ]]; then
      local base="${f##*/}"
      [ "$base" = "version.h.in" ] && continue
      fl="${OWNER[$base]:-}"
      if [ -z "$fl" ]; then
        echo "$f: public header without a layer (add it to OWNER in tests/arch/check_layers.sh)"
        bad=1
        continue
      fi
    else
      fl="$(layer_of "$f")"
      [ -z "$fl" ] && continue
    fi
    while IFS= read -r inc; do
      target=""
      if [[ "$inc" == magassay/* ]]; then
        tl="${OWNER[${inc#magassay/}]:-}"
        if [ -z "$tl" ]; then
          echo "$f: includes $inc, a public header without a layer"
          bad=1
          continue
        fi
        target="$inc"
      elif [ -f "$root/$(dirname "$f")/$inc" ]; then
        continue # beside the file: its own layer
      elif [ -f "$root/$inc" ]; then
        tl="$(layer_of "$inc")"
        target="$inc"
      elif [ -f "$root/core/$inc" ]; then
        tl=core
        target="core/$inc"
      else
        continue # generated or system
      fi
      [ -z "$tl" ] && { echo "$f: includes $inc from outside the library"; bad=1; continue; }
      [ "$tl" = "$fl" ] && continue
      if [[ " ${ALLOWED[$fl]} " == *" $tl "* ]]; then
        continue
      fi
      echo "$f -> $target: $fl may not include $tl (allowed: ${ALLOWED[$fl]:-nothing})"
      bad=1
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$root/$f")
    [[ "$f" == include/magassay/* ]] && continue
    while IFS= read -r lib; do
      [ -z "${LIBRARY[$lib]+x}" ] && continue
      [[ " ${LIBRARY[$lib]} " == *" $fl "* ]] && continue
      echo "$f -> <$lib>: only ${LIBRARY[$lib]} may use it, not $fl"
      bad=1
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<\([^>]*\)>.*/\1/p' "$root/$f")
  done
  return $bad
}

if [ "${1:-}" = "--self-test" ]; then
  # A small tree: one allowed edge, then one forbidden edge added; the check
  # must pass on the first and fail, naming the edge, on the second.
  t="$(mktemp -d)"
  trap 'rm -rf "$t"' EXIT
  mkdir -p "$t/include/magassay" "$t/analysis" "$t/store" "$t/core"
  echo '#include "magassay/error.h"' > "$t/include/magassay/store.h"
  : > "$t/include/magassay/error.h"
  : > "$t/core/internal.h"
  printf '#include "internal.h"\n#include "magassay/error.h"\n' > "$t/analysis/fit.c"
  check "$t" > "$t/out1" || { echo "self-test: a clean tree failed:"; cat "$t/out1"; exit 1; }
  echo '#include "magassay/store.h"' >> "$t/analysis/fit.c"
  if check "$t" > "$t/out2"; then
    echo "self-test: analysis -> store was not caught"
    exit 1
  fi
  grep -q 'analysis/fit.c -> magassay/store.h: analysis may not include store' "$t/out2" ||
    { echo "self-test: wrong message:"; cat "$t/out2"; exit 1; }
  printf '#include "internal.h"\n#include <sqlite3.h>\n' > "$t/analysis/fit.c"
  if check "$t" > "$t/out3"; then
    echo "self-test: analysis -> <sqlite3.h> was not caught"
    exit 1
  fi
  grep -q 'analysis/fit.c -> <sqlite3.h>: only store may use it, not analysis' "$t/out3" ||
    { echo "self-test: wrong message:"; cat "$t/out3"; exit 1; }
  echo "self-test: a forbidden include (analysis -> store, analysis -> <sqlite3.h>) fails the check, as it must"
  exit 0
fi

root="${1:?usage: check_layers.sh SOURCE_DIR | --self-test}"
if check "$root"; then
  echo "layers: every include of the library and the CLI follows docs/architecture.md#layers"
else
  echo "layers: forbidden includes above (docs/architecture.md#layers)"
  exit 1
fi
