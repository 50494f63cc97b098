# Pincer: the two commands a newcomer needs are `make run` and `make test`.
PRESET ?= release
BUILD_DIR := build/$(PRESET)
PINCER := $(BUILD_DIR)/pincer
# Debian's python3 (its pytest/requests come from apt, not PyPI).
PYTHON ?= /usr/bin/python3

.PHONY: all deps configure build run test docker unit functional fuzz fuzz-smoke bench bench-agent-loop \
	bench-sandbox bench-chat bench-all format clean

all: build

deps:
	@./scripts/install-deps.sh

configure: deps
	@cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build --preset $(PRESET)

## Start the server on embedded defaults (SQLite in ./data, local sandbox, port 8080).
run: build
	$(PINCER) serve --log-format pretty

## Unit tests, functional tests against the real binary, and a short fuzz run.
test: build
	@$(MAKE) --no-print-directory docker unit functional fuzz-smoke

## A running Docker engine and the sandbox image (for the docker runtime's tests).
docker:
	@./scripts/ensure-docker.sh

unit:
	ctest --preset $(PRESET) -j2 --output-on-failure

functional:
	PINCER_BIN=$(abspath $(PINCER)) $(PYTHON) -m pytest -q tests/functional

fuzz:
	@cmake --preset fuzz >/dev/null && cmake --build --preset fuzz

fuzz-smoke: fuzz
	@./scripts/fuzz-smoke.sh build/fuzz

bench: build
	@./bench/run.sh $(PINCER)

## The agent-loop, sandbox and chat benchmarks (bench/README.md), JSON into bench/results/.
## BENCH_ARGS=--quick for small sizes. bench-sandbox measures docker too when the daemon and
## the image are there (make docker).
bench-agent-loop: build
	$(PYTHON) bench/agent_loop.py $(PINCER) $(BENCH_ARGS)

bench-sandbox: build
	$(PYTHON) bench/sandbox.py $(PINCER) $(BENCH_ARGS)

bench-chat: build
	$(PYTHON) bench/chat.py $(PINCER) $(BENCH_ARGS)

## Every benchmark, one after the other.
bench-all: bench bench-agent-loop bench-sandbox bench-chat

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	rm -rf build
