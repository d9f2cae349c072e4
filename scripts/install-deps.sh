#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Install what magassay needs on Debian 12 (as root, or through sudo). Idempotent:
# installs only the packages that are missing.
#   scripts/install-deps.sh            build + run + test dependencies
#   scripts/install-deps.sh --peer     also PyMca 5.8 for the peer tests (brings Qt; large)
#   scripts/install-deps.sh --package  also what scripts/package.sh needs (debhelper, lintian)
set -euo pipefail

pkgs=(build-essential cmake ninja-build pkg-config
      libusb-1.0-0-dev libserialport-dev libfftw3-dev libpng-dev libgsl-dev libxrl-dev
      libcairo2-dev libpango1.0-dev libsqlite3-dev libpq-dev postgresql libssl-dev libjansson-dev libxml2-dev libinih-dev
      umockdev libumockdev-dev clang libclang-rt-14-dev socat poppler-utils help2man
      python3-fisx)  # python3-fisx: the accuracy audit's second data library (tests/xrfgen)
[ "${1:-}" = "--peer" ] && pkgs+=(python3-pymca5)
[ "${1:-}" = "--package" ] && pkgs+=(debhelper dpkg-dev fakeroot lintian udev)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "magassay: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
