# SPDX-License-Identifier: LGPL-2.1-or-later
# `make deb`: the Debian packages hmacd, hmacctl, libhmacd0 and libhmacd-dev (and their -dbgsym),
# built from debian/ with `dpkg-buildpackage -b -us -uc` in a copy of the tree, $(DEB_DIR)/src, so
# that the source tree stays clean. The .debs land in $(DEB_DIR)/; lintian must report no error and
# no warning. Install them with `apt install ./build/deb/*.deb`.
#
# The copy holds the files git knows (tracked, with their working-tree content, and untracked files
# that are not ignored), so uncommitted changes are packaged too; outside a git checkout, every file
# but $(B)/.
#
#         make deb
#         make deb DEB_BUILD_OPTIONS=noopt   # passed on to dpkg-buildpackage

DEB_DIR := $(B)/deb
# What `make deb` needs: the tools and debian/control's Build-Depends (dpkg-buildpackage checks the
# latter again with dpkg-checkbuilddeps).
DEB_PACKAGES_DEB := build-essential debhelper dpkg-dev devscripts lintian pkg-config systemd libsystemd-dev \
        libkeyutils-dev libseccomp-dev libsqlite3-dev libssl-dev

.PHONY: deb deps-deb deb-check-elf programs

# What a package ships, without the test binaries of `all` (spelled out: the main Makefile defines
# $(LIBHMACD) after including us).
programs: $(B)/hmacd $(B)/hmacctl $(B)/libhmacd.so.$(VERSION)

# The same dpkg/apt-get logic as `deps` in the Makefile, for the packaging tools.
deps-deb:
	@missing=$$(for p in $(DEB_PACKAGES_DEB); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Two parallel jobs at most unless DEB_BUILD_OPTIONS says otherwise.
deb: deps-deb
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/src
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -z --cached --others --exclude-standard | \
			tar --null --no-recursion --ignore-failed-read -T - -cf - | tar -xf - -C $(DEB_DIR)/src; \
	else \
		tar --exclude=./$(B) -cf - . | tar -xf - -C $(DEB_DIR)/src; \
	fi
	cd $(DEB_DIR)/src && \
		DEB_BUILD_OPTIONS="$(if $(findstring parallel=,$(DEB_BUILD_OPTIONS)),,parallel=2 )$(DEB_BUILD_OPTIONS)" \
		dpkg-buildpackage -b -us -uc
	lintian --fail-on error,warning --info --display-info $(DEB_DIR)/*.changes
	$(MAKE) --no-print-directory deb-check-elf

# The ELF files as packaged (stripped): hardening-check, and no RUNPATH or RPATH. Not required of
# hardening-check: control-flow protection, because Debian 12's glibc start files (Scrt1.o, crti.o,
# crtn.o) carry no IBT/SHSTK property, so the linker drops it from every program and library built
# there although each object of ours has it (-fcf-protection; `readelf -n build/cli/hmacctl.o`);
# nor, for the library, fortified calls: its only fortifiable one is memcpy with sizes known at run
# time, which _FORTIFY_SOURCE leaves alone (its __explicit_bzero_chk is not in hardening-check's list).
# Stack-clash protection shows as "unknown" where no function has a frame large enough to need
# probes; the compiler flags are recorded in the -dbgsym packages (DW_AT_producer).
deb-check-elf:
	rm -rf $(DEB_DIR)/root
	for d in $(DEB_DIR)/hmacd_*.deb $(DEB_DIR)/hmacctl_*.deb $(DEB_DIR)/libhmacd0_*.deb; do \
		dpkg-deb -x $$d $(DEB_DIR)/root || exit 1; done
	hardening-check --nocfprotection $(DEB_DIR)/root/usr/libexec/hmacd $(DEB_DIR)/root/usr/bin/hmacctl
	hardening-check --nocfprotection --nofortify $(DEB_DIR)/root/usr/lib/*/libhmacd.so.$(VERSION)
	@for f in $(DEB_DIR)/root/usr/libexec/hmacd $(DEB_DIR)/root/usr/bin/hmacctl \
			$(DEB_DIR)/root/usr/lib/*/libhmacd.so.$(VERSION); do \
		if readelf -d $$f | grep -E '\((RUNPATH|RPATH)\)'; then echo "$$f has a RUNPATH or RPATH"; exit 1; fi; \
	done; echo "no RUNPATH or RPATH in the packaged ELF files"
	@echo "make deb: packages in $(DEB_DIR)/:"; ls -1 $(DEB_DIR)/*.deb
