# SPDX-License-Identifier: LGPL-2.1-or-later
# `make check-system`: the booted-system test of issue 14 (tests/vm/system/run). A Debian root file
# system made with debootstrap (cached in $(SYSTEM_DIR)/roots, keyed by its package list), the
# packages of this tree installed in a copy of it with dpkg -i, booted twice with systemd as PID 1
# under QEMU 10 on Debian's 6.12 cloud kernel (both from tests/vm/fetch, shared with check-kernel).
# Needs root; a failed download is an error, never a skip.
#
#         make check-system                     # Debian 12: packages from `make deb` on this host
#         make check-system SUITE=trixie        # Debian 13: packages built in a trixie chroot,
#                                               # trixie's own cloud kernel (not part of `make check`)
#         make check-system SYSTEM_DEBS=DIR     # boot these .debs instead of building them

DEB_PACKAGES += debootstrap e2fsprogs util-linux

SUITE ?= bookworm
SYSTEM_DIR := $(B)/system
SYSTEM_TIMEOUT ?= 420
SYSTEM_WORK := $(SYSTEM_DIR)/$(SUITE)
SYSTEM_DEBS ?=
# For a quicker look: SYSTEM_ARGS="--boots=1 --append=hmacd_system.burst=2000" (see tests/vm/system/run).
SYSTEM_ARGS ?=

.PHONY: check-system

check-system: deps
	@set -e; t0=$$(date +%s); \
	tests/vm/fetch $(VM_CACHE); \
	case "$(SUITE)" in \
	bookworm) \
		kernel=$(VM_CACHE)/kernel; \
		debs="$(SYSTEM_DEBS)"; \
		if [ -z "$$debs" ]; then $(MAKE) --no-print-directory deb; debs=$(DEB_DIR); fi; \
		mkdir -p $(SYSTEM_WORK); \
		$(CC) -O2 -Wall -o $(SYSTEM_WORK)/mac-burst tests/vm/system/mac-burst.c \
			$$(pkg-config --cflags --libs libsystemd); \
		burst=$(SYSTEM_WORK)/mac-burst ;; \
	trixie) \
		kernel=$(SYSTEM_DIR)/kernel-trixie; \
		tests/vm/system/fetch-kernel trixie $$kernel; \
		tests/vm/system/build-in-chroot trixie $(SYSTEM_DIR) $(SYSTEM_WORK)/out; \
		debs="$(SYSTEM_DEBS)"; [ -n "$$debs" ] || debs=$(SYSTEM_WORK)/out; \
		burst=$(SYSTEM_WORK)/out/mac-burst ;; \
	*) echo "check-system: SUITE is bookworm or trixie"; exit 1 ;; \
	esac; \
	root=$$(tests/vm/system/mkroot $(SUITE) $(SYSTEM_DIR)/roots); t1=$$(date +%s); \
	rc=0; tests/vm/system/run --root=$$root --debs=$$debs --kernel=$$kernel --qemu=$(VM_CACHE)/qemu \
		--burst=$$burst --work=$(SYSTEM_WORK)/run --timeout=$(SYSTEM_TIMEOUT) $(SYSTEM_ARGS) || rc=$$?; t2=$$(date +%s); \
	echo "check-system ($(SUITE)): fetch, packages and root $$((t1 - t0)) s, image and boots $$((t2 - t1)) s"; \
	exit $$rc
