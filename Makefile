# SPDX-License-Identifier: LGPL-2.1-or-later
# hmacd: a plain Makefile. `make` builds into build/, `make check` runs every test, `make demo`
# shows the service at work; both install their Debian packages first (`make deps`).

VERSION := 0.1.0
SOVERSION := 0
PREFIX ?= /usr/local
B := build

PKGS := libsystemd libseccomp sqlite3 libcrypto
CC ?= cc
CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wformat=2 -Wmissing-prototypes \
        -Wstrict-prototypes -Wvla -Wdate-time -Wno-missing-field-initializers
ifeq ($(CI),true)
WARNINGS += -Werror
endif
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif
# Hardening that every build gets, whatever CFLAGS and LDFLAGS say (Debian's dpkg-buildflags, with
# hardening=+all, gives the same and more; they come after ours and are honoured, as is CPPFLAGS).
# Stack-clash and control-flow protection only where the compiler knows them for the target
# (-fcf-protection is x86 only); _FORTIFY_SOURCE=2 unless CPPFLAGS or CFLAGS choose a level.
cc_option = $(shell $(CC) -Werror $(1) -c -x c -o /dev/null /dev/null >/dev/null 2>&1 && echo $(1))
HARDENING_CFLAGS := -fstack-protector-strong \
        $(if $(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS)),,-D_FORTIFY_SOURCE=2) \
        $(call cc_option,-fstack-clash-protection) $(call cc_option,-fcf-protection)
HARDENING_LDFLAGS := -Wl,-z,relro,-z,now
BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE -fPIC $(HARDENING_CFLAGS) -fvisibility=hidden -Icommon -Ilib \
        -DHMACD_VERSION='"$(VERSION)"' $(WARNINGS)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lkeyutils -lm
ALL_CFLAGS = $(BASE_CFLAGS) $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)
LDFLAGS ?= $(HARDENING_LDFLAGS)
# --as-needed: libhmacd and hmacctl record only the libraries they use, not all of $(PKG_LIBS).
ALL_LDFLAGS = $(HARDENING_LDFLAGS) -Wl,--as-needed $(filter-out $(HARDENING_LDFLAGS),$(LDFLAGS))

# Debian packages needed to build, test and demo.
DEB_PACKAGES := gcc make pkg-config libsystemd-dev libkeyutils-dev keyutils libssl-dev openssl \
        libseccomp-dev libsqlite3-dev sqlite3 libcriterion-dev dbus dbus-bin polkitd util-linux \
        passwd procps

# common/: what daemon, library and CLI share inside the project (specs, limits, identifiers, the hash
# table); lib/: the public client library alone.
SHARED_SRC := $(wildcard common/*.c)
CLIENT_SRC := lib/hmacd.c
DAEMON_SRC := $(filter-out daemon/main.c,$(wildcard daemon/*.c))
CLI_SRC := $(wildcard cli/*.c)
# Every cli module but main(), for the unit tests of the cli modules.
CLI_LIB_SRC := $(filter-out cli/hmacctl.c,$(CLI_SRC))
TEST_SUPPORT_SRC := $(filter-out tests/test-%.c,$(wildcard tests/*.c))
TEST_SRC := $(wildcard tests/test-*.c)

obj = $(patsubst %.c,$(B)/%.o,$(1))

SHARED_A := $(B)/libshared.a
DAEMON_A := $(B)/libdaemon.a
CLI_A := $(B)/libcli.a
LIBHMACD := $(B)/libhmacd.so.$(VERSION)
TESTS := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRC))

.PHONY: all deps check check-unit check-integration demo clean install
.DEFAULT_GOAL := all
.SECONDARY:

all: $(B)/hmacd $(B)/hmacctl $(LIBHMACD) $(B)/libhmacd.pc $(TESTS) $(B)/tests/tools/hmacd-harness

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Header dependencies come from the compiler (-MMD -MP): touching a header rebuilds what includes it.
$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(SHARED_A): $(call obj,$(SHARED_SRC))
	rm -f $@ && ar rcs $@ $^

$(DAEMON_A): $(call obj,$(DAEMON_SRC))
	rm -f $@ && ar rcs $@ $^

# Unit tests of the cli modules include their headers.
$(B)/tests/%.o: ALL_CFLAGS += -Icli

$(CLI_A): $(call obj,$(CLI_LIB_SRC))
	rm -f $@ && ar rcs $@ $^

$(LIBHMACD): $(call obj,$(CLIENT_SRC)) $(SHARED_A) lib/libhmacd.sym
	$(CC) -shared -Wl,-soname,libhmacd.so.$(SOVERSION) -Wl,--version-script=lib/libhmacd.sym \
		$(ALL_LDFLAGS) -o $@ $(call obj,$(CLIENT_SRC)) $(SHARED_A) $(PKG_LIBS)
	ln -sf libhmacd.so.$(VERSION) $(B)/libhmacd.so.$(SOVERSION)
	ln -sf libhmacd.so.$(SOVERSION) $(B)/libhmacd.so

$(B)/libhmacd.pc: lib/libhmacd.pc.in
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' $< > $@

$(B)/hmacd: $(call obj,daemon/main.c) $(DAEMON_A) $(SHARED_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# No RUNPATH: `make install` copies this very file, and an installed program must find the library
# where the system keeps it. From the build tree, tests/run-tests, tests/demo.sh and the bench set
# LD_LIBRARY_PATH to the build directory (tests/lib.sh: hmacd_use_build_library).
$(B)/hmacctl: $(call obj,$(CLI_SRC)) $(LIBHMACD) $(SHARED_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $(call obj,$(CLI_SRC)) -L$(B) -lhmacd $(SHARED_A) $(PKG_LIBS)

$(B)/tests/%: $(B)/tests/%.o $(call obj,$(TEST_SUPPORT_SRC)) $(CLI_A) $(DAEMON_A) $(SHARED_A) $(LIBHMACD)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(call obj,$(TEST_SUPPORT_SRC)) $(CLI_A) $(DAEMON_A) $(SHARED_A) -L$(B) -lhmacd \
		$(PKG_LIBS) -lcriterion -Wl,-rpath,'$$ORIGIN/..'

# The harness for scripts (make demo): the same bus and daemon start as the tests'.
$(B)/tests/tools/%.o: ALL_CFLAGS += -Itests
$(B)/tests/tools/hmacd-harness: $(B)/tests/tools/hmacd-harness.o $(B)/tests/harness.o $(SHARED_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcriterion

# Then the kernel engine's tests in a VM (mk/vm.mk); CHECK_KERNEL=no leaves them out, saying so.
CHECK_KERNEL ?= yes

check: deps
	$(MAKE) all
	@rc=0; tests/run-tests $(B) || rc=1; \
	if [ "$(CHECK_KERNEL)" = no ]; then echo "check: check-kernel left out (CHECK_KERNEL=no)"; \
	else $(MAKE) --no-print-directory check-kernel || rc=1; fi; exit $$rc

demo: deps
	$(MAKE) all
	tests/demo.sh $(B)

clean:
	rm -rf $(B)

# Not below the package build's copy of the tree, nor the guests' root file systems (their files
# named *.d are directories and scripts, not dependency files).
-include $(shell find $(B) \( -path $(B)/deb -o -path $(B)/system -o -path $(B)/vm \) -prune -o \
        -name '*.d' -type f -print 2>/dev/null)

# Further targets (install, selinux, bench, ...) live in mk/*.mk, included last so that they can use
# the variables above; they may add to DEB_PACKAGES.
include $(wildcard mk/*.mk)
