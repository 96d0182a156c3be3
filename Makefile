# RTCC Console. `make demo` and `make test` are the two commands of the README.
.PHONY: setup demo test bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	@bash scripts/demo.sh

test: setup
	@bash scripts/test.sh

bench: setup
	@bash scripts/bench.sh

clean:
	rm -rf .venv var .pytest_cache
