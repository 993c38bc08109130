# lakepipe: the two commands are `make demo` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
PREFIX ?= $(HOME)/.local
TOOLS := kcat-lite jq-lite pq-write pq-compact pq-cat hdfs-ls hive-ddl presto-q
BIN := $(or $(CARGO_TARGET_DIR),target)/release
SERVICES ?=

.PHONY: build test unit-test demo bench install services-up services-down services-status clean

build:
	bash tests/build-deps.sh
	$(CARGO) build --release --workspace --locked

# Every test: unit and CLI tests, then the real services and the tests that need them.
test:
	bash tests/run.sh

# Unit and CLI tests only (no services).
unit-test:
	bash tests/build-deps.sh
	$(CARGO) test --profile ci --workspace --locked

demo: build
	BIN=$(BIN) bash tests/demo.sh

bench: build
	BIN=$(BIN) bash bench/run.sh

# The tools in PREFIX/bin; their man pages and bash/zsh/fish completions, generated from
# the clap definitions by lakepipe-gen, in the folders each reads under PREFIX/share.
install: build
	mkdir -p $(PREFIX)/bin
	for t in $(TOOLS); do install -m 755 $(BIN)/$$t $(PREFIX)/bin/; done
	$(BIN)/lakepipe-gen $(PREFIX)/share

services-up:
	bash services/up.sh $(SERVICES)

services-down:
	bash services/down.sh

services-status:
	bash services/status.sh

clean:
	$(CARGO) clean
