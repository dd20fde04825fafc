# sessionkit: one Go module per folder, tied together by go.work.
# Every target loops over the module folders, so a new module is picked up
# as soon as its go.mod exists.

SHELL := /bin/bash
MODULES := $(patsubst %/go.mod,%,$(sort $(wildcard */go.mod)))
FUZZTIME ?= 10s
BENCHTIME ?= 1s
BENCHCOUNT ?= 1

.PHONY: all test deps lint fmt tidy bench fuzz interop run release help demo-remix e2e

all: lint test

help:
	@echo "make run       serve the example app on http://localhost:8080"
	@echo "make test      install test servers if missing, run every module's tests with -race"
	@echo "make lint      gofmt, go vet, go mod tidy leaves no diff, each module builds alone"
	@echo "make fuzz      every fuzz target for FUZZTIME (default $(FUZZTIME))"
	@echo "make bench     every benchmark (BENCHTIME=$(BENCHTIME), BENCHCOUNT=$(BENCHCOUNT))"
	@echo "make interop   Go against the real @remix-run packages from npm"
	@echo "make demo-remix  a Go app and a Remix app sharing one login (ARGS=\"-storage cookie\")"
	@echo "make e2e       browser tests in headless Chromium"
	@echo "make release VERSION=v0.x.y   tag every library module (see release/README.md)"

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

run:
	@if [ -d examples/app ]; then cd examples && go run ./app $(ARGS); \
	else echo "The example app (examples/app) is not written yet; see the module READMEs for runnable examples."; exit 1; fi

# demo-remix runs examples/remix-shared: the Go app and the Remix app (and the
# Redis it starts itself) until Ctrl-C. ARGS: -storage, -go-addr, -node-port.
# Built first, then run: `go run` exits 1 after Ctrl-C even when the program
# shuts down cleanly.
demo-remix: deps
	@cd examples && go build -o ../.tmp/remix-shared-demo ./remix-shared/demo
	@cd examples && ../.tmp/remix-shared-demo $(ARGS)

# e2e runs the browser tests (headless Chromium through chromedp); a plain
# go test skips them unless SESSIONKIT_E2E=1.
e2e: deps
	cd examples && SESSIONKIT_E2E=1 go test -race -count=1 -run TestBrowserSharedLogin -v ./remix-shared/

# release rewrites sibling requires to VERSION, commits and tags each library
# module as folder/VERSION. It pushes nothing.
release:
	@if [ -z "$(VERSION)" ]; then echo "usage: make release VERSION=v0.2.0"; exit 2; fi
	go run ./release -repo . $(VERSION)
