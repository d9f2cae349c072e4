#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The Debian packages (docs/install.md#the-debian-package): magassay,
# libmagassay0 and libmagassay-dev, built with dpkg-buildpackage from debian/
# in a copy of the tree, then checked with lintian (any error fails).
#
#   scripts/package.sh          build into build-deb/ and run lintian
#   scripts/package.sh --test   also install them on this machine (root only:
#                               CI), run the intake demo from the installed
#                               binary against the shared store as two
#                               technicians, check a third user keeps a store of
#                               their own, then purge (tests/package/test_deb.sh)
#
# The test suite is not run again (DEB_BUILD_OPTIONS=nocheck): scripts/test.sh
# ran it on the same sources.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/${DEB_DIR:-build-deb}"
scripts/install-deps.sh --package

version=$(sed -n 's/^project(magassay VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
deb_version=$(dpkg-parsechangelog -l debian/changelog -S Version)
if [ "$version" != "$deb_version" ]; then
	echo "package: CMakeLists.txt says $version but debian/changelog $deb_version: add a changelog entry" >&2
	exit 1
fi

work=$(mktemp -d /tmp/magassay-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
src="$work/magassay-$version"
mkdir "$src"
# the tree as it is, without build folders or git
tar --exclude-vcs --exclude='./build*' --exclude='./obj-*' --exclude='./debian/.debhelper' -C "$root" -cf - . |
	tar -C "$src" -xf -

echo "== dpkg-buildpackage (nocheck) in $src"
start=$(date +%s)
(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -b -us -uc >"$work/build.log" 2>&1) || {
	tail -n 60 "$work/build.log" >&2
	echo "package: dpkg-buildpackage failed (log above)" >&2
	exit 1
}
echo "   built in $(($(date +%s) - start)) s"
rm -rf "$out"
mkdir -p "$out"
mv "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
ls -l "$out"

echo "== lintian"
changes=$(ls "$out"/*.changes)
# lintian exits non-zero on errors (its default --fail-on error); warnings are printed
lintian --info --display-info --fail-on error "$changes" | tee "$out/lintian.txt"
echo "   lintian: $(grep -c '^E:' "$out/lintian.txt" || true) error(s), $(grep -c '^W:' "$out/lintian.txt" || true) warning(s)"

if [ "${1:-}" = "--test" ]; then
	tests/package/test_deb.sh "$out"
fi
