# sessionkit: one Go module per folder, tied together by go.work.
# Every target loops over the module folders, so a new module is picked up
# as soon as its go.mod exists.

SHELL := /bin/bash
MODULES := $(patsubst %/go.mod,%,$(sort $(wildcard */go.mod)))
FUZZTIME ?= 10s
BENCHTIME ?= 1s
BENCHCOUNT ?= 3
LOADTIME ?= 5s
LOADCLIENTS ?= 32
BENCH_MACHINE ?= $(shell nproc)-core$(shell grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2), $(shell go env GOVERSION)

# staticcheck and gocyclo are pinned in .ci/staticcheck and .ci/complexity
# and run with `go run pkg@version` (fetched from the module proxy and built
# once into the build cache); `make lint STATICCHECK=path GOCYCLO=path` runs
# prebuilt binaries of the same versions instead.

.PHONY: all test deps lint staticcheck complexity fmt tidy bench bench-remix bench-redis bench-modules load chaos soak fuzz interop run e2e demo-remix release help

# A bare `make` prints the help; `make all` is lint, then test.
.DEFAULT_GOAL := help

all: lint test

help:
	@echo "make run       serve the example app on http://localhost:8080 (STORAGE=memory|file|cookie|redis|redis-cluster|memcache|postgres)"
	@echo "make all       lint, then test"
	@echo "make test      install test servers if missing, run every module's tests with -race (docs: every README's Go blocks build)"
	@echo "make lint      gofmt, go vet, go mod tidy leaves no diff, each module builds alone; then staticcheck and complexity"
	@echo "make staticcheck   staticcheck (pinned) on every module"
	@echo "make complexity    gocyclo (pinned) on the library code: no function above 20, average at most 3.5"
	@echo "make fuzz      every fuzz target for FUZZTIME (default $(FUZZTIME))"
	@echo "make bench     sessionkit vs scs and gorilla: one table, and docs/bench.svg"
	@echo "make bench-remix   the storage workloads vs @remix-run/session on Node"
	@echo "make bench-redis   Redis under 16 and 64 concurrent clients: sessionkit (pipelined, direct), scs, Remix on Node; req/s and Redis CPU (ARGS=\"-duration 2s -clients 16 -rounds 3\")"
	@echo "make bench-modules every module's own benchmarks"
	@echo "make load      the example app and minimal peer apps under concurrent load"
	@echo "make chaos     the example app under load while its servers fail: one table per scenario (ARGS=\"-scenario memory,redis-aof -users 50\")"
	@echo "make soak      10 minutes of steady load per storage: heap, goroutines and open files must stay flat (ARGS=\"-duration 1m\")"
	@echo "make interop   Go against the real @remix-run packages from npm"
	@echo "make e2e       browser tests in headless Chromium: the example app, every storage, and the Remix shared login"
	@echo "make demo-remix  a Go app and a Remix app sharing one login (ARGS=\"-storage cookie\")"
	@echo "make release VERSION=v0.x.y [PROXY=DIR]   tag every library module; PROXY also writes a local module proxy (see release/README.md)"

# deps installs what the tests need and the machine lacks: redis-server,
# memcached and postgresql from Debian's packages, Node.js packages from npm.
deps:
	@bash .ci/deps

test: deps
	@set -e; for m in $(MODULES); do \
		echo "== go test -race $$m"; \
		if [ "$$m" = interop ]; then export SESSIONKIT_REQUIRE_INTEROP=1; fi; \
		(cd $$m && go test -race -count=1 ./...); \
	done

# lint stops at the first gofmt, vet, tidy or build failure; staticcheck and
# complexity then both run, so that one run reports both, and either fails it.
lint:
	@set -e; out=$$(gofmt -l $(MODULES) | grep -v /node_modules/ || true); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@set -e; for m in $(MODULES); do \
		echo "== vet, tidy, standalone build $$m"; \
		(cd $$m && go vet ./... && GOWORK=off go mod tidy -diff && GOWORK=off go build -o /dev/null ./... && GOWORK=off go vet ./...); \
	done
	@status=0; bash .ci/staticcheck $(MODULES) || status=1; bash .ci/complexity || status=1; exit $$status

staticcheck:
	@bash .ci/staticcheck $(MODULES)

complexity:
	@bash .ci/complexity

fmt:
	gofmt -w $(MODULES)

tidy:
	@set -e; for m in $(MODULES); do (cd $$m && GOWORK=off go mod tidy); done

# bench prints the comparison table of the bench module (sessionkit, scs,
# gorilla; GOMAXPROCS 1 and 2; medians of BENCHCOUNT runs) and writes its
# chart to docs/bench.svg. The raw output stays in bench/bench.txt. The runs
# are rounds of every benchmark rather than BENCHCOUNT runs of one after
# the other, so that a slow minute of a shared machine falls on every
# library alike instead of on whichever ran then.
bench:
	@cd bench && rm -f bench.txt && for i in $$(seq $(BENCHCOUNT)); do \
		go test -run '^$$' -bench '^Benchmark(Scaffold|Sessionkit|SCS|Gorilla|Redis|Postgres)' -benchmem \
		-cpu 1,2 -count 1 -benchtime $(BENCHTIME) . > bench.round || { cat bench.round; exit 1; }; \
		cat bench.round >> bench.txt; grep -E '^(Benchmark|ok|FAIL)' bench.round; done; rm -f bench.round
	@cd bench && go run ./cmd/benchtable -svg ../docs/bench.svg -machine "$(BENCH_MACHINE)" \
		-command "make bench BENCHCOUNT=$(BENCHCOUNT) BENCHTIME=$(BENCHTIME)" bench.txt

# bench-remix runs the storage workloads through sessionkit and, on Node,
# @remix-run/session (bench/remix), in one run, and prints them as one table.
bench-remix:
	@command -v node >/dev/null || { echo "bench-remix needs Node.js"; exit 1; }
	@cd bench/remix && { [ -d node_modules ] && [ node_modules -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; }
	@cd bench && go test -run '^$$' -bench '^BenchmarkStorage' -benchmem -cpu 1 -count $(BENCHCOUNT) -benchtime $(BENCHTIME) . \
		| tee bench-remix.txt | grep -E '^(Benchmark|ok|FAIL)'
	@cd bench && go run ./cmd/benchtable bench-remix.txt

# bench-redis drives Redis (one node, and a 3-master Cluster, started on
# free loopback ports) with 16 and 64 concurrent clients through sessionkit's
# storage-redis (pipelined and direct), scs's goredisstore and, on Node,
# @remix-run/session-storage-redis (bench/remix/redis-load.mjs), and prints
# req/s and Redis's CPU per 10,000 requests (bench/cmd/redisload). ARGS:
# -duration, -warmup, -clients, -topology, -contenders, -rounds (see
# bench/README.md). Not part of test or CI.
bench-redis: deps
	@command -v node >/dev/null || { echo "bench-redis needs Node.js"; exit 1; }
	@cd bench/remix && { [ -d node_modules ] && [ node_modules -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; }
	@cd bench && go run ./cmd/redisload $(ARGS)

# bench-modules runs every module's own benchmarks.
bench-modules:
	@set -e; for m in $(MODULES); do \
		echo "== bench $$m"; \
		(cd $$m && go test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) ./...); \
	done

# load drives the example app (each storage) and minimal sessionkit, scs and
# gorilla apps with LOADCLIENTS concurrent clients for LOADTIME each, over
# loopback, and prints req/s, p50, p99 and errors.
load: deps
	@cd bench && go run ./cmd/load -duration $(LOADTIME) -clients $(LOADCLIENTS)

# chaos loads the example app with signed-in users and breaks what is under
# it (bench/cmd/chaos): a Redis Cluster master killed or paused, a Redis with
# AOF killed, one of three memcached killed, the app itself killed on file
# storage, PostgreSQL killed; memory storage is the baseline. One table per
# scenario; about 5 minutes for all on 2 cores. ARGS: -scenario, -users,
# -before, -during, -after (see bench/README.md). Not part of test or CI.
# Built, then run (not go run), so that Ctrl-C reaches the program, which
# stops its servers and the app by PID.
chaos: deps
	@mkdir -p .tmp && cd bench && go build -o ../.tmp/chaos ./cmd/chaos && exec ../.tmp/chaos $(ARGS)

# soak loads each storage in turn with steady traffic (bench/cmd/soak) for
# 10 minutes (ARGS="-duration 1m" for less) and prints the slope of heap,
# goroutines and open files after the warm-up, with a verdict. Not part of
# test or CI.
soak: deps
	@mkdir -p .tmp && cd bench && go build -o ../.tmp/soak ./cmd/soak && exec ../.tmp/soak $(ARGS)

fuzz:
	@bash .ci/fuzz $(FUZZTIME) $(MODULES)

interop: deps
	@if [ ! -d interop ]; then echo "no interop module yet"; exit 1; fi
	cd interop && SESSIONKIT_REQUIRE_INTEROP=1 go test -race -count=1 ./...

# e2e runs the browser tests in headless Chromium through chromedp: the
# example app with every storage (examples/app/browser_test.go) and a Remix
# app sharing a login with a Go app (examples/remix-shared). It installs
# Debian's chromium first when it is missing and this is root. A plain go
# test skips them unless SESSIONKIT_E2E=1.
e2e: deps
	@if ! command -v chromium >/dev/null 2>&1 && [ -z "$$SESSIONKIT_CHROMIUM" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing chromium"; apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
		else echo "error: chromium is missing and cannot be installed here (need root and apt-get)" >&2; exit 1; fi; \
	fi
	cd examples && SESSIONKIT_E2E=1 go test -race -count=1 -timeout 10m -run '^TestBrowser' -v ./app ./remix-shared/

# run builds the app and execs it (not go run, which exits 1 after Ctrl-C even
# when the app shut down cleanly) with -storage $(STORAGE): memory, file (the
# default), cookie, redis, redis-cluster, memcache or postgres. For the last
# four the app starts throwaway servers on free loopback ports and stops them
# when it exits (examples/app/servers.go). More flags go in ARGS. On Ctrl-C the
# app exits 0, but make, interrupted too, reports 130 (see README.md).
STORAGE ?= file
run:
	@mkdir -p .tmp && cd examples && go build -o ../.tmp/example-app ./app && exec ../.tmp/example-app -storage $(STORAGE) $(ARGS)

# demo-remix runs examples/remix-shared: the Go app and the Remix app (and the
# Redis it starts itself) until Ctrl-C. ARGS: -storage, -go-addr, -node-port.
# Built first, then run: `go run` exits 1 after Ctrl-C even when the program
# shuts down cleanly.
demo-remix: deps
	@cd examples && go build -o ../.tmp/remix-shared-demo ./remix-shared/demo
	@cd examples && ../.tmp/remix-shared-demo $(ARGS)

# release rewrites sibling requires to VERSION, commits and tags each library
# module as folder/VERSION. It pushes nothing, and refuses uncommitted changes
# and untracked files. With PROXY=DIR it then writes a file-based module proxy
# of the tags into DIR and prints how a consumer module uses it.
release:
	@if [ -z "$(VERSION)" ]; then echo "usage: make release VERSION=v0.2.0 [PROXY=/tmp/sessionkit-proxy]"; exit 2; fi
	go run ./release -repo . $(VERSION)
	$(if $(PROXY),go run ./release -repo . -proxy $(PROXY))
