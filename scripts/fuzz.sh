#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Build every libFuzzer target with clang (ASan + UBSan) and run each for a
# bounded time (default 20 s; FUZZ_SECONDS overrides). Seeds: tests/fuzz/corpus/<name>
# plus the real spectra in ../shared/data when present (copied to a temporary
# folder, never into the repository). Fails on the first crash, leak or timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${FUZZ_SECONDS:-20}"
dir="${FUZZ_BUILD_DIR:-build-fuzz}"
CC=clang cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAGASSAY_FUZZ=ON -DMAGASSAY_BENCH=OFF >/dev/null
cmake --build "$dir" -j"$(nproc)"
work=$(mktemp -d /tmp/magassay-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
shared="$(pwd)/../shared/data"
status=0
for bin in "$dir"/tests/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin"); name=${name#fuzz_}
  corpus="$work/$name"; mkdir -p "$corpus"
  [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$corpus/"
  [ -d "$shared" ] && find "$shared" -type f -size -2M -exec cp {} "$corpus/" \;
  echo "fuzz: $name for ${secs}s" >&2
  if ! ASAN_OPTIONS=detect_leaks=1 "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -max_len=262144 -print_final_stats=0 -artifact_prefix="$work/crash-$name-" "$corpus" \
        >"$work/$name.log" 2>&1; then
    echo "fuzz: $name FAILED" >&2
    tail -60 "$work/$name.log" >&2
    mkdir -p fuzz-artifacts && cp "$work"/crash-"$name"-* fuzz-artifacts/ 2>/dev/null || true
    status=1
  else
    grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs" "$work/$name.log" | tail -1 >&2 || true
  fi
done
exit $status
