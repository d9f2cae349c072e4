#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The main job: install what is missing, build, and run the intake demo on the
# built-in simulated XRF instrument (examples/intake-demo.sh): a small lot of
# simulated magnet samples acquired, stored, analysed and reported.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
MAGASSAY="$(pwd)/${BUILD_DIR:-build}/cli/magassay" exec examples/intake-demo.sh "$@"
