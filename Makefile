# Coachboard: `make run` starts the product, `make test` runs every test, `make bench`
# measures it. Each installs what it needs first (scripts/setup.sh, idempotent).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

# One target dir outside the clone, so the DuckDB C++ is compiled once per machine and
# every clone (and CI run) reuses it.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/coachboard/target
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/.tools/node_modules/.bin:$(PATH)

API_BIN := $(CARGO_TARGET_DIR)/debug/coachboard-api
DB ?= data/coachboard.duckdb
ADDR ?= 127.0.0.1:8000
ROWS ?= 1000000
ONLY ?=
# STORE=cluster: `make run` on the local ClickHouse cluster (`make cluster`) instead of $(DB).
STORE ?=

.PHONY: cluster cluster-down cluster-test audit run test setup setup-browser dashboard api release lint unit-test api-contract-test browser-test bench clean

setup:
	@scripts/setup.sh

setup-browser:
	@scripts/setup.sh --browser

dashboard: setup
	@echo "==> building the dashboard (trunk, release)"
	cargo fetch --locked   # trunk builds offline: the crates must be here first
	trunk build --release
	cp dist/index.html dist/404.html   # the deep-link fallback of Pages-style hosts
	scripts/precompress.sh dist
	@scripts/bundle-size.sh dist

# Always with its dev-dependencies, as tests and lints build it: any other combination
# resolves DuckDB's build dependencies differently and compiles its C++ again.
api:
	@echo "==> building coachboard-api (the DuckDB C++ takes ~36 min the first time on 2 cores)"
	cargo test -p coachboard-api --no-run

## release: an optimised coachboard-api with the dashboard inside; prints its path and size.
## The release profile compiles DuckDB's C++ once more, optimised (~36 min on 2 cores).
release: dashboard
	@echo "==> building the release binary"
	cargo build --release --locked -p coachboard-api
	@bin=$(CARGO_TARGET_DIR)/release/coachboard-api; \
	  echo "release binary: $$bin ($$(( $$(stat -c %s $$bin) / 1048576 )) MiB, dashboard inside)"

## run: build everything, start the API on $(DB) with demo data, serve the dashboard
## (STORE=cluster: on the local ClickHouse cluster, started first)
run: dashboard api
ifeq ($(STORE),cluster)
	$(API_BIN) --store "$$(scripts/cluster.sh up)" --addr $(ADDR) --demo --static-dir dist
else
	$(API_BIN) --db $(DB) --addr $(ADDR) --demo --static-dir dist
endif

## cluster: ZooKeeper and a 2-shard x 2-replica ClickHouse cluster on loopback (Debian's
## packages, installed if missing); prints the --store URL. cluster-down stops it.
cluster:
	@scripts/cluster.sh up

cluster-down:
	@scripts/cluster.sh down

## cluster-test: the API suite on a fresh cluster started (and removed) for the run, and
## both stores compared endpoint by endpoint
cluster-test: api
	@echo "==> the API tests again, on a real ClickHouse cluster"
	scripts/cluster-test.sh

## test: formatting, lints, every native test, schemathesis, then browser tests in headless Chromium
test: setup-browser dashboard api lint unit-test cluster-test api-contract-test browser-test

lint:
	@echo "==> cargo fmt --check and clippy"
	cargo fmt --all -- --check
	cargo clippy -p coachboard-contract --all-targets -- -D warnings
	cargo clippy -p coachboard-api --all-targets -- -D warnings
	cargo clippy -p coachboard --all-targets -- -D warnings
	cargo clippy -p coachboard-bench --all-targets -- -D warnings
	cargo clippy -p coachboard --target wasm32-unknown-unknown -- -D warnings

unit-test:
	@echo "==> native tests (API against real DuckDB files, contract, dashboard logic)"
	cargo test -p coachboard-contract --no-fail-fast
	cargo test -p coachboard-api --no-fail-fast
	cargo test -p coachboard --lib --no-fail-fast
	cargo test -p coachboard-bench --no-fail-fast   # the report's target marks

api-contract-test:
	@echo "==> schemathesis: the live API against its OpenAPI document"
	scripts/schemathesis.sh $(API_BIN)

browser-test:
	@echo "==> browser tests: the built dashboard in headless Chromium against the real API"
	trunk build --release --public-url /tools/coach/ --dist target/dist-subpath
	scripts/precompress.sh target/dist-subpath
	COACHBOARD_API_BIN=$(API_BIN) COACHBOARD_DIST=$(CURDIR)/dist COACHBOARD_DIST_SUBPATH=$(CURDIR)/target/dist-subpath \
	  cargo test -p coachboard --test browser -- --test-threads=1

## bench: Coachboard against the note's FastAPI system (ROWS=10000000 for 10M; ONLY=writers,
## reads, ingest or dashboard for one section; STORE=cluster adds the ClickHouse store's figures
## on the same events, from the local cluster)
bench: setup-browser dashboard api
	STORE=$(STORE) bench/run.sh $(ROWS) $(ONLY)

## audit: Lighthouse 12 scores of the dashboard on ROWS events, served by coachboard-api and by
## a plain static host without compression, as a throttled phone and as a desktop (printed).
audit: setup-browser dashboard api
	API_BIN=$(API_BIN) scripts/audit.sh $(ROWS)

clean:
	rm -rf dist data .tools
