# The two commands a new user needs: `make run` and `make test`. Each installs what it needs
# (Debian 12, apt-get, quiet when everything is there).
.PHONY: run test build deps bench clean

deps:
	@bash scripts/deps.sh

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release

# Until `leeway serve` lands, a live demonstration of `leeway check` against local targets.
run: build
	@bash scripts/demo.sh

# The whole suite, built once with AddressSanitizer and UndefinedBehaviorSanitizer.
test: deps
	@cmake --preset debug >/dev/null
	@cmake --build --preset debug
	@ctest --preset debug

bench: build
	@bash scripts/deps.sh --bench
	@bash bench/http.sh
	@bash bench/icmp.sh

clean:
	rm -rf build
