#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The Debian packages on a real system (scripts/package.sh --test; CI, as root):
#   install magassay, libmagassay0 and libmagassay-dev (apt, for their dependencies);
#   the group, the shared store (root:magassay 2770), the configuration (a conffile),
#   the udev rules where udev reads them, the man pages;
#   technician A (a member of the group) runs the intake demo from the installed
#   binary into the shared store; technician B (another member) lists A's lot,
#   measures into it and analyses it; a third user, not in the group, gets a store of
#   their own and cannot read the shared one; a client builds with pkg-config;
#   then dpkg --purge, which removes everything but a non-empty store.
# It installs packages on this machine: it refuses to run where magassay is installed
# already or /var/lib/magassay exists, and leaves the machine as it found it.
#
#   tests/package/test_deb.sh DEB_DIR
set -euo pipefail
DEBS=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
STORE=/var/lib/magassay
LOT=LOT-2026-0042
fail() { echo "FAIL: $*" >&2; exit 1; }

if [ "$(id -u)" != 0 ]; then
	echo "package test: needs root (it installs the packages on this machine): skipped"
	exit 0
fi
if dpkg-query -W -f='${Status}' magassay 2>/dev/null | grep -q "install ok"; then
	fail "magassay is installed on this machine already; this test installs and purges it: purge it first"
fi
[ ! -e "$STORE" ] || fail "$STORE exists on this machine; this test would share it: move it away first"
group_existed=0
getent group magassay >/dev/null && group_existed=1

T=$(mktemp -d /tmp/magassay-debtest.XXXXXX)
chmod 755 "$T"
cleanup() {
	dpkg --purge magassay libmagassay-dev libmagassay0 >/dev/null 2>&1 || true
	rm -rf "$STORE" "$T"
	[ "$group_existed" = 1 ] || groupdel magassay 2>/dev/null || true
}
trap cleanup EXIT

echo "== install"
debs=$(ls "$DEBS"/magassay_*.deb "$DEBS"/libmagassay0_*.deb "$DEBS"/libmagassay-dev_*.deb)
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $debs >"$T/apt.log" 2>&1 ||
	{ cat "$T/apt.log" >&2; fail "apt-get install of the packages"; }

gid=$(getent group magassay | cut -d: -f3)
[ -n "$gid" ] || fail "no magassay group after install"
[ "$(stat -c '%U:%G %a' "$STORE")" = "root:magassay 2770" ] || fail "$STORE is $(stat -c '%U:%G %a' "$STORE")"
dpkg-query -W -f='${Conffiles}\n' magassay | grep -q /etc/magassay/magassay.conf || fail "magassay.conf is not a conffile"
udevdir=$(pkg-config --variable=udevdir udev)
[ -f "$udevdir/rules.d/60-magassay.rules" ] || fail "udev rules not in $udevdir/rules.d"
# udev itself reads that folder: one of the rules directories its own binary names
rules=$(realpath "$udevdir/rules.d")
read_by_udev=0
for d in $(strings "$(command -v udevadm)" | grep -x '/[a-z/]*/udev/rules\.d'); do
	[ -d "$d" ] && [ "$(realpath "$d")" = "$rules" ] && read_by_udev=1
done
[ "$read_by_udev" = 1 ] || fail "udev does not read $rules"
man -w magassay-analyze >/dev/null || fail "man magassay-analyze: no page"
[ "$(magassay --version)" = "magassay $(dpkg-query -W -f='${Version}' magassay)" ] || fail "magassay --version"

# Users without a passwd entry: a uid, its HOME, and the groups given.
as_user() { # UID GROUPS(comma list or "") HOME CMD...
	local uid=$1 groups=$2 home=$3
	shift 3
	local g=(--clear-groups)
	[ -n "$groups" ] && g=(--groups "$groups")
	setpriv --reuid "$uid" --regid "$uid" "${g[@]}" --inh-caps=-all \
		env -i HOME="$home" USER="u$uid" PATH=/usr/bin:/bin LANG=C.UTF-8 "$@"
}
for u in 61001 61002 61003; do
	mkdir -p "$T/home-$u"
	chown "$u:$u" "$T/home-$u"
done

echo "== technician A (group magassay): the intake demo from the installed binary, into the shared store"
as_user 61001 "$gid" "$T/home-61001" env SPEED=200 PRESET=30 /usr/share/magassay/examples/intake-demo.sh --store \
	>"$T/demo.log" 2>&1 || { cat "$T/demo.log" >&2; fail "the demo as technician A"; }
grep -q "^data directory: $STORE\$" "$T/demo.log" || { tail -n 5 "$T/demo.log" >&2; fail "the demo did not use $STORE"; }
grep -q "certificate:" "$T/demo.log" || fail "the demo wrote no certificate"
[ -s "$STORE/magassay.db" ] || fail "no database in the shared store"

echo "== technician B (group magassay): the same store, A's lot"
as_user 61002 "$gid" "$T/home-61002" magassay list measurements --batch "$LOT" >"$T/b-list.txt" ||
	fail "B cannot list A's lot"
grep -q "$LOT-01" "$T/b-list.txt" || fail "B does not see A's measurements"
as_user 61002 "$gid" "$T/home-61002" magassay acquire --device 'sim:xrf?sample=ndfeb-tb&speed=500' \
	--sample "$LOT-06" --batch "$LOT" --operator B --preset-time 20 >"$T/b-acq.txt" 2>&1 ||
	{ cat "$T/b-acq.txt" >&2; fail "B cannot measure into A's lot"; }
grep -q "stored in $STORE\$" "$T/b-acq.txt" || fail "B's measurement is not in the shared store"
as_user 61002 "$gid" "$T/home-61002" magassay -q analyze "$LOT" --store --elements Fe,Co,Nd,Pr,Dy,Tb --json \
	>"$T/b-analyze.json" 2>"$T/b-analyze.err" || { cat "$T/b-analyze.err" >&2; fail "B cannot analyse the lot"; }
n=$(grep -o '"result_version"' "$T/b-analyze.json" | wc -l)
[ "$n" -ge 6 ] || fail "B analysed $n measurements of the lot, wanted 6"
bad=$(find "$STORE" ! -group magassay -print | head -n 3)
[ -z "$bad" ] || fail "not in group magassay: $bad"
bad=$(find "$STORE" \( -type f -o -type d \) ! -perm -g+rw -print | head -n 3)
[ -z "$bad" ] || fail "not group-writable: $bad"

echo "== a user not in the group: a store of their own"
as_user 61003 "" "$T/home-61003" magassay acquire --device 'sim:xrf?sample=fe&speed=500' --sample X-1 --batch X \
	--preset-time 5 >"$T/c-acq.txt" 2>&1 || { cat "$T/c-acq.txt" >&2; fail "an outsider cannot measure"; }
grep -q "stored in $T/home-61003/.local/share/magassay\$" "$T/c-acq.txt" ||
	fail "the outsider's store: $(cat "$T/c-acq.txt" | tail -n 1)"
if as_user 61003 "" "$T/home-61003" ls "$STORE" >/dev/null 2>&1; then
	fail "an outsider can read the shared store"
fi

echo "== libmagassay-dev: a client with pkg-config"
cc -std=c17 -Wall -Werror -o "$T/client" "$here/../install/client/client.c" $(pkg-config --cflags --libs magassay) ||
	fail "pkg-config client"
"$T/client" "$T/client.msa" || fail "pkg-config client run"

echo "== purge"
dpkg --purge magassay libmagassay-dev libmagassay0 >"$T/purge.log" 2>&1 || { cat "$T/purge.log" >&2; fail "purge"; }
[ ! -e /usr/bin/magassay ] || fail "/usr/bin/magassay left after purge"
[ ! -e /etc/magassay ] || fail "/etc/magassay left after purge"
[ ! -e "$udevdir/rules.d/60-magassay.rules" ] || fail "udev rules left after purge"
[ -d "$STORE" ] || fail "purge removed the store with its data"
grep -q "is kept" "$T/purge.log" || fail "purge did not say the store is kept"
echo "package test: all checks passed"
