# Parley: `make run` and `make test` do all set-up on a fresh Debian 12 machine.
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan

.PHONY: all deps build web run demo test test-unit test-asan bench bench-quick bench-api bench-voice fuzz format clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja web/dist/index.html
	cmake --build $(BUILD) -j $(JOBS)

# The web UI (web/, docs/web.md): type-checked and bundled by Vite into web/dist, rebuilt only when
# one of its sources changed.
WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) web/index.html web/package.json \
  web/package-lock.json web/tsconfig.json web/vite.config.ts
web: deps web/dist/index.html
web/dist/index.html: $(WEB_SOURCES)
	cd web && npm run build

# `make run`: the server and the web UI on the bundled demo configuration, data in ./data, on
# http://127.0.0.1:8080, in demo mode (synthetic customers and bot agents, docs/operations.md);
# the first start prints the demo logins and their generated passwords.
# `make demo` plays a scripted scenario through the real ACD and prints every decision.
run: build
	./$(BUILD)/parley serve --web web/dist --demo

demo: build
	./$(BUILD)/parley demo

test: deps
	@bash scripts/test.sh

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	CC=clang CXX=clang++ cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DPARLEY_SANITIZE=ON -DPARLEY_CORE_ONLY=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	./$(BUILD)/bench/acd_bench
	./$(BUILD)/bench/sim_bench
	./$(BUILD)/bench/store_bench
	./$(BUILD)/bench/media_bench

bench-quick: build
	./$(BUILD)/bench/acd_bench --quick
	./$(BUILD)/bench/sim_bench --quick
	./$(BUILD)/bench/store_bench --quick

# The HTTP API under load next to nginx (wrk; server and nginx on CPU 0, wrk on CPU 1). Not part
# of `bench`: it needs two free cores for ~40 s. BENCH_API_FLAGS=--quick for 3 s per endpoint.
bench-api: build
	PARLEY_BIN=$(BUILD)/parley ./bench/api_bench $(BENCH_API_FLAGS)

# Voice: call setups per second through Parley next to Kamailio (installed with apt-get on
# demand), and media forwarding and recording next to a minimal relay (bench/voice_bench; docs/
# voice.md). Not part of `bench`: it needs both cores for about half an hour.
# BENCH_VOICE_FLAGS=--quick for a few seconds per step.
bench-voice: build
	PARLEY_BIN=$(BUILD)/parley ./bench/voice_bench $(BENCH_VOICE_FLAGS)

# Long fuzzing runs (not part of `make test`, which replays the corpora): FUZZ_SECONDS each.
FUZZ_SECONDS ?= 60
FUZZ_BUILD ?= build-fuzz
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DPARLEY_SANITIZE=ON -DPARLEY_CORE_ONLY=ON -DPARLEY_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target config_fuzzer forecast_fuzzer distribution_fuzzer rtp_fuzzer
	for f in config forecast distribution rtp; do \
	  mkdir -p $(FUZZ_BUILD)/corpus-$$f && \
	  $(FUZZ_BUILD)/tests/fuzz/$${f}_fuzzer -max_total_time=$(FUZZ_SECONDS) \
	    $(FUZZ_BUILD)/corpus-$$f tests/fuzz/corpus/$$f || exit 1; \
	done

format:
	find src bench tests -name '*.cc' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) web/dist
