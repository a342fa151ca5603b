# Bookstore: Kitex + Hertz microservices. `make help` lists the targets.
SHELL := /bin/bash
export GOFLAGS := -buildvcs=false

BIN      := $(CURDIR)/bin
SERVICES := account warehouse payment gateway
# Every module of the workspace, as package patterns.
MODULES  := idl common account warehouse payment gateway e2e bench
PKGS     := $(addsuffix /...,$(addprefix ./,$(MODULES)))
RACE     ?= -race
# The gateway's request decoders are fuzzed through its HTTP stack.
FUZZ_PKG := ./gateway/internal/service
FUZZTIME ?= 10m

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-12s %s\n",$$1,$$2}'

$(BIN)/kitex: tools/go.mod tools/go.sum
	cd tools && GOWORK=off go build -o $(BIN)/ github.com/cloudwego/kitex/tool/cmd/kitex github.com/cloudwego/thriftgo

gen: $(BIN)/kitex ## regenerate the Kitex code in idl/kitex_gen from the IDLs (pinned kitex v0.16.3)
	rm -rf idl/kitex_gen
	cd idl && for f in account.thrift warehouse.proto payment.proto; do \
		PATH=$(BIN):$$PATH kitex -module example.com/bookstore/idl $$f >/dev/null || exit 1; done
	gofmt -l idl/kitex_gen | (! grep .) || (echo "generated code is not gofmt-clean" && exit 1)

build: ## build the four service binaries into bin/
	go build -o $(BIN)/ ./account ./warehouse ./payment ./gateway

test: ## run every test (unit, component, e2e) with the race detector
	go vet $(PKGS)
	go test $(RACE) -count=1 -timeout 20m $(PKGS)
	@$(MAKE) --no-print-directory fuzz FUZZTIME=3s
	@# Say which database the repository tests used (MySQL when BOOKSTORE_TEST_MYSQL_DSN is set).
	@go test -count=1 -v -run 'TestKind$$' ./common/db/dbtest 2>&1 | grep -m1 'dbtest: using' || true

fuzz: ## fuzz each gateway request decoder for FUZZTIME (default 10m): make fuzz FUZZTIME=30s
	@targets=$$(go test -list '^Fuzz' $(FUZZ_PKG) | grep '^Fuzz') || { echo "no fuzz targets in $(FUZZ_PKG)"; exit 1; }; \
	for t in $$targets; do \
		echo "fuzz $$t for $(FUZZTIME)"; \
		go test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $(FUZZ_PKG) 2>&1 | \
			awk '/^fuzz: elapsed/ {last = $$0; next} /KITEX:|HERTZ:| INFO / {next} {print} END {if (last != "") print last}'; \
		test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

lint: ## gofmt and go vet
	@out=$$(gofmt -l $(MODULES) | grep -v kitex_gen); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet $(PKGS)

run: ## build and run the whole store locally on SQLite (gateway on http://localhost:8080)
	@# Built and exec'd rather than `go run`, so Ctrl-C reaches the launcher
	@# alone and it stops the services gracefully.
	go build -o $(BIN)/bookstore-run ./e2e/cmd/bookstore-run
	exec $(BIN)/bookstore-run

bench: ## benchmark the store against a limit server (release builds, SQLite; ~8 min); results in bench/results/
	go run ./bench $(BENCH_FLAGS)

web: ## rebuild the storefront and API browser (web/, needs Node) into gateway/internal/web/dist; commit the result
	@# npm install, not npm ci: the registry here lacks some of rollup's optional
	@# per-platform packages, which makes npm ci refuse the lock file.
	cd web && npm install --no-audit --no-fund --loglevel=error && npm run build

.PHONY: help gen build test fuzz lint run web bench

include k8s/k8s.mk
include hack/local-cluster/cluster.mk
