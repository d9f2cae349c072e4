#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The magassay command's store when the user does not say (docs/install.md#the-store):
# the configuration file's data_dir ($MAGASSAY_CONF names the file here), overridden by
# $MAGASSAY_DATA and --data-dir; a broken configuration is an error naming its line;
# in a shared data directory (set-group-ID, group-writable) the store's files and folders
# are made group-writable, whatever the technician's umask.
set -euo pipefail
MAGASSAY="$1"
T=$(mktemp -d /tmp/magassay-store-location.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
unset MAGASSAY_DATA MAGASSAY_DB XDG_DATA_HOME
export HOME="$T/home"
mkdir -p "$HOME"

# the data directory a command used, from acquire's JSON events
acquire_dir() {
	"$MAGASSAY" acquire --device 'sim:xrf?sample=fe&speed=1000' --sample "$1" --batch LOC \
		--preset-time 2 --json "${@:2}" | sed -n 's/.*"data_dir": *"\([^"]*\)".*/\1/p' | tail -n 1
}

printf '[store]\ndata_dir = %s\n' "$T/lab" >"$T/magassay.conf"
export MAGASSAY_CONF="$T/magassay.conf"
d=$(acquire_dir S1) || fail "acquire with the configuration's data_dir"
[ "$d" = "$T/lab" ] || fail "the configuration's data_dir should be used, got '$d'"
d=$(MAGASSAY_DATA="$T/env" acquire_dir S2) || fail "acquire with MAGASSAY_DATA"
[ "$d" = "$T/env" ] || fail "\$MAGASSAY_DATA should beat the configuration, got '$d'"
d=$(MAGASSAY_DATA="$T/env" acquire_dir S3 --data-dir "$T/opt") || fail "acquire with --data-dir"
[ "$d" = "$T/opt" ] || fail "--data-dir should beat \$MAGASSAY_DATA, got '$d'"

# no configuration file: the per-user default (no shared store in this build's prefix for us)
export MAGASSAY_CONF="$T/absent.conf"
d=$(acquire_dir S4) || fail "acquire without a configuration"
case "$d" in
"$HOME/.local/share/magassay" | /*/lib/magassay) ;;
*) fail "without a configuration the per-user default (or the shared store) should be used, got '$d'" ;;
esac

# a broken configuration stops every command that opens the store, with the file and line
printf '[store]\n# ok\ndatadir = /x\n' >"$T/broken.conf"
if out=$(MAGASSAY_CONF="$T/broken.conf" "$MAGASSAY" list batches 2>&1); then
	fail "a broken configuration was accepted"
else
	rc=$?
fi
[ "$rc" = 1 ] || fail "a broken configuration should exit 1, got $rc"
grep -q "$T/broken.conf line 3: unknown key 'datadir'" <<<"$out" || fail "message: $out"

# a shared data directory: group-writable files and folders, whatever the umask
mkdir "$T/shared"
chmod 2770 "$T/shared"
(umask 022 && MAGASSAY_CONF="$T/absent.conf" acquire_dir SH1 --data-dir "$T/shared" >/dev/null) ||
	fail "acquire into a shared folder"
bad=$(find "$T/shared" \( -type f -o -type d \) ! -perm -g+rw -print)
[ -z "$bad" ] || fail "not group-writable in a shared data directory: $bad"
# and an ordinary one keeps the umask's modes
(umask 022 && MAGASSAY_CONF="$T/absent.conf" acquire_dir P1 --data-dir "$T/private" >/dev/null) ||
	fail "acquire into a private folder"
[ -z "$(find "$T/private" -perm -g+w -print)" ] || fail "group-writable files in a private data directory"
echo "store location: all checks passed"
