#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# libmagassay.so exports its public API and nothing else: every dynamic symbol
# it defines starts with mg_ and is declared in a public header.
#   check_exports.sh LIBRARY SOURCE_DIR
set -euo pipefail
lib="$1" src="$2"
syms="$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWi]$/ {print $3}' | sed 's/@.*//' | sort -u)"
[ -n "$syms" ] || { echo "exports: $lib defines no dynamic symbol"; exit 1; }
bad=0
while IFS= read -r s; do
  case "$s" in
    mg_*) ;;
    *) echo "exports: $s is not in the mg_ namespace"; bad=1; continue ;;
  esac
  grep -qw -- "$s" "$src"/include/magassay/*.h || { echo "exports: $s is declared in no public header"; bad=1; }
done <<< "$syms"
n="$(wc -l <<< "$syms")"
[ "$bad" = 0 ] && echo "exports: $n symbols, all mg_ and all in include/magassay/" || exit 1
