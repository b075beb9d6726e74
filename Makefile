# Urna build and test entry points. `make demo` and `make test` are the two
# commands of the README's quick start; CI runs `make test` through .ci/run.

GO      ?= go
WASM    := web/static/urna.wasm
WASMEXEC:= web/static/wasm_exec.js

.PHONY: all build wasm demo test test-short vet bench clean

all: build

# The booth's WebAssembly module: the ballot package compiled for the browser.
wasm: $(WASM)
$(WASM): $(shell find ballot bulletin internal client web/wasm -name '*.go' 2>/dev/null) go.mod
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o $(WASM) ./web/wasm
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" $(WASMEXEC)

build: wasm
	$(GO) build -trimpath -o bin/urna ./cmd/urna

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
	rm -rf bin $(WASM) $(WASMEXEC)
