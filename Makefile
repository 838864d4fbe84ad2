# Switchboard. `make run` starts the demo daemon; `make test` runs every test.
GO       ?= go
BIN      := bin
PKGS     := ./...
# Fuzz targets run by `make fuzz`, each for FUZZTIME.
FUZZTIME ?= 30s

.PHONY: all build run sim sim-demo chaos soak test test-short bench bench-import fuzz vet fmt clean screenshots

all: build

build:
	$(GO) build -o $(BIN)/routerd ./cmd/routerd

# The demo: SQLite in ./data, demo agents and queues, http://127.0.0.1:8080.
run:
	$(GO) run ./cmd/routerd $(ARGS)

# The load generator against a running `make run` (docs/contactsim.md):
# the bank scenario for 10 s; SIM_ARGS adds flags (-rate 50, -json, …).
sim:
	$(GO) run ./cmd/contactsim -url http://127.0.0.1:8080 -token-file data/admin-token $(SIM_ARGS)

# A modest load at human pace until interrupted: the dashboards come alive.
sim-demo:
	$(GO) run ./cmd/contactsim -demo -url http://127.0.0.1:8080 -token-file data/admin-token $(SIM_ARGS)

# Chaos (docs/contactsim.md): routerd killed CHAOS_ROUNDS times while
# contactsim drives every channel, Dovecot and the SMTP server killed,
# then the data directory's disk filled (new contacts refused, the rest
# served). make test runs the same with 3 rounds.
CHAOS_ROUNDS ?= 20
chaos:
	CHAOS_ROUNDS=$(CHAOS_ROUNDS) \
	  $(GO) test -race -count=1 -timeout 30m -v -run '^(TestChaos|TestDiskFull)$$' ./cmd/contactsim/

# Soak (docs/performance.md, "Soak"): SOAK_DURATION at SOAK_RATE contacts
# a second over every channel, routerd sampled every SOAK_EVERY into
# SOAK_OUT/soak.csv and soak.svg; fails if a measure is not flat.
SOAK_DURATION ?= 30m
SOAK_RATE     ?= 200
SOAK_EVERY    ?= 10s
SOAK_OUT      ?= soak
soak:
	SOAK_DURATION=$(SOAK_DURATION) SOAK_RATE=$(SOAK_RATE) SOAK_EVERY=$(SOAK_EVERY) SOAK_OUT=$(abspath $(SOAK_OUT)) \
	  $(GO) test -count=1 -timeout 0 -v -run '^TestSoak$$' ./cmd/contactsim/

# Every test, with the race detector.
test:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

test-short:
	$(GO) test -short -count=1 $(PKGS)

# Every benchmark; the figures are in docs/performance.md.
bench:
	$(GO) test -run=NONE -bench=. -benchtime=20000x -timeout 30m ./router/
	$(GO) test -run=NONE -bench=. -timeout 30m ./store/
	$(GO) test -run=NONE -bench=ScreenPopLatency -benchtime=2000x ./agents/
	$(GO) test -run=NONE -bench=IdleConnections -benchtime=1x ./agents/
	$(GO) test -run=NONE -bench='IdleCustomers|AgentToCustomer' -benchtime=1x ./channels/chat/
	$(GO) test -run=NONE -bench=. -benchtime=1x -count=3 ./channels/sms/
	$(GO) test -run=NONE -bench=Board -benchtime=20x ./dashboards/
	$(GO) test -run=NONE -bench=DovecotBacklog -benchtime=1x -timeout 30m ./channels/email/
	$(GO) test -run=NONE -bench=ReplySubmission -benchtime=2000x ./channels/email/
	$(GO) test -run=NONE -bench=ScreenPopAssembly -benchtime=20000x -timeout 30m ./nextbest/ -customers=1000000

# The import of 1,000,000 customers from CSV and from JSON lines (about a
# minute each, plus the files' generation); apart from bench for its time.
bench-import:
	$(GO) test -run=NONE -bench=ImportCustomers -benchtime=1x -timeout 30m ./cmd/routerd/ -import-rows=1000000

fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list='^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run=NONE -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BIN)

# The screenshots in docs/screenshots (the README shows them), taken at
# 1366×768 by the browser tests against the real daemon.
screenshots:
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run 'TestDesktopEndToEnd|TestDashboardEndToEnd|TestMonitorAndWhisper|TestKeyboardOnly' ./agents/web/
