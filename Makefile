# YOROZU backend. `make run` serves on the embedded store in ./var; `make test` is what CI runs.
GO      ?= go
# make run DATA=dir ADDR=host:port overrides serve's defaults (./var, 127.0.0.1:8080).
DATA    ?=
ADDR    ?=
PKGS    ?= ./...
BENCH   ?= .
BENCHTIME ?= 1x

.PHONY: run build test test-race bench lint fmt fuzz esdb-test

build:
	$(GO) build -o bin/yorozu ./cmd/yorozu

run: build
	./bin/yorozu serve $(if $(DATA),--data $(DATA)) $(if $(ADDR),--addr $(ADDR))

# Unit, conformance (embedded + throwaway PostgreSQL), HTTP and durability tests.
test: lint
	$(GO) test -count=1 -timeout 40m $(PKGS)

test-race:
	$(GO) test -race -count=1 -timeout 60m $(PKGS)

bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -timeout 60m $(PKGS)

lint:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go')

# Every fuzz target, one after the other (go test -fuzz takes one target per run), FUZZTIME each.
# `make test` runs their seed corpora as ordinary tests. An input that fails is saved under the
# package's testdata/fuzz/ and replayed by every later `go test`: commit it with the fix.
FUZZTIME ?= 30s
FUZZ_TARGETS = \
	./domain/order:FuzzDecodeForm ./domain/order:FuzzFormField \
	./projections/audit:FuzzInstant ./projections/audit:FuzzEncodeEntryMatchesMarshal \
	./api:FuzzSubmitOrder ./api:FuzzAmendOrder ./api:FuzzAcceptOrder ./api:FuzzOrderNotice \
	./api:FuzzCompleteOrder ./api:FuzzWithdrawOrder ./api:FuzzPublishPriceList ./api:FuzzCloseMonth \
	./api:FuzzLogin \
	./api:FuzzSetWebFiltering ./api:FuzzAddWebFilteringEntry ./api:FuzzAgentPolicy \
	./api:FuzzPublishQuestionnaire ./api:FuzzSubmitDiagnosis ./api:FuzzScheduleMailIssue

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; echo "== $$name ($$pkg), $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg/; \
	done

# Runs the event-store conformance suite against a real EventStoreDB (see docs/eventstoredb.md).
esdb-test:
	@test -n "$$YOROZU_TEST_ESDB_URL" || { echo "set YOROZU_TEST_ESDB_URL=esdb://localhost:2113?tls=false"; exit 2; }
	$(GO) test -count=1 -v -run Conformance ./adapters/eventstore/esdb/
