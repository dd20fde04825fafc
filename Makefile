# sessionkit: one Go module per folder, tied together by go.work.
# Every target loops over the module folders, so a new module is picked up
# as soon as its go.mod exists.

SHELL := /bin/bash
MODULES := $(patsubst %/go.mod,%,$(sort $(wildcard */go.mod)))
FUZZTIME ?= 10s
BENCHTIME ?= 1s
BENCHCOUNT ?= 1

.PHONY: all test deps lint fmt tidy bench fuzz interop run e2e help

all: lint test

help:
	@echo "make run       serve the example app on http://localhost:8080"
	@echo "make test      install test servers if missing, run every module's tests with -race"
	@echo "make lint      gofmt, go vet, go mod tidy leaves no diff, each module builds alone"
	@echo "make fuzz      every fuzz target for FUZZTIME (default $(FUZZTIME))"
	@echo "make bench     every benchmark (BENCHTIME=$(BENCHTIME), BENCHCOUNT=$(BENCHCOUNT))"
	@echo "make interop   Go against the real @remix-run packages from npm"
	@echo "make e2e       the example app in headless Chromium, every storage (screenshots in examples/e2e-output)"

# deps installs what the tests need and the machine lacks: redis-server and
# memcached from Debian's packages, Node.js packages from npm.
deps:
	@bash .ci/deps

test: deps
	@set -e; for m in $(MODULES); do \
		echo "== go test -race $$m"; \
		if [ "$$m" = interop ]; then export SESSIONKIT_REQUIRE_INTEROP=1; fi; \
		(cd $$m && go test -race -count=1 ./...); \
	done

lint:
	@set -e; out=$$(gofmt -l $(MODULES) | grep -v /node_modules/ || true); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@set -e; for m in $(MODULES); do \
		echo "== vet, tidy, standalone build $$m"; \
		(cd $$m && go vet ./... && GOWORK=off go mod tidy -diff && GOWORK=off go build -o /dev/null ./... && GOWORK=off go vet ./...); \
	done

fmt:
	gofmt -w $(MODULES)

tidy:
	@set -e; for m in $(MODULES); do (cd $$m && GOWORK=off go mod tidy); done

bench:
	@set -e; for m in $(MODULES); do \
		echo "== bench $$m"; \
		(cd $$m && go test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) ./...); \
	done

fuzz:
	@bash .ci/fuzz $(FUZZTIME) $(MODULES)

interop: deps
	@if [ ! -d interop ]; then echo "no interop module yet"; exit 1; fi
	cd interop && SESSIONKIT_REQUIRE_INTEROP=1 go test -race -count=1 ./...

# e2e drives the example app in headless Chromium (examples/app/browser_test.go),
# installing Debian's chromium first when it is missing and this is root.
e2e:
	@if ! command -v chromium >/dev/null 2>&1 && [ -z "$$SESSIONKIT_CHROMIUM" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing chromium"; apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
		else echo "error: chromium is missing and cannot be installed here (need root and apt-get)" >&2; exit 1; fi; \
	fi
	cd examples && SESSIONKIT_E2E=1 go test -race -count=1 -timeout 10m -run '^TestBrowser$$' -v ./app

# run builds the app and execs it (not go run, which exits 1 after Ctrl-C even
# when the app shut down cleanly), so Ctrl-C ends make run with status 0.
run:
	@mkdir -p .tmp && cd examples && go build -o ../.tmp/example-app ./app && exec ../.tmp/example-app $(ARGS)
