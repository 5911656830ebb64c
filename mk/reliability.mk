# SPDX-License-Identifier: LGPL-2.1-or-later
# Reliability runs beyond `make check` (RELIABILITY.md says what each one shows, with the figures of the
# last runs):
#
#         make soak               # 8 clients at full speed for 60 s against 1,000 keys
#         make soak SOAK_ARGS="--seconds=600 --warmup=30"
#         make check-asan         # everything built with ASan+UBSan into $(B)/asan, the whole suite run
#         make check-asan ASAN_TESTS="daemon lifecycle"
#         make check-valgrind     # the integration tests with the daemon under valgrind
#
# The soak program is reliability/soak.c, linked with the tests' harness (tests/harness.c); it is not
# under tests/ because every tests/*.c that is not a test-*.c is linked into each test binary.
# reliability/check-sanitized runs the suite against a copy of the build directory whose hmacd is a
# wrapper (with reliability/valgrind-seccomp.c preloaded for valgrind, which cannot run under the daemon's
# seccomp filter; an ASan build's filter allows the sanitizers' calls itself) and searches the daemon's logs.

DEB_PACKAGES += gdb valgrind

SOAK_BIN := $(B)/reliability/soak
SOAK_ARGS ?=

ASAN_BUILD := $(B)/asan
ASAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_LDFLAGS := -Wl,-z,relro,-z,now -fsanitize=address,undefined
ASAN_TESTS ?=
# test-crash (hundreds of restarts) and test-units would take hours under valgrind; the rest of the
# tests that start the daemon run.
VALGRIND_TESTS ?= bus-smoke daemon lifecycle import cli cli-import polkit matrix faults secrets

.PHONY: soak check-asan check-valgrind

$(SOAK_BIN): reliability/soak.c $(B)/tests/harness.o $(B)/tests/key-specs.o $(LIBHMACD) $(SHARED_A) $(wildcard common/*.h lib/*.h tests/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests $(LDFLAGS) -o $@ reliability/soak.c $(B)/tests/harness.o $(B)/tests/key-specs.o -L$(B) -lhmacd \
		$(SHARED_A) $(PKG_LIBS) -lcriterion -lpthread -Wl,-rpath,'$$ORIGIN/..'

# Preloaded libraries: their functions must stay visible, so not with $(ALL_CFLAGS).
$(B)/reliability/%-seccomp.so: reliability/%-seccomp.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wno-unused-parameter -shared -fPIC $(LDFLAGS) -o $@ $< \
		-lseccomp -ldl

soak: deps
	$(MAKE) all $(SOAK_BIN)
	reliability/run-soak $(B) $(SOAK_ARGS)

check-asan: deps
	$(MAKE) B=$(ASAN_BUILD) CFLAGS="$(ASAN_CFLAGS)" LDFLAGS="$(ASAN_LDFLAGS)" all
	reliability/check-sanitized asan $(ASAN_BUILD) $(B)/asan-run $(ASAN_TESTS)

check-valgrind: deps
	$(MAKE) all $(B)/reliability/valgrind-seccomp.so
	reliability/check-sanitized valgrind $(B) $(B)/valgrind-run $(B)/reliability/valgrind-seccomp.so \
		$(VALGRIND_TESTS)
