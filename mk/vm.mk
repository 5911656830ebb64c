# SPDX-License-Identifier: LGPL-2.1-or-later
# `make check-kernel`: the tests that need a kernel with AF_ALG keyed by key serial (Linux 6.2+), run
# in a virtual machine: Debian's 6.12 cloud kernel under QEMU 10 (software emulation), fetched from
# bookworm-backports into $(VM_CACHE) by tests/vm/fetch (once; a failed download is an error), booted
# by tests/vm/run-guest on the host's own root file system (virtio-fs, read-only, with a tmpfs
# overlay in the guest). Needs root. Not yet part of `make check`.
#
#         make check-kernel                                  # the default steps below
#         make check-kernel VM_TESTS="afalg bus-smoke"       # Criterion binaries, as run-tests names them
#         make vm-fetch                                      # only the download
#         tests/vm/run-guest --step=NAME='COMMAND' ...       # anything else in the guest (see --help)
#
# Steps: test-afalg directly (with HMACD_TEST_REQUIRE_AFALG=1, so a skip is a failure), then
# tests/run-tests with $(VM_TESTS) inside the guest (its own mount namespace, dbus-daemon, polkitd).

DEB_PACKAGES += xz-utils

VM_DIR := $(B)/vm
VM_CACHE ?= $(VM_DIR)/cache
VM_INIT := $(VM_DIR)/guest-init
VM_TESTS ?= afalg bus-smoke daemon
VM_TIMEOUT ?= 300
VM_RUN_TESTS_ENV ?= HMACD_TEST_REQUIRE_AFALG=1

.PHONY: check-kernel vm-fetch vm-init

vm-fetch:
	tests/vm/fetch $(VM_CACHE)

$(VM_INIT): tests/vm/guest-init.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -o $@ $<

vm-init: $(VM_INIT)

check-kernel: deps
	@t0=$$(date +%s); tests/vm/fetch $(VM_CACHE) || exit 1; t1=$$(date +%s); \
	$(MAKE) --no-print-directory all $(VM_INIT) || exit 1; t2=$$(date +%s); \
	HMACD_VM_CACHE=$(VM_CACHE) HMACD_VM_TIMEOUT=$(VM_TIMEOUT) tests/vm/run-guest \
		--step=test-afalg='HMACD_TEST_REQUIRE_AFALG=1 $(B)/tests/test-afalg --verbose' \
		--step=run-tests='$(VM_RUN_TESTS_ENV) tests/run-tests $(B) $(VM_TESTS)'; rc=$$?; t3=$$(date +%s); \
	echo "check-kernel: fetch $$((t1 - t0)) s, build $$((t2 - t1)) s, VM $$((t3 - t2)) s"; exit $$rc

# `make vm-bench`: in the guest, microseconds per HMAC-SHA-256 through AF_ALG and through OpenSSL, and
# the system calls per MAC of each (strace -c over VM_BENCH_N MACs; the guest shares the host's strace).
VM_BENCH := $(VM_DIR)/afalg-bench
VM_BENCH_N ?= 20000

$(VM_BENCH): tests/vm/afalg-bench.c daemon/afalg.c daemon/afalg.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ tests/vm/afalg-bench.c daemon/afalg.c -lcrypto -lkeyutils

.PHONY: vm-bench
vm-bench: deps
	tests/vm/fetch $(VM_CACHE)
	$(MAKE) --no-print-directory $(VM_INIT) $(VM_BENCH)
	HMACD_VM_CACHE=$(VM_CACHE) tests/vm/run-guest \
		--step=timing='for i in 1 2 3; do $(VM_BENCH) $(VM_BENCH_N); done' \
		--step=syscalls='for m in afalg openssl openssl-mem; do echo "== $$m: $(VM_BENCH_N) MACs"; \
			strace -c -o /tmp/strace.$$m $(VM_BENCH) $(VM_BENCH_N) $$m >/dev/null && \
			grep -E "calls|total|sendto|read|write|keyctl" /tmp/strace.$$m; done'
