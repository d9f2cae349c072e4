#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# magassay analyze on store ids: a batch id resolves to its measurements'
# spectra, --store saves each result as the next version (old ones kept).
set -euo pipefail
MAGASSAY="$1"
D=$(mktemp -d /tmp/magassay-analyze-store.XXXXXX)
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for s in S1 S2; do
	"$MAGASSAY" acquire --device 'sim:xrf?sample=ndfeb-dy&speed=500' --sample "LOT9-$s" --batch LOT9 \
		--preset-time 20 --data-dir "$D" >/dev/null 2>&1 || fail "acquire $s"
done

out=$("$MAGASSAY" analyze LOT9 --store --data-dir "$D" --json)
n=$(echo "$out" | /usr/bin/python3 -c 'import json,sys; a=json.load(sys.stdin); print(len(a))')
[ "$n" = 2 ] || fail "batch LOT9 should give 2 spectra, got $n"
echo "$out" | /usr/bin/python3 -c '
import json,sys
a=json.load(sys.stdin)
for o in a:
    assert o["result_version"]==1, o.get("result_version")
    assert o["measurement_id"]>0
    dy=[f for f in o["families"] if f["element"]=="Dy"][0]
    assert dy["status"]=="ok" and dy["area"]>0, dy
' || fail "first analysis"

# again: version 2, version 1 still there
out=$("$MAGASSAY" analyze LOT9-S1 --store --data-dir "$D" --json)
echo "$out" | /usr/bin/python3 -c 'import json,sys; a=json.load(sys.stdin); assert len(a)==1 and a[0]["result_version"]==2' \
	|| fail "second analysis should be version 2"
mid=$(echo "$out" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["measurement_id"])')
"$MAGASSAY" show "$mid" --data-dir "$D" --json | /usr/bin/python3 -c '
import json,sys
o=json.load(sys.stdin)
s=json.dumps(o)
assert "\"version\": 1" in s and "\"version\": 2" in s, s[:400]
' || fail "show should list result versions 1 and 2"

# an unknown id is reported like a missing file, exit 1
if "$MAGASSAY" analyze NO-SUCH-ID --data-dir "$D" >/dev/null 2>&1; then fail "unknown id accepted"; fi
echo "1 passed, 0 failed"
