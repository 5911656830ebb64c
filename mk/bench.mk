# SPDX-License-Identifier: LGPL-2.1-or-later
# `make bench`: the benchmarks of issue 7 (bench/hmacd-bench.c, run by bench/run). Never part of `all`
# or `check`. It installs its own Debian packages (the PKCS#11 peer and gnuplot), builds everything,
# runs one benchmark pass (a few minutes; as root, in a private mount namespace) that prints every
# figure and writes bench/results.json and bench/batch.dat, then draws bench/batch.png from the latter.
#
#         make bench                         # everything
#         make bench BENCH_ARGS=--seconds=2  # longer figures (see build/bench/hmacd-bench --help)
#         make bench-plot                    # only redraw bench/batch.png from bench/batch.dat
#         make bench-profile                 # where the time of a call goes (bench/profile)

DEB_PACKAGES_BENCH += softhsm2 p11-kit p11-kit-modules libp11-kit-dev gnuplot-nox

BENCH_BIN := $(B)/bench/hmacd-bench
BENCH_ARGS ?=

.PHONY: bench deps-bench bench-plot bench-profile

# The same dpkg/apt-get logic as `deps` in the Makefile, for the bench's own packages.
deps-bench:
	@missing=$$(for p in $(DEB_PACKAGES_BENCH); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

bench: deps deps-bench
	$(MAKE) all $(BENCH_BIN)
	bench/run $(B) --markdown=$(B)/bench/results.md $(BENCH_ARGS)
	$(MAKE) bench-plot

bench-plot:
	gnuplot -e "datafile='bench/batch.dat'; outfile='bench/batch.png'" bench/batch.gp

bench-profile: deps deps-bench
	$(MAKE) all $(BENCH_BIN)
	bench/profile $(B)

# The bench program reuses the test harness (tests/harness.c) for the bus, the daemon and the users.
$(B)/bench/hmacd-bench.o: ALL_CFLAGS += -Itests $(shell pkg-config --cflags p11-kit-1 2>/dev/null)

$(BENCH_BIN): $(B)/bench/hmacd-bench.o $(B)/tests/harness.o
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcriterion -lm
