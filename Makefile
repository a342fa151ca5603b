# Bookstore: Kitex + Hertz microservices. `make help` lists the targets.
SHELL := /bin/bash
export GOFLAGS := -buildvcs=false

BIN      := $(CURDIR)/bin
SERVICES := account warehouse payment gateway
# Every module of the workspace, as package patterns.
MODULES  := idl common account warehouse payment gateway e2e
PKGS     := $(addsuffix /...,$(addprefix ./,$(MODULES)))
RACE     ?= -race

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-12s %s\n",$$1,$$2}'

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
	@# Say which database the repository tests used (MySQL when BOOKSTORE_TEST_MYSQL_DSN is set).
	@go test -count=1 -v -run 'TestKind$$' ./common/db/dbtest 2>&1 | grep -m1 'dbtest: using' || true

lint: ## gofmt and go vet
	@out=$$(gofmt -l $(MODULES) | grep -v kitex_gen); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet $(PKGS)

run: ## build and run the whole store locally on SQLite (gateway on http://localhost:8080)
	@# Built and exec'd rather than `go run`, so Ctrl-C reaches the launcher
	@# alone and it stops the services gracefully.
	go build -o $(BIN)/bookstore-run ./e2e/cmd/bookstore-run
	exec $(BIN)/bookstore-run

.PHONY: help gen build test lint run
