# SPDX-License-Identifier: LGPL-2.1-or-later
# libFuzzer targets for the parsers and validators that take client input (fuzz/README.md says what
# each one checks). Every fuzz/fuzz-NAME.c becomes $(B)/fuzz/fuzz-NAME, built with Debian's clang and
# -fsanitize=fuzzer,address,undefined against instrumented copies of the sources it exercises; its
# seed corpus is fuzz/corpus/NAME/, and fuzz/NAME.dict, where there is one, its dictionary.
#
#         make fuzz                       # every target for $(FUZZ_SECONDS) seconds (default 60)
#         make fuzz FUZZ_SECONDS=600 FUZZ_TARGETS="marker ident"
#         make fuzz-marker                # one target
#
# A run reads the committed corpus but writes what it finds to a scratch copy under
# $(B)/fuzz/run/NAME/, so fuzz/corpus/ only changes when someone commits a new entry on purpose;
# crash reproducers land in $(B)/fuzz/artifacts/NAME/. `make check` builds the targets (they are
# prerequisites of tests/test-fuzz-short, which runs each for a few seconds).

DEB_PACKAGES += clang libclang-rt-14-dev

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
# Everything a target links: the instrumented sources of the client-facing parsers.
FUZZ_LIB_SRC := common/ident.c common/kms.c common/hashmap.c common/base64.c daemon/marker.c daemon/import.c lib/hmacd.c $(filter-out cli/hmacctl.c,$(wildcard cli/*.c))
FUZZ_ALL_TARGETS := $(patsubst fuzz/fuzz-%.c,%,$(wildcard fuzz/fuzz-*.c))
FUZZ_TARGETS ?= $(FUZZ_ALL_TARGETS)
FUZZ_BINARIES := $(addprefix $(B)/fuzz/fuzz-,$(FUZZ_ALL_TARGETS))
FUZZ_LIB_A := $(B)/fuzz/libfuzzed.a

FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=gnu11 -D_GNU_SOURCE -DHMACD_VERSION='"$(VERSION)"' -g -O1 $(FUZZ_SAN) -Icommon -Ilib -Idaemon -Icli $(WARNINGS) $(PKG_CFLAGS)

.PHONY: fuzz fuzz-build $(addprefix fuzz-,$(FUZZ_ALL_TARGETS))

fuzz-build: $(FUZZ_BINARIES)

# The short runs of `make check` need the binaries; where there is no clang (before `make deps`) the
# test says so and skips.
ifneq ($(shell command -v $(FUZZ_CC) 2>/dev/null),)
$(B)/tests/test-fuzz-short: $(FUZZ_BINARIES)
endif

$(B)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB_A): $(patsubst %.c,$(B)/fuzz/obj/%.o,$(FUZZ_LIB_SRC))
	rm -f $@ && ar rcs $@ $^

# fuzz-cli-args compiles cli/hmacctl.c itself (it #includes it to reach the static parse_argv()).
$(B)/fuzz/fuzz-%: fuzz/fuzz-%.c $(FUZZ_LIB_A) $(wildcard fuzz/*.h common/*.h lib/*.h daemon/*.h cli/*.h cli/hmacctl.c)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_A) $(PKG_LIBS)

# One target: its corpus in a scratch copy, -max_total_time, and the number of executions.
define fuzz_run
fuzz-$(1): $(B)/fuzz/fuzz-$(1)
	@rm -rf $(B)/fuzz/run/$(1) $(B)/fuzz/artifacts/$(1)
	@mkdir -p $(B)/fuzz/run/$(1) $(B)/fuzz/artifacts/$(1)
	@echo "==== fuzz-$(1): $(FUZZ_SECONDS) s on fuzz/corpus/$(1)"
	@$(B)/fuzz/fuzz-$(1) -max_total_time=$(FUZZ_SECONDS) -timeout=25 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix=$(B)/fuzz/artifacts/$(1)/ \
		$(if $(wildcard fuzz/$(1).dict),-dict=fuzz/$(1).dict) \
		$(B)/fuzz/run/$(1) fuzz/corpus/$(1) >$(B)/fuzz/run/$(1).log 2>&1; \
	rc=$$$$?; \
	execs=$$$$(sed -n 's/^stat::number_of_executed_units: *//p' $(B)/fuzz/run/$(1).log); \
	cov=$$$$(grep -o 'cov: [0-9]*' $(B)/fuzz/run/$(1).log | tail -n 1); \
	found=$$$$(ls $(B)/fuzz/run/$(1) | wc -l); \
	echo "==== fuzz-$(1): exit $$$$rc, $$$${execs:-?} executions, $$$${cov:-cov: ?}, $$$$found new inputs"; \
	if [ $$$$rc != 0 ] || [ -n "$$$$(ls -A $(B)/fuzz/artifacts/$(1))" ]; then \
		tail -n 60 $(B)/fuzz/run/$(1).log; \
		echo "fuzz-$(1) failed: reproducers in $(B)/fuzz/artifacts/$(1)/"; exit 1; \
	fi
endef
$(foreach t,$(FUZZ_ALL_TARGETS),$(eval $(call fuzz_run,$(t))))

# Every target in turn (not in parallel: each one is given the whole machine for its time).
fuzz: deps
	$(MAKE) fuzz-build
	@failed=; for t in $(FUZZ_TARGETS); do $(MAKE) --no-print-directory fuzz-$$t || failed="$$failed $$t"; done; \
	if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed"; exit 1; fi; echo "fuzz: all targets passed"
