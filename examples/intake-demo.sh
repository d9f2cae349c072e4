#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The intake demo: a lot of recycled-magnet samples measured on the simulated
# XRF instrument (an Amptek DP5 with an SDD and a Rh tube, speaking the real DP5
# protocol) and stored: each spectrum written as Amptek .mca into the data
# directory's archive and registered, with its SHA-256, in the database.
#
#   examples/intake-demo.sh            # a fresh data directory under /tmp
#   MAGASSAY_DATA=~/lab examples/intake-demo.sh
#   examples/intake-demo.sh --store    # magassay's own choice: the shared store
#                                      # for members of the magassay group
#                                      # (docs/install.md), else your own; the
#                                      # reports go to a new folder under /tmp
#
# Environment: MAGASSAY (the binary; default build/cli/magassay next to this
# folder, else on PATH), MAGASSAY_DATA (the data directory; default a new folder
# under /tmp), LOT (default LOT-2026-0042), OPERATOR (default demo), PRESET (live
# seconds per sample, default 60), SPEED (simulated seconds per real second,
# default 30: about 2 s per sample). Takes well under 30 s.
# Later steps (analysis, report) append to this script.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
MAGASSAY=${MAGASSAY:-$root/build/cli/magassay}
if [ ! -x "$MAGASSAY" ]; then
	if command -v magassay >/dev/null 2>&1; then
		MAGASSAY=$(command -v magassay)
	else
		echo "intake-demo: no magassay binary at $MAGASSAY (build first: cmake -S . -B build && cmake --build build, or set MAGASSAY)" >&2
		exit 1
	fi
fi
OWN_STORE=
if [ "${1:-}" = "--store" ]; then
	# the data directory is the one the first acquisition reports
	OWN_STORE=1
	MAGASSAY_DATA=
	OUT=$(mktemp -d /tmp/magassay-demo-reports.XXXXXX)
else
	if [ -z "${MAGASSAY_DATA:-}" ]; then
		MAGASSAY_DATA=$(mktemp -d /tmp/magassay-demo.XXXXXX)
	fi
	export MAGASSAY_DATA
	OUT=$MAGASSAY_DATA
fi
LOT=${LOT:-LOT-2026-0042}
OPERATOR=${OPERATOR:-demo}
PRESET=${PRESET:-60}
SPEED=${SPEED:-30}
PROFILE=$here/profiles/sim-xrf.ini

echo "== intake of lot $LOT (operator $OPERATOR) into ${MAGASSAY_DATA:-magassay's default store}"
echo "   instrument: the simulated XRF (sim:xrf, speed ${SPEED}x), profile $PROFILE"
echo

# sample id : what the simulator puts under the beam
log=$(mktemp /tmp/magassay-demo-log.XXXXXX)
trap 'rm -f "$log" "$log.rc"' EXIT
first=
for entry in \
	"$LOT-01:ndfeb" \
	"$LOT-02:ndfeb-dy" \
	"$LOT-03:ndfeb-tb" \
	"$LOT-04:ndfeb-nicuni" \
	"$LOT-CHK-FE:fe"; do
	id=${entry%%:*}
	material=${entry#*:}
	echo "-- $id ($material)"
	# the lines appear as the measurement goes; the exit status survives the pipe
	{
		"$MAGASSAY" acquire --device "sim:xrf?sample=$material&speed=$SPEED" --sample "$id" --batch "$LOT" \
			--operator "$OPERATOR" --preset-time "$PRESET" --profile "$PROFILE"
		echo $? >"$log.rc"
	} | tee "$log"
	status=$(cat "$log.rc")
	if [ "$status" != 0 ]; then
		echo "intake-demo: acquiring $id failed (exit $status)" >&2
		exit "$status"
	fi
	if [ -z "$first" ]; then
		first=$(sed -n 's/.*-> measurement \([0-9][0-9]*\).*/\1/p' "$log" | head -n 1)
	fi
	if [ -z "$MAGASSAY_DATA" ]; then
		MAGASSAY_DATA=$(sed -n 's/.* stored in \(\/.*\)$/\1/p' "$log" | tail -n 1)
		[ -n "$MAGASSAY_DATA" ] || { echo "intake-demo: acquire did not say where it stored $id" >&2; exit 1; }
		export MAGASSAY_DATA
	fi
done

echo
echo "== the lot"
"$MAGASSAY" list measurements --batch "$LOT"
if [ -n "$first" ]; then
	echo
	echo "== one measurement"
	"$MAGASSAY" show "$first"
fi
echo
echo "== analysis of the lot: line families, areas, detection limits, and wt% by fundamental"
echo "   parameters (standardless), saved to the store"
"$MAGASSAY" -q analyze "$LOT" --store --elements Fe,Co,Nd,Pr,Dy,Tb,Ni,Cu --quant=fp \
	--grades "$(dirname "$0")/grades.ini" --plot "$OUT/$LOT-fit.png" | grep -v '^ *plot '
echo
echo "== QC and reports"
"$MAGASSAY" qc status "$LOT"
"$MAGASSAY" report batch "$LOT" --pdf "$OUT/$LOT.pdf" --csv "$OUT/$LOT.csv" --png "$OUT/$LOT.png"
"$MAGASSAY" report sample "$LOT-01" --pdf "$OUT/$LOT-01.pdf" --png "$OUT/$LOT-01.png"
echo "batch report: $OUT/$LOT.pdf, $OUT/$LOT.csv, $OUT/$LOT.png"
echo "certificate:  $OUT/$LOT-01.pdf"
echo
echo "== later: a resolution calibration (on the first sample: a magnet has many lines), and what"
echo "   reprocessing the lot with it would change (dry run: nothing is written; without --dry-run"
echo "   each result gets a new version)"
"$MAGASSAY" calibrate resolution "$(ls "$MAGASSAY_DATA"/spectra/"$LOT"/"$LOT-01"/*.mca | head -n 1)" --name demo-dp5 \
	--operator "$OPERATOR" | tail -n 1
"$MAGASSAY" reprocess --batch "$LOT" --calib resolution:demo-dp5 --grades "$here/grades.ini" --dry-run
echo
echo "data directory: $MAGASSAY_DATA"
