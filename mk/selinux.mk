# SPDX-License-Identifier: LGPL-2.1-or-later
# The SELinux policy module: `make selinux` builds $(B)/selinux/hmacd.pp from selinux/hmacd.{te,fc,if}
# with the Makefile of Debian's selinux-policy-dev (the reference policy's headers), in a copy under
# $(B) so that selinux/ stays clean. Not part of `all`; tests/test-selinux.c runs it (so `make check`
# does) and links the module into a throwaway copy of selinux-policy-default's store.
#
# Install on a host running the reference policy:
#         semodule -i build/selinux/hmacd.pp
#         restorecon -RF /usr/libexec/hmacd /var/lib/hmacd /usr/lib/systemd/system/hmacd.service

DEB_PACKAGES += selinux-policy-dev selinux-policy-default checkpolicy semodule-utils policycoreutils \
        selinux-utils setools

SELINUX_DEVEL_MAKEFILE ?= /usr/share/selinux/devel/Makefile
SELINUX_SOURCES := selinux/hmacd.te selinux/hmacd.fc selinux/hmacd.if

.PHONY: selinux
selinux: $(B)/selinux/hmacd.pp

# The devel Makefile is run as a separate make: our command-line variables (PREFIX=..., B=...) must
# not reach it (it sets PREFIX itself to find checkmodule). NAME=default: Debian's selinux-policy-default,
# whatever /etc/selinux/config names.
$(B)/selinux/hmacd.pp: $(SELINUX_SOURCES)
	@mkdir -p $(@D)
	cp $^ $(@D)/
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -C $(@D) \
		-f $(SELINUX_DEVEL_MAKEFILE) NAME=default hmacd.pp
