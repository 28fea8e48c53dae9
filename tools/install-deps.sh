#!/usr/bin/env bash
# tools/install-deps.sh — install warren's build and test dependencies on a
# Debian 12 machine (run as root; `make deps` calls it). Installs what Debian 12
# has with apt, then fetches what only Debian's newer suites have (containerd
# 2.1, containerd/CRI protos) with tools/fetch-newer-debs.sh, unpacked under
# /var/cache/warren-deps (or $WARREN_DEPS_DIR) and never installed system-wide.
# Idempotent: a re-run with everything present does no network access.
set -euo pipefail

PKGS=(
	# build
	build-essential pkg-config ragel protobuf-c-compiler libprotobuf-c-dev
	protobuf-compiler libev-dev libsqlite3-dev sqlite3 libcmocka-dev
	libjson-c-dev graphviz
	# SHA-256 of containerd's address names a warrend instance
	libmd-dev
	# warren.conf (INI) parser
	libinih-dev
	# XXH3: the front's reply cache keys
	libxxhash-dev
	# google/protobuf/*.proto (any, empty, timestamp, descriptor) that the
	# containerd protos import: only a Recommends of protobuf-compiler
	libprotobuf-dev
	# sanitizers and fuzzing
	clang llvm libclang-rt-14-dev
	# test clients (CRI over gRPC)
	python3 python3-grpcio python3-grpc-tools
	# runtime and test environment (iptables: CNI portmap's nat rules)
	runc iproute2 iptables util-linux busybox-static
	# CNI plugins (bridge, host-local, loopback, portmap): containerd's CRI
	# refuses RunPodSandbox without a CNI network; tests/e2e writes a private
	# conflist, with portmap for pods' host ports
	containernetworking-plugins
	# benchmark plots (tests/bench/bench_pods.py → docs/bench/*.png)
	gnuplot-nox
	# fetching and unpacking
	ca-certificates curl xz-utils zstd file jq
)

say() { printf 'install-deps: %s\n' "$*"; }
die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

[[ $(id -u) == 0 ]] || die "must run as root (try: sudo make deps)"
if ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
	die "needs a Debian system (apt-get, dpkg-query)"
fi
# shellcheck disable=SC1091
codename=$(. /etc/os-release 2>/dev/null && printf '%s' "${VERSION_CODENAME:-}")
[[ $codename == bookworm ]] ||
	say "warning: written for Debian 12 (bookworm), this is '${codename:-unknown}'"

# Packages not yet installed ("install ok installed"; "hold ok installed" is fine too).
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${PKGS[@]}" 2>/dev/null |
	awk '$NF == "installed" {print $1}' || true)
missing=()
for p in "${PKGS[@]}"; do
	grep -qxF "$p" <<<"$installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
	say "all ${#PKGS[@]} Debian packages already installed"
else
	say "installing ${#missing[@]} package(s): ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	log=$(mktemp /tmp/warren-install-deps.XXXXXX.log)
	fail() { tail -n 20 "$log" >&2; die "$1 (full log: $log)"; }
	say "apt-get update"
	apt-get update -qq >"$log" 2>&1 || fail "apt-get update failed"
	say "apt-get install"
	apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1 ||
		fail "apt-get install failed for: ${missing[*]}"
	rm -f "$log"
	say "Debian packages installed"
fi

say "fetching packages from Debian's newer suites"
"$here/fetch-newer-debs.sh" || die "tools/fetch-newer-debs.sh failed"
say "done"
