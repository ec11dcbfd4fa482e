# libomni — front door. `make demo` runs the main job, `make check` all tests.
# Both install missing Debian packages first (scripts/deps.sh; apt-get runs
# only when something is missing).

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
MESON      ?= meson
PYTHON     ?= python3

.PHONY: all deps deps-check build demo check test-unit test-asan test-install \
        test-python test-node test-cli bench bench-smoke fuzz clean

all: build

deps:
	@scripts/deps.sh build

deps-check:
	@scripts/deps.sh check

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	@scripts/demo.sh $(BUILD)

check: deps-check $(BUILD)/build.ninja
	ninja -C $(BUILD)
	@$(MAKE) --no-print-directory test-unit test-cli test-python test-node test-install test-asan bench-smoke
	@echo "make check: all suites passed"

test-unit:
	$(MESON) test -C $(BUILD) --print-errorlogs

test-asan:
	@[ -f $(ASAN_BUILD)/build.ninja ] || $(MESON) setup $(ASAN_BUILD) \
	    -Db_sanitize=address,undefined -Db_lundef=false -Dnode=disabled -Dbench=false
	ninja -C $(ASAN_BUILD)
	$(MESON) test -C $(ASAN_BUILD) --print-errorlogs

test-install:
	@tests/install/check_install.sh $(BUILD)

test-cli:
	OMNI_BUILD_DIR=$(abspath $(BUILD)) $(PYTHON) -m pytest -q tests/cli

test-python:
	OMNI_BUILD_DIR=$(abspath $(BUILD)) $(PYTHON) -m pytest -q bindings/python/tests

test-node:
	OMNI_BUILD_DIR=$(abspath $(BUILD)) node --test bindings/node/test/

bench: build
	$(BUILD)/bench/omni-bench
	$(BUILD)/bench/omni-bench-template
	$(BUILD)/bench/omni-bench-inbound
	$(BUILD)/bench/omni-bench-identity
	$(BUILD)/bench/omni-bench-conversation
	$(BUILD)/bench/omni-bench-rules
	$(BUILD)/bench/omni-bench-preroute
	$(BUILD)/bench/omni-bench-outbound
	$(BUILD)/bench/omni-bench-delivery
	$(BUILD)/bench/omni-bench-push

bench-smoke:
	$(BUILD)/bench/omni-bench --smoke
	$(BUILD)/bench/omni-bench-template --smoke
	$(BUILD)/bench/omni-bench-inbound --smoke
	$(BUILD)/bench/omni-bench-identity --smoke
	$(BUILD)/bench/omni-bench-conversation --smoke
	$(BUILD)/bench/omni-bench-rules --smoke
	$(BUILD)/bench/omni-bench-preroute --smoke
	$(BUILD)/bench/omni-bench-outbound --smoke
	$(BUILD)/bench/omni-bench-delivery --smoke
	$(BUILD)/bench/omni-bench-push --smoke
	$(BUILD)/bench/omni-bench-fanout --smoke

# Coverage-guided fuzzing with libFuzzer (clang), FUZZ_SECONDS per target; new
# inputs go to $(FUZZ_BUILD)/corpus/<target>, the seeds in tests/fuzz/corpus stay.
FUZZ_SECONDS ?= 60
fuzz: deps-check
	@[ -f $(FUZZ_BUILD)/build.ninja ] || CC=clang $(MESON) setup $(FUZZ_BUILD) -Dfuzz=enabled \
	    -Db_sanitize=address,undefined -Db_lundef=false -Dnode=disabled -Dbench=false \
	    -Dc_args=-fsanitize=fuzzer-no-link
	ninja -C $(FUZZ_BUILD)
	@for f in $(FUZZ_BUILD)/tests/fuzz/fuzz_*; do \
	    [ -f $$f ] && [ -x $$f ] || continue; \
	    t=$$(basename $$f | sed 's/^fuzz_//'); \
	    echo "fuzzing $$t for $(FUZZ_SECONDS)s"; \
	    mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
	    $$f -max_total_time=$(FUZZ_SECONDS) $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t || exit 1; \
	done

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
