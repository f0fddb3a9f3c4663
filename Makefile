.PHONY: help test faults bench demo build vet lint services

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

test: ## every test against real RabbitMQ and PostgreSQL (the README's command)
	scripts/test

faults: ## fault injection and isolation suites (restart RabbitMQ and PostgreSQL; run alone)
	scripts/faults

bench: ## korpu bench against the local RabbitMQ and PostgreSQL (see README)
	go run ./cmd/korpu bench

demo: ## the whole flow in one process, no external services
	go run ./cmd/korpu demo

build: ## the korpu binary in ./bin
	go build -o bin/korpu ./cmd/korpu

vet: ## gofmt and go vet
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }
	go vet ./...

lint: ## golangci-lint v2 with .golangci.yml (installs the pinned version if missing)
	scripts/lint

services: ## make sure RabbitMQ and PostgreSQL answer
	scripts/services
