#!/usr/bin/env bash
# tools/fetch-newer-debs.sh [DEST] — fetch the packages warren needs that only
# Debian's newer suites have (containerd 2.1.x and the Go packages carrying the
# containerd, CRI, gogo and cgroups .proto files) into DEST, without touching
# the host's apt configuration and without installing anything system-wide.
#
# It uses a private apt state (same mirror as the host's own sources, suites
# trixie/testing/sid), downloads the .debs and unpacks them with dpkg-deb -x.
#
#   DEST/apt/       private apt state: sources.list, lists, cache, status
#   DEST/debs/      the downloaded .debs
#   DEST/root/      the .debs unpacked (usr/bin/containerd, usr/share/gocode/src/...)
#   DEST/versions   "package version file" for what DEST/root holds
#   DEST/env.sh     source it: WARREN_DEPS_ROOT, WARREN_CONTAINERD, WARREN_CTR, ...
#
# DEST defaults to $WARREN_DEPS_DIR, else /var/cache/warren-deps.
# Environment:
#   WARREN_DEPS_REFRESH=1   ask the archive again even when DEST is up to date
#   WARREN_DEPS_SUITES      suites to look in (default "trixie testing sid")
#   WARREN_DEBIAN_MIRROR    mirror URI (default: read from the host's apt sources)
set -euo pipefail

PREFERRED_CONTAINERD=2.1.9      # exact upstream version we want
CONTAINERD_SERIES=2.1           # else the newest of this series
PKGS=(
	containerd
	golang-github-containerd-containerd-api-dev
	golang-k8s-cri-api-dev
	golang-github-gogo-protobuf-dev
	golang-github-containerd-cgroups-dev
)
# Files that must exist in DEST/root afterwards.
REQUIRED_FILES=(
	usr/bin/containerd
	usr/bin/ctr
	usr/bin/containerd-shim-runc-v2
	usr/share/gocode/src/github.com/containerd/containerd/api/runtime/sandbox/v1/sandbox.proto
	usr/share/gocode/src/github.com/containerd/containerd/api/runtime/task/v3/shim.proto
	usr/share/gocode/src/github.com/containerd/containerd/api/runtime/task/v2/shim.proto
	usr/share/gocode/src/github.com/containerd/containerd/api/services/ttrpc/events/v1/events.proto
	usr/share/gocode/src/github.com/containerd/containerd/api/events/task.proto
	usr/share/gocode/src/github.com/containerd/containerd/api/types/runc/options/oci.proto
	usr/share/gocode/src/github.com/containerd/cgroups/v3/cgroup1/stats/metrics.proto
	usr/share/gocode/src/github.com/containerd/cgroups/v3/cgroup2/stats/metrics.proto
	usr/share/gocode/src/k8s.io/cri-api/pkg/apis/runtime/v1/api.proto
	usr/share/gocode/src/github.com/gogo/protobuf/gogoproto/gogo.proto
)
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
SUITES=${WARREN_DEPS_SUITES:-trixie testing sid}

say() { printf 'fetch-newer-debs: %s\n' "$*"; }
die() { printf 'fetch-newer-debs: error: %s\n' "$*" >&2; exit 1; }

DEST=${1:-${WARREN_DEPS_DIR:-/var/cache/warren-deps}}
mkdir -p "$DEST" || die "cannot create $DEST"
DEST=$(cd "$DEST" && pwd)

# One run at a time per DEST.
exec 9>"$DEST/.lock"
flock 9

# Print the upstream version of ROOT/usr/bin/containerd if it runs and belongs
# to the wanted series; fail otherwise (output of a failed run goes to stderr).
containerd_version() {
	local root=$1 out v
	out=$("$root/usr/bin/containerd" --version 2>&1) || { printf '%s\n' "$out" >&2; return 1; }
	# "containerd github.com/containerd/containerd/v2 2.1.9+unknown"
	v=$(awk '{print $3}' <<<"$out")
	v=${v#v}
	v=${v%%[+-]*}
	[[ $v == "$CONTAINERD_SERIES".* ]] || { printf '%s\n' "$out" >&2; return 1; }
	printf '%s\n' "$v"
}

# True when DEST/root holds every package and all required files.
root_complete() {
	local root=$1 p f
	[[ -s $DEST/versions && -s $DEST/env.sh ]] || return 1
	for p in "${PKGS[@]}"; do grep -q "^$p " "$DEST/versions" || return 1; done
	for f in "${REQUIRED_FILES[@]}"; do [[ -e $root/$f ]] || return 1; done
}

# Fast path: nothing to do when DEST already has the preferred containerd.
if [[ ${WARREN_DEPS_REFRESH:-0} != 1 ]] && root_complete "$DEST/root" &&
	have=$(containerd_version "$DEST/root" 2>/dev/null) && [[ $have == "$PREFERRED_CONTAINERD" ]]; then
	say "up to date in $DEST (containerd $have; WARREN_DEPS_REFRESH=1 to re-check)"
	exit 0
fi

# The main Debian archive the host already uses: the first enabled "deb" source
# whose suites include the host's codename, from deb822 .sources files or from
# one-line sources.list files.
host_mirror() {
	local codename uri files=()
	# shellcheck disable=SC1091
	codename=$(. /etc/os-release 2>/dev/null && printf '%s' "${VERSION_CODENAME:-}")
	shopt -s nullglob
	files=(/etc/apt/sources.list.d/*.sources)
	if ((${#files[@]})); then
		uri=$(awk -v cn="$codename" '
			function flush() {
				gsub(/[ \t]+/, " ", suites)
				if (types ~ /(^|[ \t])deb([ \t]|$)/ && tolower(enabled) != "no" && uris != "" &&
				    (cn == "" || index(" " suites " ", " " cn " ")))
				{ split(uris, u, /[ \t]+/); print u[1] }
				types = uris = suites = enabled = ""
			}
			FNR == 1 { flush() }
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			/^[^ \t]/ {
				key = tolower($0); sub(/:.*/, "", key)
				val = $0; sub(/^[^:]*:[ \t]*/, "", val)
				if (key == "types") types = val
				else if (key == "uris") uris = val
				else if (key == "suites") suites = val
				else if (key == "enabled") enabled = val
			}
			END { flush() }' "${files[@]}" | grep -v '^cdrom:' | head -n1)
	fi
	if [[ -z ${uri:-} ]]; then
		files=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list)
		((${#files[@]})) && uri=$(cat "${files[@]}" 2>/dev/null | awk -v cn="$codename" '
			$1 == "deb" {
				i = 2
				if ($i ~ /^\[/) { while ($i !~ /\]$/ && i < NF) i++; i++ }
				if (cn == "" || $(i + 1) == cn) print $i
			}' | grep -v '^cdrom:' | head -n1)
	fi
	shopt -u nullglob
	[[ -n ${uri:-} ]] || return 1
	printf '%s\n' "${uri%/}"
}

MIRROR=${WARREN_DEBIAN_MIRROR:-}
if [[ -z $MIRROR ]]; then
	MIRROR=$(host_mirror) ||
		die "no Debian mirror found in /etc/apt/sources.list{,.d/*.sources,.d/*.list}; set WARREN_DEBIAN_MIRROR"
fi
[[ -r $KEYRING ]] || die "$KEYRING missing: install debian-archive-keyring"
ARCH=$(dpkg --print-architecture)

# Private apt state under DEST/apt.
APT_DIR=$DEST/apt
mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$APT_DIR/state" "$DEST/debs"
[[ -e $APT_DIR/status ]] || : >"$APT_DIR/status"
for s in $SUITES; do
	printf 'deb [arch=%s signed-by=%s] %s %s main\n' "$ARCH" "$KEYRING" "$MIRROR" "$s"
done >"$APT_DIR/sources.list"
APT_OPTS=(
	-o "Dir::Etc::SourceList=$APT_DIR/sources.list"
	-o Dir::Etc::SourceParts=/dev/null
	-o Dir::Etc::Preferences=/dev/null
	-o Dir::Etc::PreferencesParts=/dev/null
	-o "Dir::State=$APT_DIR/state"
	-o "Dir::State::Lists=$APT_DIR/lists"
	-o "Dir::State::status=$APT_DIR/status"
	-o "Dir::Cache=$APT_DIR/cache"
	-o Dir::Cache::pkgcache=pkgcache.bin
	-o Acquire::Check-Valid-Until=false
	-o Acquire::Languages=none
	-o APT::Get::List-Cleanup=0
)
# apt downloads as the unprivileged _apt user: let it write the .debs.
if [[ $(id -u) == 0 ]] && id _apt >/dev/null 2>&1; then chown _apt "$DEST/debs"; fi

say "updating private package lists ($SUITES from $MIRROR)"
if ! apt-get -q "${APT_OPTS[@]}" update >"$APT_DIR/update.log" 2>&1 ||
	grep -q '^[WE]: .*\(NO_PUBKEY\|not signed\|Failed to fetch\)' "$APT_DIR/update.log"; then
	tail -n 15 "$APT_DIR/update.log" >&2
	die "apt-get update of the private lists failed (log: $APT_DIR/update.log)"
fi

apt_versions() { # all versions of package $1 known to the private lists
	apt-cache "${APT_OPTS[@]}" madison "$1" | awk -F'|' '{gsub(/[ \t]/, "", $2); print $2}' | sort -u
}
apt_suites() { # suites that carry package $1 at version $2
	apt-cache "${APT_OPTS[@]}" madison "$1" |
		awk -F'|' -v v="$2" '{ver = $2; gsub(/[ \t]/, "", ver); split($3, f, " ")} ver == v {sub(/\/.*/, "", f[2]); print f[2]}' |
		sort -u | paste -sd, -
}

# Pick containerd: exactly $PREFERRED_CONTAINERD if any suite has it (newest
# Debian revision), else the newest $CONTAINERD_SERIES.x that is not a pre-release.
available=$(apt_versions containerd)
say "containerd versions available: $(paste -sd' ' - <<<"$available")"
best='' exact=''
while read -r v; do
	[[ -n $v ]] || continue
	up=${v#*:}
	up=${up%-*}
	up=${up%%[~+]*}
	[[ $up =~ ^${CONTAINERD_SERIES//./\\.}\.[0-9]+$ ]] || continue
	[[ $v =~ ~(rc|beta|alpha) ]] && continue
	if [[ $up == "$PREFERRED_CONTAINERD" ]] && { [[ -z $exact ]] || dpkg --compare-versions "$v" gt "$exact"; }; then
		exact=$v
	fi
	if [[ -z $best ]] || dpkg --compare-versions "$v" gt "$best"; then best=$v; fi
done <<<"$available"
CONTAINERD_DEB=${exact:-$best}
[[ -n $CONTAINERD_DEB ]] ||
	die "no containerd $CONTAINERD_SERIES.x in suites '$SUITES' of $MIRROR (available: $(paste -sd' ' - <<<"$available"))"
if [[ -n $exact ]]; then
	say "containerd: using $CONTAINERD_DEB from $(apt_suites containerd "$CONTAINERD_DEB") (preferred $PREFERRED_CONTAINERD)"
else
	say "containerd: $PREFERRED_CONTAINERD not available; using newest $CONTAINERD_SERIES.x: $CONTAINERD_DEB from $(apt_suites containerd "$CONTAINERD_DEB")"
fi

# Versions of the other packages: the containerd API package comes from the
# same source package, so pin it to the same version when possible; the
# others take the newest version any suite has.
SPECS=()
for p in "${PKGS[@]}"; do
	if [[ $p == containerd ]]; then
		v=$CONTAINERD_DEB
	elif [[ $p == golang-github-containerd-containerd-api-dev ]] && grep -qxF "$CONTAINERD_DEB" <(apt_versions "$p"); then
		v=$CONTAINERD_DEB
	else
		v=$(apt-cache "${APT_OPTS[@]}" policy "$p" | awk '/Candidate:/ {print $2}')
		[[ -n $v && $v != "(none)" ]] || die "package $p not found in suites '$SUITES' of $MIRROR"
		[[ $p == golang-github-containerd-containerd-api-dev ]] &&
			say "warning: $p $CONTAINERD_DEB not available, using $v"
	fi
	SPECS+=("$p=$v")
done

# File names and hashes of the wanted .debs ("'URI' file size SHA256:hash").
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && apt-get -q "${APT_OPTS[@]}" --print-uris download "${SPECS[@]}") >"$TMP/uris" ||
	die "cannot resolve ${SPECS[*]}"
[[ $(wc -l <"$TMP/uris") == "${#SPECS[@]}" ]] || die "unexpected apt-get --print-uris output: $(cat "$TMP/uris")"

# Download what DEST/debs lacks (apt skips files already there with the right
# hash, and checks the hashes of what it fetches).
missing=$(cd "$DEST/debs" && apt-get -q "${APT_OPTS[@]}" --print-uris download "${SPECS[@]}" | awk '{print $2}')
if [[ -n $missing ]]; then
	say "downloading $(paste -sd' ' - <<<"$missing")"
	(cd "$DEST/debs" && apt-get -q "${APT_OPTS[@]}" download "${SPECS[@]}") >"$APT_DIR/download.log" 2>&1 || {
		tail -n 15 "$APT_DIR/download.log" >&2
		die "apt-get download failed (log: $APT_DIR/download.log)"
	}
else
	say "all .debs already in $DEST/debs"
fi
# Drop .debs of versions no longer wanted.
for f in "$DEST/debs"/*.deb; do
	[[ -e $f ]] || continue
	awk '{print $2}' "$TMP/uris" | grep -qxF "${f##*/}" || rm -f "$f"
done

# "package version file" lines describing the wanted set.
for spec in "${SPECS[@]}"; do
	p=${spec%%=*}
	file=$(awk -v p="$p" 'index($2, p "_") == 1 {print $2}' "$TMP/uris")
	[[ -n $file ]] || die "no .deb file name for $spec"
	printf '%s %s %s\n' "$p" "${spec#*=}" "$file"
done | sort >"$TMP/versions"

# Unpack into a fresh tree unless DEST/root already holds exactly this set.
if cmp -s "$TMP/versions" "$DEST/versions" && root_complete "$DEST/root" &&
	containerd_version "$DEST/root" >/dev/null 2>&1; then
	say "$DEST/root already holds these versions"
else
	say "unpacking into $DEST/root"
	rm -rf "$DEST/root.new"
	mkdir -p "$DEST/root.new"
	while read -r _ _ file; do
		dpkg-deb -x "$DEST/debs/$file" "$DEST/root.new" || die "dpkg-deb -x $file failed"
	done <"$TMP/versions"
	for f in "${REQUIRED_FILES[@]}"; do
		[[ -e $DEST/root.new/$f ]] || die "unpacked packages lack $f"
	done
	rm -rf "$DEST/root"
	mv "$DEST/root.new" "$DEST/root"
	cp "$TMP/versions" "$DEST/versions"
fi

# The binary must run here (glibc of this host) and be the version chosen.
want_up=${CONTAINERD_DEB#*:}
want_up=${want_up%-*}
want_up=${want_up%%[~+]*}
have=$(containerd_version "$DEST/root") ||
	die "$DEST/root/usr/bin/containerd --version does not run here or is not $CONTAINERD_SERIES.x (see above)"
[[ $have == "$want_up" ]] || die "$DEST/root/usr/bin/containerd reports $have, expected $want_up"

q() { printf '%q' "$1"; }
cat >"$DEST/env.sh.new" <<EOF
# Generated by tools/fetch-newer-debs.sh: packages from Debian's newer suites,
# unpacked (not installed). Source this file.
export WARREN_DEPS_ROOT=$(q "$DEST/root")
export WARREN_CONTAINERD_VERSION=$(q "$have")
export WARREN_CONTAINERD="\$WARREN_DEPS_ROOT/usr/bin/containerd"
export WARREN_CTR="\$WARREN_DEPS_ROOT/usr/bin/ctr"
export WARREN_CONTAINERD_SHIM_RUNC_V2="\$WARREN_DEPS_ROOT/usr/bin/containerd-shim-runc-v2"
export WARREN_GOCODE_SRC="\$WARREN_DEPS_ROOT/usr/share/gocode/src"
EOF
mv "$DEST/env.sh.new" "$DEST/env.sh"

say "containerd $have ready: $DEST/root/usr/bin/{containerd,ctr,containerd-shim-runc-v2}"
say "protos under $DEST/root/usr/share/gocode/src; environment in $DEST/env.sh"
