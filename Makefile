# Thin wrapper over CMake presets. Every target installs missing Debian packages first.
.PHONY: all deps build debug run test bench bench-unpack bench-scan bench-equiv bench-portal fuzz format tidy clean install package

JOBS ?= $(shell nproc)
# ccache keys on paths relative to the checkout, so clones and worktrees share one cache.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
DEMO_DIR := build/demo

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

debug: deps
	@cmake --preset debug >/dev/null
	@cmake --build --preset debug -j $(JOBS)

# Installs the release build under PREFIX: bin/clearbox, share/clearbox (data), man page,
# bash completion. `make package` builds the Debian package build/package/clearbox_*.deb.
PREFIX ?= /usr/local
install: build
	@cmake --install build/release --prefix $(PREFIX)

package: build
	@cd build/release && cpack -G DEB -B $(CURDIR)/build/package

# The main job on the built-in demo image (made by a script from real tools).
run: build
	@bash scripts/make-demo-image.sh $(DEMO_DIR)
	@rm -rf $(DEMO_DIR)/out
	SOURCE_DATE_EPOCH=1700000000 ./build/release/src/cli/clearbox scan $(DEMO_DIR)/router.bin -o $(DEMO_DIR)/out; \
	  rc=$$?; echo "exit code $$rc"; test $$rc -eq 0 -o $$rc -eq 3

# The whole suite, built with AddressSanitizer and UndefinedBehaviorSanitizer.
# The .debs of the signature test (tests/debian) and the browser test's playwright-core
# (tests/browser) are downloaded first; the tests never use the network.
TEST_DEBS ?= $(CURDIR)/.cache/test-debs
test: debug
	@bash scripts/fetch-test-debs.sh $(TEST_DEBS)
	@bash scripts/install-node-deps.sh
	@cd build/debug && CLEARBOX_TEST_DEBS=$(TEST_DEBS) CLEARBOX_CACHE_DIR=$(CURDIR)/build/debug/test-cache ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 600

bench: bench-unpack bench-scan bench-equiv

bench-unpack: build
	@bash bench/unpack_router.sh
	@BENCH_DIR=build/bench-vendor PROFILE=vendor ROOTFS_MB=180 bash bench/unpack_router.sh

bench-scan: build
	@bash bench/scan_router.sh

# Concurrent appends through the portal's audit trail (group commit); then the portal on
# PostgreSQL with 1, 2 and 4 worker processes: 50 concurrent uploads, one worker killed
# mid-job; then again with PostgreSQL killed and restarted mid-run (~15 min).
bench-portal: build
	@cmake -S . -B build/release -DCLEARBOX_BENCH=ON >/dev/null
	@cmake --build build/release -j $(JOBS) --target audit_append_bench
	@build/release/bench/audit_append_bench build/bench-portal/audit 3 1,8,64,256
	@python3 bench/portal_load.py
	@python3 bench/portal_load.py --workers 2k --restart-db --dir build/bench-portal-restart

# clearbox equiv against diffoscope on two builds of a generated rootfs (~30 min, diffoscope).
bench-equiv: build
	@bash bench/equiv_rootfs.sh

fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)
	@JOBS=$(JOBS) bash scripts/run-fuzzers.sh build/fuzz $(FUZZ_SECONDS)

format:
	@find src tests fuzz bench -name '*.cpp' -o -name '*.hpp' | xargs clang-format -i

tidy: build
	@find src -name '*.cpp' ! -name '*_test.cpp' | xargs clang-tidy -p build/release --quiet

clean:
	@rm -rf build
