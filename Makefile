# Makefile — builds warren, regenerates gen/, runs the tests and benchmarks.
#
#   make deps          install build and test dependencies (Debian 12, as root)
#   make               build everything into build/ (binaries in build/bin/)
#   make run           build, then the quick start: a private containerd running a
#                      warren pod, left up (tools/quickstart.py down removes it)
#   make test          build with ASan+UBSan into build/asan/ and run the whole suite
#   make gen           regenerate gen/ from spec/ and proto/
#   make check-gen     fail if gen/ differs from a fresh regeneration
#   make bench         pods: warren-ns against the runc shim (docs/bench/)
#   make bench-core    lifecycle engine throughput and journal latency
#   make fuzz          libFuzzer over ttrpc frame/request decoding (FUZZ_TIME=60 s)
#   make install PREFIX=/usr/local DESTDIR=
#
# Layout conventions (so new files need no Makefile edit):
#   src/<module>/*.c      → linked into libwarren.a (except src/daemon/ mains)
#   backends/<name>/*.c   → linked into libwarren.a
#   gen/**/*.c            → linked into libwarren.a
#   src/daemon/<bin>.c    → one binary each, build/bin/<bin> (warren-pidns-holder
#                           has its own rule: static, nothing linked in)
#   tests/unit/test_*.c   → one cmocka binary each
#   tests/model/test_*.c, tests/crash/*.c → see their rules below

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
SANITIZE ?= 0

CC      ?= cc
PKGS    := sqlite3 libprotobuf-c json-c libmd inih libxxhash
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lev
# -Ulinux: GNU C predefines `linux`; CRI's PodSandboxConfig has a field of that name
CPPFLAGS += -D_GNU_SOURCE -Ulinux -Isrc -Igen -Igen/proto -I. $(PKG_CFLAGS)
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -fno-strict-aliasing
LDLIBS  += $(PKG_LIBS) -lm
# each binary loads only the libraries it uses: the shim runs once per pod
LDFLAGS += -Wl,--as-needed
ifeq ($(SANITIZE),1)
CFLAGS  += -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

VERSION := 0.1.0
CPPFLAGS += -DWARREN_VERSION='"$(VERSION)"'

LIB_SRCS := $(sort $(filter-out src/daemon/%,$(wildcard src/*/*.c)) $(wildcard backends/*/*.c) \
              $(shell find gen -name "*.c" 2>/dev/null))
BIN_SRCS := $(wildcard src/daemon/*.c)
BINS     := $(patsubst src/daemon/%.c,$(BUILD)/bin/%,$(BIN_SRCS))
LIB      := $(BUILD)/libwarren.a
OBJ       = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
MODEL_SRCS := $(wildcard tests/model/test_*.c)
TEST_BINS  := $(patsubst tests/%.c,$(BUILD)/tests/%,$(UNIT_SRCS) $(MODEL_SRCS)) \
              $(BUILD)/tests/crash/crash_driver $(BUILD)/tests/bench/bench_core
TEST_SUPPORT := $(wildcard tests/support/*.c)

.SECONDARY:
.PHONY: all deps gen check-gen test test-run run e2e bench bench-core install uninstall clean
all: $(BINS) $(LIB) $(BUILD)/bin/containerd-shim-warren-ns-v2

# The shim binary's name picks the backend of a new sandbox (DESIGN §1).
SHIM_ALIASES := containerd-shim-warren-ns-v2
$(BUILD)/bin/containerd-shim-warren-ns-v2: $(BUILD)/bin/containerd-shim-warren-v2
	ln -sf containerd-shim-warren-v2 $@

deps:
	tools/install-deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(call OBJ,$(LIB_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/obj/src/daemon/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

# The pid namespace holder runs once per shared-PID pod for the pod's whole
# life: static, no sanitizer, no libwarren and, on x86-64, no C library, so
# it costs only its own two pages (its header says how much).
HOLDER_CFLAGS  := -std=gnu11 -Wall -Wextra -Werror -Os -g -fno-stack-protector \
                  -fno-asynchronous-unwind-tables
HOLDER_LDFLAGS := -static $(if $(filter x86_64-%,$(shell $(CC) -dumpmachine)),-nostdlib)
$(BUILD)/bin/warren-pidns-holder: src/daemon/warren-pidns-holder.c
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE $(HOLDER_CFLAGS) $(HOLDER_LDFLAGS) $< -o $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(call OBJ,$(TEST_SUPPORT)) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -lcmocka -o $@

# ---- generated code -------------------------------------------------------
gen:
	tools/gen-all.sh gen docs/lifecycle

check-gen:
	tools/check-gen.sh

# ---- tests -----------------------------------------------------------------
test:
	tools/check-gen.sh
	$(MAKE) BUILD=build/asan SANITIZE=1 test-run
	$(MAKE) fuzz FUZZ_TIME=20

test-run: $(BINS) $(TEST_BINS)
	tools/run-tests.sh $(BUILD)

# The quick start: a private containerd 2.1.9 with the warren-ns handler and a
# small pod, left running (tools/quickstart.py; `down` removes everything).
run: all
	/usr/bin/python3 tools/quickstart.py up --bin-dir $(CURDIR)/$(BUILD)/bin

# End-to-end with a private containerd 2.1.9 (root; part of make test, there
# against the sanitizer build): tests/e2e/run.py, see its header.
e2e: all
	WARREN_SHIM=$(CURDIR)/$(BUILD)/bin/containerd-shim-warren-v2 /usr/bin/python3 tests/e2e/run.py --runtime warren-ns

# warren-ns against the stock runc shim through one private containerd
# (root, ~8 min; --quick via BENCH_ARGS): writes docs/bench/<date>.{md,png,json}
# and prints the ratios last.
BENCH_ARGS ?=
bench: all
	/usr/bin/python3 tests/bench/bench_pods.py $(BENCH_ARGS)

bench-core:
	$(MAKE) BUILD=build $(BUILD)/tests/bench/bench_core
	build/tests/bench/bench_core

# ---- fuzzing (clang + libFuzzer; Debian: libclang-rt-14-dev) ---------------
FUZZ_CC   ?= clang
FUZZ_TIME ?= 60
.PHONY: fuzz
fuzz: build/fuzz/fuzz_ttrpc
	@mkdir -p build/fuzz/corpus
	build/fuzz/fuzz_ttrpc -max_total_time=$(FUZZ_TIME) -print_final_stats=1 build/fuzz/corpus tests/fuzz/corpus

build/fuzz/fuzz_ttrpc: tests/fuzz/fuzz_ttrpc.c src/ttrpc/frame.c src/ttrpc/frame.h src/core/error.c gen/proto/ttrpc/ttrpc.pb-c.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-D_GNU_SOURCE -Isrc -Igen -Igen/proto -I. \
		tests/fuzz/fuzz_ttrpc.c src/ttrpc/frame.c src/core/error.c gen/proto/ttrpc/ttrpc.pb-c.c \
		$$(pkg-config --cflags --libs libprotobuf-c) -o $@

# ---- install ---------------------------------------------------------------
# Installed: the binaries (and the shim's per-backend names), warren.conf
# (kept if one exists: it may hold the operator's settings), the containerd
# drop-in, the systemd unit and the docs.
SYSCONFDIR     ?= /etc
SYSTEMDUNITDIR ?= /etc/systemd/system
DOCDIR         ?= $(PREFIX)/share/doc/warren
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SYSCONFDIR)/warren \
		$(DESTDIR)$(SYSCONFDIR)/containerd/conf.d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(DOCDIR)
	for b in $(BINS); do install -m 0755 $$b $(DESTDIR)$(PREFIX)/bin/; done
	for n in $(SHIM_ALIASES); do ln -sf containerd-shim-warren-v2 $(DESTDIR)$(PREFIX)/bin/$$n; done
	test -e $(DESTDIR)$(SYSCONFDIR)/warren/warren.conf || \
		install -m 0644 src/daemon/warren.conf $(DESTDIR)$(SYSCONFDIR)/warren/warren.conf
	install -m 0644 src/daemon/containerd-warren.toml $(DESTDIR)$(SYSCONFDIR)/containerd/conf.d/warren.toml
	sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@DOCDIR@|$(DOCDIR)|g' src/daemon/warrend.service.in \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/warrend.service
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/

uninstall:
	for b in $(notdir $(BINS)) $(SHIM_ALIASES); do rm -f $(DESTDIR)$(PREFIX)/bin/$$b; done
	rm -f $(DESTDIR)$(SYSCONFDIR)/warren/warren.conf $(DESTDIR)$(SYSCONFDIR)/containerd/conf.d/warren.toml \
		$(DESTDIR)$(SYSTEMDUNITDIR)/warrend.service $(DESTDIR)$(DOCDIR)/README.md
	-rmdir $(DESTDIR)$(SYSCONFDIR)/warren $(DESTDIR)$(DOCDIR) 2>/dev/null

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
