# The two commands a new user needs: `make run` and `make test`. Each installs what it needs
# (Debian 12, apt-get, quiet when everything is there).
.PHONY: run test build deps bench fuzz clean

deps:
	@bash scripts/deps.sh

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release

# leeway serve on SQLite with the quickstart config, watching a local demo service. Builds only
# the leeway binary (not the tests and benchmarks).
run: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release --target leeway
	@bash scripts/run.sh

# The formatting check (scripts/format.sh applies .clang-format), then the whole suite, built once with AddressSanitizer and UndefinedBehaviorSanitizer; the store
# tests start their own PostgreSQL server (initdb in a temporary folder, a loopback port). Then
# the threaded modules' tests (ingest, store, schedule, http, daemon) again under ThreadSanitizer.
test: deps
	@bash scripts/format.sh --check
	@cmake --preset debug >/dev/null
	@cmake --build --preset debug
	@ctest --preset debug
	@cmake --preset tsan >/dev/null
	@cmake --build --preset tsan
	@TSAN_OPTIONS=halt_on_error=1 ctest --preset tsan

bench: build
	@bash scripts/deps.sh --bench
	@bash bench/http.sh
	@bash bench/icmp.sh
	@bash bench/ingest.sh
	@bash bench/agent.sh
	@bash bench/agent_memory.sh
	@bash bench/detector.sh
	@bash bench/scale.sh
	@bash bench/slo.sh
	@bash bench/sla.sh

# Each fuzz/<name>_fuzz target under libFuzzer for FUZZ_SECONDS (default 60); new inputs go to
# build/fuzz/corpus/<name>, crashes to build/fuzz/crash-*. Save a crash under fuzz/corpus/<name>/
# once fixed: `make test` replays that folder.
FUZZ_SECONDS ?= 60
fuzz:
	@bash scripts/deps.sh --fuzz
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz --target fuzzers
	@for bin in build/fuzz/fuzz/*_fuzz; do \
	  name=$$(basename $$bin _fuzz); mkdir -p build/fuzz/corpus/$$name; \
	  $$bin -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=build/fuzz/ build/fuzz/corpus/$$name \
	    fuzz/corpus/$$name $$(ls -d tests/$$name/data/cases 2>/dev/null) || exit 1; \
	done

clean:
	rm -rf build
