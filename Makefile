# sshchat — build, run and test. `make help` lists the targets.

GO          ?= go
BIN         ?= bin/sshchat
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME    ?= 10s
BENCHTIME   ?= 1s
IMAGE       ?= sshchat

.PHONY: help build run test bench crowds fuzz lint docker tidy clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## build bin/sshchat
	$(GO) build -trimpath -o $(BIN) ./cmd/sshchat

run: build ## start the server with the default flags (:2222, ./data)
	./$(BIN) serve

test: ## vet, then the whole suite under the race detector
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

bench: ## every benchmark of every package (README lists them)
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) ./...

crowds: ## join storms, mass departures and bursts under sshchat-load (3 runs each, medians; needs taskset, jq)
	scripts/crowds.sh

fuzz: ## a short run of every fuzz target
	@set -e; for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list='^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$target"; \
			$(GO) test -run='^$$' -fuzz="^$$target$$" -fuzztime=$(FUZZTIME) $$pkg; \
		done; \
	done

lint: ## gofmt, go vet and staticcheck
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: the files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

docker: ## build the container image (tagged sshchat; IMAGE=name to change)
	docker build -t $(IMAGE) .

clean: ## remove build output
	rm -rf bin
