# SPDX-License-Identifier: LGPL-2.1-or-later
# `make check-kernel`: the tests that need a kernel with AF_ALG keyed by key serial (Linux 6.2+), run
# in a virtual machine: Debian's 6.12 cloud kernel under QEMU 10 (software emulation), fetched from
# bookworm-backports into $(VM_CACHE) by tests/vm/fetch (once; a failed download is an error), booted
# by tests/vm/run-guest on the host's own root file system (virtio-fs, read-only, with a tmpfs
# overlay in the guest). Needs root. Part of `make check` (CHECK_KERNEL=no leaves it out).
#
#         make check-kernel                                  # the default steps below
#         make check-kernel VM_TESTS="afalg bus-smoke"       # Criterion binaries, as run-tests names them
#         make vm-fetch                                      # only the download
#         tests/vm/run-guest --step=NAME='COMMAND' ...       # anything else in the guest (see --help)
#
# Steps: test-afalg directly (with HMACD_TEST_REQUIRE_AFALG=1, so a skip is a failure), then
# tests/run-tests with $(VM_TESTS) inside the guest (its own mount namespace, dbus-daemon, polkitd):
# test-engine (the kernel engine through the bus), test-seccomp (the AF_ALG filter on a kernel that
# has AF_ALG) and integration tests whose daemon now runs the kernel engine. The source tree may be
# anywhere, /tmp included (run-guest keeps it visible in the guest).
#
# Time (2 shared cores, TCG): boot 9-22 s, test-afalg 10-16 s, the default VM_TESTS 90-145 s; the first
# download about 3 min. These pass in the guest too but are left out of the default for time:
# daemon (65 s), lifecycle (115 s), matrix (56 s), keyring (13 s), kms-service (9 s). Not in the guest:
# tests that import keys over the bus (import, secrets, cli-import: an RSA key per import takes
# seconds under emulation, beyond sd-bus's 25 s timeout with two jobs) and those that need the host's
# tools or files (units, selinux, install).

DEB_PACKAGES += xz-utils

VM_DIR := $(B)/vm
VM_CACHE ?= $(VM_DIR)/cache
VM_INIT := $(VM_DIR)/guest-init
VM_TESTS ?= engine seccomp bus-smoke kms rotation
VM_TIMEOUT ?= 300
VM_RUN_TESTS_ENV ?= HMACD_TEST_REQUIRE_AFALG=1

.PHONY: check-kernel vm-fetch vm-init

vm-fetch:
	tests/vm/fetch $(VM_CACHE)

$(VM_INIT): tests/vm/guest-init.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -o $@ $<

vm-init: $(VM_INIT)

# The fixture (test-engine's imported keys, made on the host where RSA key generation is fast): a
# store, its KEK and the materials, opened under the kernel engine in the guest.
VM_FIXTURE := $(VM_DIR)/fixture

check-kernel: deps
	@echo "check-kernel: the kernel engine in a VM (Linux 6.12 under QEMU 10; fetched once into $(VM_CACHE))"; \
	t0=$$(date +%s); tests/vm/fetch $(VM_CACHE) || exit 1; t1=$$(date +%s); \
	$(MAKE) --no-print-directory all $(VM_INIT) || exit 1; \
	rm -rf $(VM_FIXTURE) && HMACD_TEST_ENGINE_FIXTURE_OUT=$(abspath $(VM_FIXTURE)) \
		tests/run-tests $(B) engine -- --filter 'engine/make_fixture' || exit 1; t2=$$(date +%s); \
	HMACD_VM_CACHE=$(VM_CACHE) HMACD_VM_TIMEOUT=$(VM_TIMEOUT) tests/vm/run-guest \
		--step=test-afalg='HMACD_TEST_REQUIRE_AFALG=1 $(B)/tests/test-afalg --verbose' \
		--step=run-tests='$(VM_RUN_TESTS_ENV) HMACD_TEST_ENGINE_FIXTURE=$(abspath $(VM_FIXTURE)) tests/run-tests $(B) $(VM_TESTS)'; \
	rc=$$?; t3=$$(date +%s); \
	echo "check-kernel: fetch $$((t1 - t0)) s, build and fixture $$((t2 - t1)) s, VM $$((t3 - t2)) s"; exit $$rc

# `make vm-bench`: in the guest, microseconds per HMAC-SHA-256 through AF_ALG and through OpenSSL, and
# the system calls per MAC of each (strace -c over VM_BENCH_N MACs; the guest shares the host's strace);
# then the daemon itself under each engine (test-engine's engine/figures: microseconds per GenerateMac
# over the bus, and the daemon's system calls per GenerateMac, strace attached to it).
VM_BENCH := $(VM_DIR)/afalg-bench
VM_BENCH_N ?= 20000
# strace is slow under emulation (about 1.7 ms per traced call): fewer MACs for the counts.
VM_BENCH_STRACE_N ?= 2000

$(VM_BENCH): tests/vm/afalg-bench.c daemon/afalg.c daemon/afalg.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ tests/vm/afalg-bench.c daemon/afalg.c -lcrypto -lkeyutils

.PHONY: vm-bench
vm-bench: deps
	tests/vm/fetch $(VM_CACHE)
	$(MAKE) --no-print-directory $(VM_INIT) $(VM_BENCH)
	HMACD_VM_CACHE=$(VM_CACHE) tests/vm/run-guest \
		--step=timing='for i in 1 2 3; do $(VM_BENCH) $(VM_BENCH_N); done' \
		--step=daemon='HMACD_TEST_ENGINE_BENCH=1 tests/run-tests $(B) engine -- --filter engine/figures' \
		--step=syscalls='for m in afalg openssl openssl-mem; do echo "== $$m: $(VM_BENCH_STRACE_N) MACs"; \
			strace -c -o /tmp/strace.$$m $(VM_BENCH) $(VM_BENCH_STRACE_N) $$m >/dev/null && \
			grep -E "calls|total|sendto|read|write|keyctl" /tmp/strace.$$m; done'
