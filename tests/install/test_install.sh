#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# A real install (docs/install.md): `cmake --install BUILD --prefix P` into a
# temporary prefix, then
#   - nothing is written outside P (the install manifest), udev rules in P/lib/udev/rules.d;
#   - only the public headers, with version.h (not version.h.in);
#   - the installed magassay runs from P without LD_LIBRARY_PATH (RUNPATH $ORIGIN/../lib);
#   - a program builds and runs against the installed library with pkg-config, and
#     another with find_package(magassay);
#   - the examples, the configuration file and the man pages are there.
# Usage: test_install.sh SOURCE_DIR BUILD_DIR [EXTRA_CFLAGS] (the sanitizer flags of an ASan build)
set -euo pipefail
SRC="$1"
BUILD="$2"
EXTRA_CFLAGS="${3:-}"
T=$(mktemp -d /tmp/magassay-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
P="$T/prefix"
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$BUILD" --prefix "$P" >"$T/install.log" 2>&1 || { cat "$T/install.log" >&2; fail "cmake --install"; }
outside=$(grep -v "^$P/" "$BUILD/install_manifest.txt" || true)
[ -z "$outside" ] || fail "installed outside the prefix: $outside"

for f in 60-magassay.rules 61-magassay-uaccess.rules 61-magassay-plugdev.rules; do
	[ -f "$P/lib/udev/rules.d/$f" ] || fail "udev rule $f not in $P/lib/udev/rules.d"
done

# the public headers and nothing else
want=$(cd "$SRC/include/magassay" && ls -- *.h | sort; echo version.h)
have=$(cd "$P/include/magassay" && ls | sort)
[ "$(echo "$want" | sort)" = "$have" ] || fail "headers: wanted [$want], installed [$have]"

# the command, from the prefix alone
env -u LD_LIBRARY_PATH "$P/bin/magassay" --version >"$T/version" || fail "the installed magassay does not run"
grep -q '^magassay [0-9]' "$T/version" || fail "--version said: $(cat "$T/version")"
readelf -d "$P/bin/magassay" | grep -q 'RUNPATH.*\$ORIGIN/\.\./lib' || fail "no RUNPATH \$ORIGIN/../lib"

# pkg-config
pcdir=$(dirname "$(find "$P" -name magassay.pc | head -n 1)")
[ -f "$pcdir/magassay.pc" ] || fail "no magassay.pc"
export PKG_CONFIG_PATH="$pcdir"
libdir=$(pkg-config --variable=libdir magassay)
# shellcheck disable=SC2046,SC2086
cc -std=c17 -Wall -Werror $EXTRA_CFLAGS -o "$T/client-pc" "$SRC/tests/install/client/client.c" \
	$(pkg-config --cflags --libs magassay) -Wl,-rpath,"$libdir" || fail "pkg-config client does not build"
"$T/client-pc" "$T/pc.msa" || fail "pkg-config client failed"
[ "$(pkg-config --modversion magassay)" = "$(sed 's/^magassay //' "$T/version")" ] ||
	fail "magassay.pc version $(pkg-config --modversion magassay) is not the program's"

# find_package
cmake -S "$SRC/tests/install/client" -B "$T/client-build" -DCMAKE_PREFIX_PATH="$P" \
	-DCMAKE_C_FLAGS="$EXTRA_CFLAGS" >"$T/client.log" 2>&1 || { cat "$T/client.log" >&2; fail "find_package(magassay)"; }
cmake --build "$T/client-build" >>"$T/client.log" 2>&1 || { cat "$T/client.log" >&2; fail "find_package client build"; }
"$T/client-build/client" "$T/cmake.msa" || fail "find_package client failed"
cmp -s "$T/pc.msa" "$T/cmake.msa" || fail "the two clients wrote different files"

# what else belongs to an install
for f in share/magassay/examples/intake-demo.sh share/magassay/examples/grades.ini \
	share/magassay/examples/profiles/sim-xrf.ini share/magassay/examples/instruments/benchtop-sdd.ini \
	share/magassay/examples/ndfeb-icp-method.ini share/magassay/examples/icp-qc-epa6010d.ini \
	share/magassay/examples/ndfeb-icp-sequence.csv share/magassay/profiles/magassay-sim-icp.ini \
	etc/magassay/magassay.conf; do
	[ -f "$P/$f" ] || fail "$f not installed"
done
[ -x "$P/share/magassay/examples/intake-demo.sh" ] || fail "the intake demo is not executable"
MAGASSAY_CONF="$P/etc/magassay/magassay.conf" MAGASSAY_DATA="$T/data" "$P/bin/magassay" list batches >/dev/null 2>&1 ||
	[ $? = 1 ] || fail "the installed configuration file is refused"
if [ -f "$BUILD/docs/magassay.1" ]; then
	[ -f "$P/share/man/man1/magassay-analyze.1" ] || fail "man pages not installed"
fi
echo "install: all checks passed"
