# Switchboard. `make test` installs what the tests need and runs them all:
# go vet, the Go tests with the race detector, and the Node e2e suite
# (the real pusher-js, laravel-echo and Pusher server SDK) against the
# built binary.

GO      ?= go
BIN     := bin/switchboard
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: all build run test vet gotest e2e-deps e2e fuzz bench clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $(BIN) .

run:
	$(GO) run .

test: vet gotest e2e

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

gotest:
	$(GO) test -race -count=1 -timeout 10m ./...

# The UI tests drive Debian's Chromium through playwright-core, and age a
# conversation in its SQLite file with the sqlite3 shell.
e2e-deps:
	@missing=; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v sqlite3 >/dev/null || missing="$$missing sqlite3"; \
	if [ -n "$$missing" ]; then \
	  SUDO=; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update && $$SUDO apt-get install -y $$missing; \
	fi
	cd e2e && npm ci --no-audit --no-fund

e2e: build e2e-deps
	cd e2e && SWITCHBOARD_BIN=$(CURDIR)/$(BIN) npm test

# Short fuzzing runs of every fuzz target (longer: make fuzz FUZZTIME=5m).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# In-process hot-path benchmarks (fan-out against a no-hub baseline).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./hub/

clean:
	rm -rf bin e2e/.bin e2e/artifacts

# The inbound end-to-end benchmark: signed WhatsApp webhooks → committed →
# message.created at a real pusher-js client, on Postgres (a database of its
# own, dropped afterwards) and on SQLite. Flags go in BENCH_INBOUND_FLAGS,
# e.g. make bench-inbound BENCH_INBOUND_FLAGS='--store=sqlite --duration=5'.
BENCH_INBOUND_FLAGS ?=
.PHONY: bench-inbound
bench-inbound: build
	@[ -d e2e/node_modules/pusher-js ] || (cd e2e && npm ci --no-audit --no-fund)
	cd e2e && SWITCHBOARD_BIN=$(CURDIR)/$(BIN) node bench/inbound.js $(BENCH_INBOUND_FLAGS)
