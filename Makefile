# dicomstore — the entry points a user and CI need. See README.md.
BUILD_DIR ?= build
ASAN_DIR  ?= build-asan
JOBS      ?= $(shell nproc)
DATA      ?= ./dicomstore-data
LISTEN    ?= 127.0.0.1:8080

.PHONY: deps build run test unit-test interop-test test-asan format clean

deps:
	@bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	$(BUILD_DIR)/dicomstore serve --listen $(LISTEN) --data $(DATA)

unit-test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

interop-test: build
	cd tests/interop && npm ci --no-audit --no-fund --loglevel=error
	cd tests/interop && DICOMSTORE_BIN=$(abspath $(BUILD_DIR))/dicomstore node --test

# Every test: unit and interop on the Release build.
test: unit-test interop-test

# The same unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (Debug build).
test-asan: deps
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDICOMSTORE_SANITIZE=ON
	cmake --build $(ASAN_DIR) -j $(JOBS)
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS)

format:
	find src tests -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)

# libFuzzer targets (fuzz/README.md): clang build in build-fuzz, each target run for
# FUZZ_SECONDS, one after another. FUZZ_TARGETS picks some, e.g. FUZZ_TARGETS=json.
FUZZ_DIR     ?= build-fuzz
FUZZ_SECONDS ?= 30
FUZZ_TARGETS ?= multipart request_target label_filter json instance
FUZZ_CORPUS  ?= ../shared/corpus/dicom
.PHONY: fuzz
fuzz:
	cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_COMPILER=clang++ -DDICOMSTORE_FUZZ=ON -DDICOMSTORE_TESTS=OFF
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	ASAN_OPTIONS=allocator_may_return_null=1:max_allocation_size_mb=512 \
	  fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_CORPUS) $(FUZZ_TARGETS)

# Benchmarks against Orthanc (bench/README.md, docs/PERFORMANCE.md); not part of CI.
# bench: the full comparison (~11 min on a quiet machine) -> bench/results/latest.json; bench-quick: < 3 min,
# smaller counts, one rep -> bench/results/latest-quick.json; bench-scale: dicomstore alone
# with SCALE_INSTANCES (default 1,000,000) instances, QIDO latency and restart time.
SCALE_INSTANCES ?= 1000000
.PHONY: bench bench-quick bench-scale bench-deps
bench-deps:
	@bash bench/install-bench-deps.sh

bench: build bench-deps
	DICOMSTORE=$(abspath $(BUILD_DIR))/dicomstore bash bench/run.sh full

bench-quick: build bench-deps
	DICOMSTORE=$(abspath $(BUILD_DIR))/dicomstore bash bench/run.sh quick

bench-scale: build bench-deps
	DICOMSTORE=$(abspath $(BUILD_DIR))/dicomstore INSTANCES=$(SCALE_INSTANCES) bash bench/scale.sh
