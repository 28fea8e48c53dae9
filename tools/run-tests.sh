#!/bin/bash
# run-tests.sh — run every test binary of a build and summarise.
#
# usage: tools/run-tests.sh BUILD_DIR
# Runs the cmocka unit and model tests, the proto compatibility check
# (tools/check-protos.py), the crash test, then the end-to-end suite with a
# private containerd (tests/e2e/run.py, needs root).  Under the
# sanitizer build any ASan/UBSan/LSan report aborts the binary (the Makefile
# builds with -fno-sanitize-recover=all), which counts as a failure here.
# Ends with the plain line "N passed, N failed".
set -uo pipefail
build=${1:-build}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0
failed=0
failures=()

run() {
	local name=$1
	shift
	echo "=== $name"
	local start=$SECONDS
	if "$@"; then
		passed=$((passed + 1))
		echo "--- ok: $name ($((SECONDS - start)) s)"
	else
		failed=$((failed + 1))
		failures+=("$name")
		echo "--- FAILED: $name ($((SECONDS - start)) s)"
	fi
}

for t in "$build"/tests/unit/test_* "$build"/tests/model/test_*; do
	[ -x "$t" ] || continue
	run "$(basename "$t")" "$t"
done
run protos /usr/bin/python3 tools/check-protos.py
run crash "$build/tests/crash/crash_driver" test
# the real containerd 2.1.9 driving this build's shim and warrend
run e2e env WARREN_SHIM="$(cd "$build" && pwd)/bin/containerd-shim-warren-v2" \
	/usr/bin/python3 tests/e2e/run.py --runtime warren-ns

echo
for f in "${failures[@]}"; do
	echo "failed: $f"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
