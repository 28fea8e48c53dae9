#!/bin/bash
# check-gen.sh — fail when gen/ (or the lifecycle pictures) differ from a fresh
# regeneration: gen/ is committed but must never be edited by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tools/gen-all.sh "$tmp/gen" "$tmp/docs" >/dev/null
status=0
diff -r gen "$tmp/gen" || status=1
diff -r docs/lifecycle "$tmp/docs" || status=1
if [ $status -ne 0 ]; then
	echo "check-gen: gen/ is stale or hand-edited; run 'make gen' and commit" >&2
	exit 1
fi
echo "check-gen: gen/ matches spec/ and proto/"
