# SPDX-License-Identifier: BSD-3-Clause
# Front door for newcomers and CI. Real build logic lives in meson.build.

BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 600
MESON_OPTS ?= -Dwerror=true

.PHONY: all deps build test test-format test-unit test-sanitize test-fuzz fuzz fuzz-build \
	bench bench-control run soak clean

all: build

deps:
	scripts/install-deps.sh test

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Everything CI runs: the C sources against .clang-format, the release
# build's tests, then the tests again under AddressSanitizer and
# UndefinedBehaviorSanitizer, and the libFuzzer targets for 30 s each
# after their committed corpora.
test: deps
	$(MAKE) test-format test-unit test-sanitize test-fuzz

C_SOURCES = $(shell git ls-files '*.c' '*.h' 2>/dev/null || \
	find app lib tests bench -name '*.[ch]')

test-format:
	@clang-format --dry-run -Werror $(C_SOURCES)
	@echo "clang-format: $(words $(C_SOURCES)) files as .clang-format says"

# then every configured key looked for in what every test printed
test-unit: build
	meson test -C $(BUILD) -v --num-processes 1
	tests/keys_in_log.sh $(BUILD)/meson-logs/testlog.txt

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) $(MESON_OPTS) -Dbuildtype=debug \
		-Db_sanitize=address,undefined -Db_lundef=false -Db_lto=false \
		-Dc_args=-fno-sanitize-recover=all

test-sanitize: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		meson test -C $(ASAN_BUILD) -v --num-processes 1 --no-suite interop
	tests/keys_in_log.sh $(ASAN_BUILD)/meson-logs/testlog.txt

# libFuzzer targets (tests/fuzz/README.md), clang with ASan and UBSan.
$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dwerror=true -Dfuzz=true \
		-Dbuildtype=debugoptimized -Db_lundef=false -Db_lto=false

fuzz-build: $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD) fuzz

# Each target's committed corpus as a regression, then 30 s of fuzzing.
test-fuzz: fuzz-build
	tests/fuzz/run.sh $(FUZZ_BUILD) 30

# Each target for FUZZ_SECONDS (600), one at a time, into
# $(FUZZ_BUILD)/fuzz-out/<target>/; any crash fails it.
fuzz:
	scripts/install-deps.sh fuzz
	$(MAKE) fuzz-build
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# espgw beside DPDK's ipsec-secgw, l3fwd and the raw cipher, in one run,
# with instructions per packet under callgrind, into docs/performance.md
# (30 to 50 minutes; root sets up hugepages).
# CONTROL=1 adds the control-plane benchmark (bench-control) after it.
bench:
	scripts/install-deps.sh bench
	$(MAKE) build
	/usr/bin/python3 bench/run.py --profile
	scripts/perf-doc.sh
	if [ "$(CONTROL)" = 1 ]; then $(MAKE) bench-control; fi

# The control plane under a forwarding worker: commands/s through the
# control socket, reply-to-data-plane time, forwarding under churn, and
# Linux's ip xfrm rates in the tests/interop qemu peer, into the
# "Control plane" section of docs/performance.md (3 to 8 minutes;
# CTL_OPTS=--quick: about 2). bench/ctl.py --help lists the knobs.
bench-control:
	$(MAKE) build
	/usr/bin/python3 bench/ctl.py --doc $(CTL_OPTS)

# The gateway's main job on a self-contained default: two espgw gateways
# in network namespaces, a ping through the tunnel, their counters.
run:
	scripts/install-deps.sh run
	$(MAKE) build
	scripts/demo.sh

# Two gateways under traffic, hostile frames and rekeys every 5 s for
# SOAK_SECONDS (default 1800), as root; not part of test
# (docs/reliability.md). SOAK_OPTS: more of tests/soak/run.py's options.
SOAK_SECONDS ?= 1800
soak:
	scripts/install-deps.sh soak
	$(MAKE) build
	/usr/bin/python3 tests/soak/run.py --seconds $(SOAK_SECONDS) $(SOAK_OPTS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
