# verifyd's entry points. `make run` needs nothing but Go; `make test` finds or
# starts a Redis (test/ensure-redis.sh) and runs every check CI runs.
SHELL := /bin/bash
GO    ?= go
PKGS  := ./...

.PHONY: run build test unit lint fmt-check vet staticcheck deps-check tidy-check generate generate-check bench load soak ocr
.PHONY: image image-test ensure-podman

run: ## start verifyd on the embedded defaults: memory store, log SMS sender, :8000
	$(GO) run ./cmd/verifyd

build:
	$(GO) build -o bin/ ./cmd/...

test: lint tidy-check generate-check ## everything: lint, tidy go.mod, generated code, all tests with -race against real Redis
	@set -euo pipefail; \
	url="$$(test/ensure-redis.sh)"; \
	echo "tests use Redis at $$url"; \
	chromium="$$(test/ensure-chromium.sh)"; \
	echo "browser tests use $$chromium"; \
	VERIFY_TEST_REDIS_URL="$$url" VERIFY_TEST_CHROMIUM="$$chromium" \
		$(GO) test -race -count=1 -timeout 20m $(PKGS)

unit: ## domain and use-case tests only: no Redis, no browser
	$(GO) test -race -count=1 ./domain/... ./application/...

lint: fmt-check vet staticcheck deps-check

fmt-check:
	@out="$$(gofmt -l domain application adapters cmd test)"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
	$(GO) tool staticcheck $(PKGS)

# The dependency rule: domain imports only the standard library; application
# only that and domain; adapters never import cmd.
deps-check:
	@set -euo pipefail; bad=0; \
	mod=$$($(GO) list -m); \
	check() { \
		for pkg in $$($(GO) list $$1); do \
			for imp in $$($(GO) list -f '{{join .Imports " "}}' $$pkg); do \
				case $$imp in \
				$$mod/*) for ok in $$2; do [[ $$imp == $$mod/$$ok || $$imp == $$mod/$$ok/* ]] && continue 2; done; \
					echo "$$pkg imports $$imp"; bad=1 ;; \
				*.*/*) [[ $$3 == std ]] && { echo "$$pkg imports non-standard $$imp"; bad=1; } ;; \
				esac; \
			done; \
		done; \
	}; \
	check ./domain/... "domain" std; \
	check ./application/... "domain application" std; \
	check ./adapters/... "domain application adapters" any; \
	[[ $$bad == 0 ]] && echo "dependency rule holds"; exit $$bad

# go.mod and go.sum must be what `go mod tidy` makes of them: direct
# dependencies listed as such, nothing missing, nothing stale.
tidy-check:
	@$(GO) mod tidy -diff && echo "go.mod is tidy" || \
		{ echo "go.mod or go.sum is not tidy: run go mod tidy"; exit 1; }

generate:
	$(GO) tool wire gen ./cmd/...

generate-check: ## fails when wire_gen.go is stale
	@$(GO) tool wire diff ./cmd/... && echo "wire_gen.go is up to date" || \
		{ echo "wire_gen.go is stale: run make generate"; exit 1; }

bench: build ## every Go benchmark, the captcha endpoint (10 s) and the SMS path load rounds (30 s), against the Redis test/ensure-redis.sh finds or starts, then measured ratios vs goals
	@set -euo pipefail; url="$$(test/ensure-redis.sh)"; out="$$(mktemp)"; trap 'rm -f "$$out"' EXIT; \
	VERIFY_TEST_REDIS_URL="$$url" $(GO) test -run '^$$' -bench . -benchmem ./... | tee "$$out"; \
	$(GO) run ./test/load -bin bin/verifyd -scenario captcha -store memory -duration 10s | tee -a "$$out"; \
	$(GO) run ./test/load -bin bin/verifyd -scenario smspath -redis "$$url" -clients 64 -rounds 3 -duration 30s | tee -a "$$out"; \
	echo; printf '%-56s %10s  %s\n' goal measured target; \
	awk -f test/bench-goals.awk "$$out"

ocr: ## tesseract against 200 captchas, base64Captcha's PNG vs verifyd's (needs tesseract-ocr; minutes)
	$(GO) run ./test/ocr -n 200

load: build ## HTTP load on loopback, 10 s per scenario; needs the Redis on 127.0.0.1:6379
	$(GO) run ./test/load -bin bin/verifyd -scenario captcha -store memory -duration 10s
	$(GO) run ./test/load -bin bin/verifyd -scenario captcha -store redis -duration 10s
	$(GO) run ./test/load -bin bin/verifyd -scenario sms -store redis -duration 10s
	$(GO) run ./test/load -bin bin/verifyd -scenario smspath -redis "$${VERIFY_TEST_REDIS_URL:-redis://127.0.0.1:6379/15}" -clients 64 -rounds 3 -duration 30s

soak: build ## verifyd's SMS request and verify paths for 2 minutes at 64 connections, sampling its RSS (Redis on 127.0.0.1:6379)
	$(GO) run ./test/load -bin bin/verifyd -scenario soak -redis "$${VERIFY_TEST_REDIS_URL:-redis://127.0.0.1:6379/15}" -clients 64 -rounds 6 -duration 2m

# The container image (Containerfile, FROM scratch). Both binaries are built
# here, static and stripped, and staged with the host's CA bundle and the
# image's passwd/group in $(IMAGE_CONTEXT), the only files the build sees.
# -buildvcs=auto stamps the commit when the checkout allows it, whatever
# GOFLAGS says. PODMAN may add flags, e.g. PODMAN="podman --storage-driver vfs".
IMAGE         ?= localhost/verifyd:latest
IMAGE_CONTEXT ?= build/image
PODMAN        ?= podman

image: ## the container image $(IMAGE), with Debian's podman (installed when missing)
	@deploy/ensure-podman.sh
	rm -rf $(IMAGE_CONTEXT) && mkdir -p $(IMAGE_CONTEXT)
	CGO_ENABLED=0 $(GO) build -buildvcs=auto -trimpath -ldflags "-s -w" -o $(IMAGE_CONTEXT)/ ./cmd/verifyd ./cmd/smsworker
	cp /etc/ssl/certs/ca-certificates.crt deploy/image/passwd deploy/image/group $(IMAGE_CONTEXT)/
	$(PODMAN) build --format docker -f Containerfile -t $(IMAGE) $(IMAGE_CONTEXT)
	@$(PODMAN) image inspect --format '$(IMAGE): {{.Size}} bytes' $(IMAGE)

# make test runs test/image_test.go too (podman installs in about 30 s and the
# image builds in under a minute), so it needs podman first.
test: ensure-podman

ensure-podman:
	@deploy/ensure-podman.sh

image-test: ## builds the image, copies the binaries out and runs them against Redis
	@set -euo pipefail; deploy/ensure-podman.sh; url="$$(test/ensure-redis.sh)"; \
	VERIFY_TEST_REDIS_URL="$$url" $(GO) test -count=1 -v -run '^TestImage' ./test/
