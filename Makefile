# aimsg: `make run` starts everything on a laptop, `make test` runs every test.
# Only Go is needed; the Temporal CLI is built from the Go module proxy.

GO               ?= go
BIN              := $(CURDIR)/bin
TEMPORAL_VERSION := v1.5.1
TEMPORAL         := $(BIN)/temporal
TEMPORAL_STAMP   := $(BIN)/.temporal-$(TEMPORAL_VERSION)
DEV_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable

.PHONY: all build run cluster cluster-reset test race fuzz bench chaos temporal temporal-server temporal-ui helm lint migrate-up migrate-status migrate-diff migrate-hash compose-check clean

all: build

build:
	$(GO) build -o $(BIN)/aimsg ./cmd/aimsg

# The Temporal CLI (dev server + Web UI), pinned: later releases cannot be
# built with `go install`. Rebuilt only when the pinned version changes.
temporal: $(TEMPORAL_STAMP)

$(TEMPORAL_STAMP):
	@mkdir -p $(BIN)
	@echo "building the Temporal CLI $(TEMPORAL_VERSION) into ./bin (first time: a few minutes)"
	GOBIN=$(BIN) $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_VERSION)
	@rm -f $(BIN)/.temporal-*
	@touch $@

# Temporal's server and its SQL schema tool, for `make cluster` and its
# fault tests: the server version the pinned CLI embeds, from the Go module
# proxy like the CLI.
TEMPORAL_SERVER_VERSION := v1.29.1
TEMPORAL_SERVER_STAMP   := $(BIN)/.temporal-server-$(TEMPORAL_SERVER_VERSION)
temporal-server: $(TEMPORAL_SERVER_STAMP)

$(TEMPORAL_SERVER_STAMP):
	@mkdir -p $(BIN)/.server
	@echo "building the Temporal server $(TEMPORAL_SERVER_VERSION) into ./bin (first time: a few minutes)"
	GOBIN=$(BIN)/.server $(GO) install go.temporal.io/server/cmd/server@$(TEMPORAL_SERVER_VERSION) \
		go.temporal.io/server/cmd/tools/sql@$(TEMPORAL_SERVER_VERSION)
	mv $(BIN)/.server/server $(BIN)/temporal-server
	mv $(BIN)/.server/sql $(BIN)/temporal-sql-tool
	@rm -rf $(BIN)/.server $(BIN)/.temporal-server-*
	@touch $@

# Temporal's Web UI server, pinned to the version the CLI embeds: `make run`
# and `make cluster` start it with aimsg's codec endpoint and cross-origin
# credentials on (the CLI's own UI cannot send the codec cookie).
TEMPORAL_UI_VERSION := v2.42.1
TEMPORAL_UI_STAMP   := $(BIN)/.temporal-ui-$(TEMPORAL_UI_VERSION)
temporal-ui: $(TEMPORAL_UI_STAMP)

$(TEMPORAL_UI_STAMP):
	@mkdir -p $(BIN)/.ui
	@echo "building the Temporal Web UI server $(TEMPORAL_UI_VERSION) into ./bin (first time: about a minute)"
	GOBIN=$(BIN)/.ui $(GO) install github.com/temporalio/ui-server/v2/cmd/server@$(TEMPORAL_UI_VERSION)
	mv $(BIN)/.ui/server $(BIN)/temporal-ui-server
	@rm -rf $(BIN)/.ui $(BIN)/.temporal-ui-*
	@touch $@

# helm, pinned, for the chart's tests (deploy/helm/aimsg): built from the Go
# module proxy like the Temporal CLI, rebuilt only when the version changes.
HELM_VERSION := v3.22.0
HELM_STAMP   := $(BIN)/.helm-$(HELM_VERSION)
helm: $(HELM_STAMP)

$(HELM_STAMP):
	@mkdir -p $(BIN)
	@echo "building helm $(HELM_VERSION) into ./bin (first time: a few minutes)"
	GOBIN=$(BIN) $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	@rm -f $(BIN)/.helm-*
	@touch $@

# Temporal dev server and Web UI (:8233, state in .data/), SQLite database,
# migrations, worker and API in one process. Ctrl-C stops everything.
run: temporal temporal-ui build
	$(BIN)/aimsg dev

# The production topology on this machine (see docs/production.md):
# a Temporal server on PostgreSQL (ports 7233-7241), APIs on 8001 and 8002,
# two workers, databases aimsg_cluster{,_temporal,_visibility} next to
# CLUSTER_DATABASE_URL. Ctrl-C stops everything; cluster-reset drops them.
CLUSTER_DATABASE_URL ?= $(DEV_DATABASE_URL)
CLUSTER_FLAGS ?=
cluster: temporal-server temporal-ui build
	$(GO) build -o $(BIN)/aimsg-cluster ./cmd/aimsg-cluster
	$(BIN)/aimsg-cluster -bin $(BIN) -database-url '$(CLUSTER_DATABASE_URL)' $(CLUSTER_FLAGS)

cluster-reset:
	$(GO) build -o $(BIN)/aimsg-cluster ./cmd/aimsg-cluster
	$(BIN)/aimsg-cluster -reset -database-url '$(CLUSTER_DATABASE_URL)' $(CLUSTER_FLAGS)

test: temporal temporal-server temporal-ui helm
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed on:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 25m ./...

# The load benchmark on the real stack (see docs/benchmarks.md): SQLite
# unless BENCH_DATABASE_URL names a PostgreSQL database; BENCH_FLAGS=-quick
# for a smoke run.
BENCH_DATABASE_URL ?=
BENCH_FLAGS ?=
bench: temporal temporal-server build
	$(GO) build -o $(BIN)/aimsg-bench ./cmd/aimsg-bench
	$(BIN)/aimsg-bench -aimsg $(BIN)/aimsg -temporal $(TEMPORAL) -database-url '$(BENCH_DATABASE_URL)' -out bench-results.json $(BENCH_FLAGS)

# The fault tests alone (they also run in `make test`): workers killed at
# random and inside each activity, Temporal down while messages arrive,
# PostgreSQL crashed and restarted or cut off under load, the LLM and
# Twilio failing in the ways they do.
chaos: temporal temporal-server
	$(GO) test -count=1 -v ./e2e -run 'Chaos|Killed|Down|LLM|Lost|RateLimit|Twilio|Cluster'

# Coverage-guided fuzzing, FUZZTIME per target (the seed corpora also run
# in `make test`). A failing input lands in testdata/fuzz of its package.
FUZZTIME ?= 30s
FUZZ_TARGETS := ./auth:FuzzParseToken ./domain:FuzzNormalizePhone ./activities:FuzzRunTool \
	./api:FuzzTwilioWebhook ./api:FuzzTelegramWebhook

fuzz: temporal
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $${t#*:} ($(FUZZTIME))"; \
		$(GO) test $${t%%:*} -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME); \
	done

# Static checks, pinned: staticcheck, Temporal's workflowcheck (workflow
# code that could replay differently), and a go.mod/go.sum that `go mod
# tidy` would leave alone.
STATICCHECK_VERSION   := v0.8.2
WORKFLOWCHECK_VERSION := v0.6.0
lint:
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed on:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	$(GO) run go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION) ./...
	$(GO) mod tidy -diff

# The packages whose code runs goroutines, under the race detector (about
# ten times slower: the sweep of hostile inputs, which starts no goroutine
# of its own, runs in `make test` only, and the API tests hash passwords at
# bcrypt's least cost, api/bcrypt_race_test.go).
RACE_PACKAGES := ./api ./auth ./activities ./events ./dispatch ./workflows ./database ./logs ./evals
race:
	$(GO) test -race -count=1 -timeout 20m -skip 'TestHostileInput' $(RACE_PACKAGES)

migrate-up: build
	$(BIN)/aimsg migrate up

migrate-status: build
	$(BIN)/aimsg migrate status

# Plan the next migration of both dialects from the models: make migrate-diff NAME=add_x
migrate-diff: build
	@test -n "$(NAME)" || { echo "usage: make migrate-diff NAME=short_description"; exit 2; }
	$(BIN)/aimsg migrate diff --dev-url '$(DEV_DATABASE_URL)' $(NAME)

# Rewrite atlas.sum after editing a migration that was never applied anywhere.
migrate-hash: build
	$(BIN)/aimsg migrate hash

compose-check:
	SECRET_KEY=x POSTGRES_PASSWORD=x docker-compose config -q

clean:
	rm -rf $(BIN) .data logs backend.db*
