# Urna build and test entry points. `make demo` and `make test` are the two
# commands of the README's quick start; CI runs `make test` through .ci/run.

GO      ?= go
WASM    := web/static/urna.wasm
# The officials' module: the same package with the build tag officials, for
# the console and the trustee page only (web/wasm/main_officials.go).
OFFICIALS := web/static/officials.wasm
WASMEXEC:= web/static/wasm_exec.js
# Stamped into bin/urna: `urna --version` and GET /api/v1/health show them.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)

.PHONY: all build static wasm booth-digest demo test test-short vet bench clean

all: build

# The booth's WebAssembly module: the ballot package compiled for the browser,
# reproducibly (-trimpath, -buildvcs=false: the bytes depend on the source and
# the Go version only, not on the checkout's path or git state; README.md,
# "Comparing the booth with its source"), and its gzip and brotli forms, which
# web.FS serves to browsers that accept them.
wasm: $(WASM) $(WASM).gz $(OFFICIALS).gz
WASMSRC := $(shell find ballot bulletin internal client tally web/wasm -name '*.go' 2>/dev/null) go.mod
$(WASM): $(WASMSRC)
	GOOS=js GOARCH=wasm $(GO) build -trimpath -buildvcs=false -ldflags='-s -w' -o $(WASM) ./web/wasm
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" $(WASMEXEC)
$(OFFICIALS): $(WASMSRC)
	GOOS=js GOARCH=wasm $(GO) build -tags officials -trimpath -buildvcs=false -ldflags='-s -w' -o $(OFFICIALS) ./web/wasm
%.wasm.gz: %.wasm web/internal/precompress/main.go
	$(GO) run ./web/internal/precompress $<

# The digest of the booth's code this tree builds, to compare with a node's
# GET /api/v1/booth.
booth-digest: wasm
	$(GO) run ./web/boothhash

LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

build: wasm
	$(GO) build -trimpath -ldflags='$(LDFLAGS)' -o bin/urna ./cmd/urna

# A fully static binary for container images (packaging/Dockerfile copies
# bin/urna-static into a FROM scratch image): no cgo, so no libc to match,
# and stripped (-s -w) since the image has no debugger anyway.
static: wasm
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w $(LDFLAGS)' -o bin/urna-static ./cmd/urna

demo: build
	./bin/urna demo $(DEMOFLAGS)

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

# The whole suite: vet, unit and integration tests (PostgreSQL and Chromium
# must be reachable: see .ci/run), and the multi-process end-to-end election.
test: vet build
	$(GO) test -timeout 20m -count=1 ./...

test-short: wasm
	$(GO) test -short -count=1 ./...

bench: wasm
	bash bench/run.sh

clean:
	rm -rf bin $(WASM) $(WASM).gz $(WASM).br $(OFFICIALS) $(OFFICIALS).gz $(OFFICIALS).br $(WASMEXEC)
