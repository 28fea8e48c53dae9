#!/bin/bash
# gen-all.sh — regenerate everything under gen/ (and the lifecycle pictures).
#
#   spec/<name>.rl        → gen/lifecycle/<name>.{c,h} + DOCS/<name>.svg  (ragel, graphviz)
#   proto/**/<file>.proto → gen/proto/**/<file>.pb-c.{c,h}                 (protoc-c)
#   google/protobuf/{any,empty,timestamp}.proto from /usr/include (libprotobuf-dev)
#                         → gen/proto/google/protobuf/*.pb-c.{c,h}  (protobuf-c ships none)
#
# usage: tools/gen-all.sh GEN_DIR DOCS_DIR   (make gen passes gen docs/lifecycle)
set -euo pipefail
cd "$(dirname "$0")/.."
gen=${1:-gen}
docs=${2:-docs/lifecycle}
mkdir -p "$gen"
gen=$(cd "$gen" && pwd)

rm -rf "$gen/lifecycle" "$gen/proto"
mkdir -p "$gen/lifecycle" "$docs"
for spec in spec/*.rl; do
	/usr/bin/python3 tools/gen-lifecycle.py "$spec" "$gen" "$docs"
done

protos=
if [ -d proto ]; then
	protos=$(cd proto && find . -name '*.proto' | sed 's|^\./||' | sort)
fi
if [ -n "$protos" ]; then
	mkdir -p "$gen/proto"
	# proto/ first, then /usr/include for the well-known types; the three the
	# containerd protos import are compiled too, since protobuf-c ships no code
	# for them.
	wkt="google/protobuf/any.proto google/protobuf/empty.proto google/protobuf/timestamp.proto"
	(cd proto && protoc-c -I. -I/usr/include --c_out="$gen/proto" $protos $wkt)
fi
