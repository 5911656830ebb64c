# SPDX-License-Identifier: LGPL-2.1-or-later
# `make install DESTDIR=... PREFIX=/usr`: the FHS layout of a system package. `make uninstall` (same
# variables) removes those files again. Installing copies exactly what `make` built into $(B)
# (nothing is stripped or relinked: tests/test-units.c checks that the installed binaries are the ones
# the tests ran, and that they carry no RUNPATH); the pkg-config file is written for the libdir it is installed in, and the unit's
# ExecStart= for $(LIBEXECDIR) (with PREFIX=/usr the unit is the one in the source tree, unchanged).
#
# After installing into / (PREFIX=/usr), as root:
#         systemd-sysusers hmacd.conf             # the system user "hmacd"
#         systemctl daemon-reload
#         systemctl reload dbus                   # the bus policy and the activation file
#         journalctl --update-catalog             # the texts of hmacd's MESSAGE_IDs
#         systemctl enable hmacd                  # the alias D-Bus activation goes through
#
# Directories follow Debian: the library goes to lib/<multiarch>/ where the compiler names one, and
# units, sysusers.d, D-Bus and polkit files below $(PREFIX) (only PREFIX=/usr puts them where
# dbus-daemon and polkitd look by default).

DEB_PACKAGES += systemd libxml2-utils man-db groff-base strace

MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

BINDIR ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec
LIBDIR ?= $(PREFIX)/lib$(if $(MULTIARCH),/$(MULTIARCH))
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
SYSTEMDSYSTEMUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
CATALOGDIR ?= $(PREFIX)/lib/systemd/catalog
DBUSDATADIR ?= $(DATADIR)/dbus-1
POLKITDATADIR ?= $(DATADIR)/polkit-1
BASHCOMPLETIONDIR ?= $(DATADIR)/bash-completion/completions
INSTALL ?= install

# libdir and includedir in the .pc file, relative to ${prefix} where they lie below it.
pc_dir = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))

# What `install` builds first.
INSTALL_INPUTS := $(B)/hmacd $(B)/hmacctl $(LIBHMACD)

INSTALLED_FILES = \
        $(LIBEXECDIR)/hmacd \
        $(BINDIR)/hmacctl \
        $(LIBDIR)/libhmacd.so.$(VERSION) \
        $(LIBDIR)/libhmacd.so.$(SOVERSION) \
        $(LIBDIR)/libhmacd.so \
        $(INCLUDEDIR)/hmacd.h \
        $(PKGCONFIGDIR)/libhmacd.pc \
        $(SYSTEMDSYSTEMUNITDIR)/hmacd.service \
        $(SYSUSERSDIR)/hmacd.conf \
        $(CATALOGDIR)/hmacd.catalog \
        $(DBUSDATADIR)/system.d/io.hmacd.Kms1.conf \
        $(DBUSDATADIR)/system-services/io.hmacd.Kms1.service \
        $(DBUSDATADIR)/interfaces/io.hmacd.Kms1.xml \
        $(POLKITDATADIR)/actions/io.hmacd.policy \
        $(POLKITDATADIR)/rules.d/50-hmacd.rules \
        $(MANDIR)/man8/hmacd.8 \
        $(MANDIR)/man1/hmacctl.1 \
        $(BASHCOMPLETIONDIR)/hmacctl

.PHONY: uninstall

install: $(INSTALL_INPUTS)
	$(INSTALL) -d $(addprefix $(DESTDIR),$(LIBEXECDIR) $(BINDIR) $(LIBDIR) $(INCLUDEDIR) $(PKGCONFIGDIR) \
		$(SYSTEMDSYSTEMUNITDIR) $(SYSUSERSDIR) $(CATALOGDIR) $(DBUSDATADIR)/system.d $(DBUSDATADIR)/system-services \
		$(DBUSDATADIR)/interfaces $(POLKITDATADIR)/actions $(POLKITDATADIR)/rules.d $(MANDIR)/man8 \
		$(MANDIR)/man1 $(BASHCOMPLETIONDIR))
	$(INSTALL) -m 0755 $(B)/hmacd $(DESTDIR)$(LIBEXECDIR)/hmacd
	$(INSTALL) -m 0755 $(B)/hmacctl $(DESTDIR)$(BINDIR)/hmacctl
	$(INSTALL) -m 0644 $(B)/libhmacd.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libhmacd.so.$(VERSION)
	ln -sfn libhmacd.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libhmacd.so.$(SOVERSION)
	ln -sfn libhmacd.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libhmacd.so
	$(INSTALL) -m 0644 lib/hmacd.h $(DESTDIR)$(INCLUDEDIR)/hmacd.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
		-e 's|^libdir=.*|libdir=$(call pc_dir,$(LIBDIR))|' \
		-e 's|^includedir=.*|includedir=$(call pc_dir,$(INCLUDEDIR))|' \
		lib/libhmacd.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/libhmacd.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/libhmacd.pc
	sed -e 's|^ExecStart=/usr/libexec/hmacd$$|ExecStart=$(LIBEXECDIR)/hmacd|' systemd/hmacd.service \
		> $(DESTDIR)$(SYSTEMDSYSTEMUNITDIR)/hmacd.service
	chmod 0644 $(DESTDIR)$(SYSTEMDSYSTEMUNITDIR)/hmacd.service
	$(INSTALL) -m 0644 systemd/hmacd.sysusers $(DESTDIR)$(SYSUSERSDIR)/hmacd.conf
	$(INSTALL) -m 0644 systemd/hmacd.catalog $(DESTDIR)$(CATALOGDIR)/hmacd.catalog
	$(INSTALL) -m 0644 dbus/io.hmacd.Kms1.conf $(DESTDIR)$(DBUSDATADIR)/system.d/io.hmacd.Kms1.conf
	$(INSTALL) -m 0644 dbus/io.hmacd.Kms1.service $(DESTDIR)$(DBUSDATADIR)/system-services/io.hmacd.Kms1.service
	$(INSTALL) -m 0644 dbus/io.hmacd.Kms1.xml $(DESTDIR)$(DBUSDATADIR)/interfaces/io.hmacd.Kms1.xml
	$(INSTALL) -m 0644 dbus/io.hmacd.policy $(DESTDIR)$(POLKITDATADIR)/actions/io.hmacd.policy
	$(INSTALL) -m 0644 dbus/io.hmacd.rules $(DESTDIR)$(POLKITDATADIR)/rules.d/50-hmacd.rules
	$(INSTALL) -m 0644 man/hmacd.8 $(DESTDIR)$(MANDIR)/man8/hmacd.8
	$(INSTALL) -m 0644 man/hmacctl.1 $(DESTDIR)$(MANDIR)/man1/hmacctl.1
	$(INSTALL) -m 0644 completion/hmacctl.bash $(DESTDIR)$(BASHCOMPLETIONDIR)/hmacctl

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED_FILES))
