# Ward: a thin wrapper around the CMake presets (CMakePresets.json) and the
# scripts in scripts/. Every target that builds first installs what is missing
# (scripts/install-deps: quick when everything is present).
#
#   make scan [PATHS="dir file ..."] [ARGS="--allmatch ..."]
#   make test                 ci preset + asan preset, every test
#   make build                release preset: build/release/ward and build/release/wardd
#   make fuzz [FUZZ_SECONDS=600] [FUZZ_OUT=/tmp/ward-fuzz]
#   make bench | bench-quick | lint | deps | clean

SHELL := /bin/bash
JOBS ?= 2
FUZZ_SECONDS ?= 600
FUZZ_OUT ?= /tmp/ward-fuzz
PATHS ?=
ARGS ?=

WARD := build/release/ward
DEMO := build/demo
# Signatures for `make scan`: the bundled starter database, plus ClamAV's
# databases when freshclam (or a person) has put some in /var/lib/clamav.
CLAMAV_DB := /var/lib/clamav
CLAMAV_HAS_DB = $(strip $(wildcard $(CLAMAV_DB)/*.cvd $(CLAMAV_DB)/*.cld $(CLAMAV_DB)/*.cud))
SCAN_DBS = -d db/starter $(if $(CLAMAV_HAS_DB),-d $(CLAMAV_DB))
SCAN_PATHS = $(if $(PATHS),$(PATHS),$(DEMO))

export CMAKE_BUILD_PARALLEL_LEVEL := $(JOBS)
export CTEST_PARALLEL_LEVEL := $(JOBS)

.PHONY: all deps build scan demo test fuzz bench bench-quick lint clean help

all: build

help:
	@sed -n '1,11p' Makefile | sed 's/^# \{0,1\}//'

deps:
	@scripts/install-deps

build: deps
	cmake --preset release
	cmake --build --preset release --parallel $(JOBS) --target ward wardd
	@test -x $(WARD) || { echo "make: $(WARD) was not built (is cli/ empty?)"; exit 2; }

demo: deps
	scripts/make-demo $(DEMO)

# ward exits 0 (clean), 1 (something found) or 2 (error). Finding something is
# what the demo is for, so only 2 (or worse) fails the target; run ward itself
# when a script needs the exit status.
scan: build $(if $(PATHS),,demo)
	$(info databases: db/starter$(if $(CLAMAV_HAS_DB), and $(CLAMAV_DB), (no ClamAV databases in $(CLAMAV_DB))))
	$(info + $(WARD) scan -r $(SCAN_DBS) $(ARGS) $(SCAN_PATHS))
	@$(WARD) scan -r $(SCAN_DBS) $(ARGS) $(SCAN_PATHS); rc=$$?; \
	case $$rc in \
	0) echo "make scan: no threats found";; \
	1) echo "make scan: threats found (ward exit status 1)";; \
	*) echo "make scan: ward failed (exit status $$rc)"; exit $$rc;; \
	esac

test: deps
	JOBS=$(JOBS) scripts/run-tests ci asan

fuzz: deps
	cmake --preset fuzz
	cmake --build --preset fuzz --parallel $(JOBS)
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_OUT=$(FUZZ_OUT) scripts/fuzz

bench: build
	@if [ -x bench/run ]; then bench/run; else echo "make bench: not yet (bench/run does not exist)"; fi

bench-quick: build
	@if [ -x bench/run ]; then bench/run --quick; else echo "make bench-quick: not yet (bench/run does not exist)"; fi

lint: deps
	@if [ -x scripts/lint ]; then scripts/lint; else echo "make lint: not yet (scripts/lint does not exist)"; fi

# Only the preset build directories and the demo: engineers' own build/<name>/
# directories are left alone.
clean:
	rm -rf build/dev build/ci build/asan build/release build/fuzz $(DEMO)
