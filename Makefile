# runnable: the two set-up commands are `make run` and `make test`.
# Both first run deploy/setup.sh, which installs what is missing (docker.io,
# redis-server, busybox-static), starts dockerd and builds the base image.

SHELL := /bin/bash
GO ?= go
PORT ?= 3030
TEMPLATES_DIR ?= $(CURDIR)/deploy/templates
# golangci-lint is run through `go run`, pinned here; it is not part of `make test`.
GOLANGCI_LINT_VERSION ?= v2.15.0
GOLANGCI_LINT := $(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
# Unit-test tiers: pure rules, use cases over fakes, fakes, HTTP over fakes, the OpenAPI document.
UNIT_DIRS := domain app adapters/inmem adapters/httpapi api
UNIT_PKGS = $(foreach d,$(UNIT_DIRS),$(if $(wildcard $(d)/*.go $(d)/*/*.go),./$(d)/...))
BENCH_ARGS ?=
# Packages for `make test`, e.g. `make test PKGS=./tests/...`.
PKGS ?= ./...

.PHONY: help setup build run test test-short vet bench bench-quick lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

setup: ## install missing packages, start dockerd, build the base image (idempotent)
	@deploy/setup.sh

build: ## build bin/api-server
	$(GO) build -o bin/api-server ./cmd/api-server

run: setup build ## run the server on :3030 (PORT) with embedded stores, local Docker and the built-in templates
	@echo "runnable: http://localhost:$(PORT)  (data in ./data, templates from $(TEMPLATES_DIR))"
	PORT=$(PORT) TEMPLATES_DIR=$(TEMPLATES_DIR) ./bin/api-server

test: setup ## run every test (race detector, real Docker and redis-server); summary at the end
	@mkdir -p bin
	@set -o pipefail; \
	$(GO) test -json -race -count=1 -timeout 25m $(PKGS) 2>&1 | $(GO) run ./tests/summary -log bin/test.json

test-short: ## unit tests only: domain, app, inmem, httpapi, api (no services needed)
	@test -n "$(strip $(UNIT_PKGS))" || { echo "make test-short: none of $(UNIT_DIRS) has Go files yet"; exit 1; }
	$(GO) test -short -count=1 $(UNIT_PKGS)

vet: ## go vet every package
	$(GO) vet ./...

bench: ## run the benchmark program (tests/bench)
	@$(call need-bench)
	@deploy/setup.sh
	$(GO) run ./tests/bench $(BENCH_ARGS)

bench-quick: ## a short benchmark run (tests/bench -quick)
	@$(call need-bench)
	@deploy/setup.sh
	$(GO) run ./tests/bench -quick $(BENCH_ARGS)

lint: ## pinned golangci-lint with the layer rules in .golangci.yml (optional, not part of test)
	$(GOLANGCI_LINT) run ./...

clean: ## remove test containers and images (label com.runnable.test=1) and bin/
	@if command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; then \
		c=$$(docker ps -aq --filter label=com.runnable.test=1); \
		if [ -n "$$c" ]; then echo "removing $$(wc -w <<<"$$c") test containers"; docker rm -f -v $$c >/dev/null; fi; \
		i=$$(docker images -q --filter label=com.runnable.test=1 | sort -u); \
		if [ -n "$$i" ]; then echo "removing $$(wc -w <<<"$$i") test images"; docker rmi -f $$i >/dev/null; fi; \
	else echo "docker is not answering; skipping container and image cleanup"; fi
	rm -rf bin

define need-bench
test -d tests/bench || { echo "make $@: tests/bench does not exist yet; the benchmark program has not been written"; exit 1; }
endef
