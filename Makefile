# Mobility suite: mobiked (IKEv2/MOBIKE) + mipd (Mobile IP) + mobctl.
#
#   make            build everything into build/
#   make check      install missing Debian packages, build, run unit, fuzz-corpus
#                   and lab integration tests
#   make asan check the same with AddressSanitizer + UBSan (build/asan/)
#   make demo       bring the lab up and run the end-to-end scenario
#   make fuzz       libFuzzer harnesses (clang), run each for FUZZ_SECONDS
#   make bench      benchmarks (tests/bench/), figures against a reference
#   make install DESTDIR= PREFIX=

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc

ifneq ($(filter asan,$(MAKECMDGOALS)),)
SAN := 1
endif
ifeq ($(SAN),1)
B       := build/asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT     := -O1
else
B       := build
OPT     := -O2
endif
export SAN

PKGS    := openssl libmnl libconfig
# Deferred (=) so that pkg-config runs only in recipes, after deps.sh.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
CMOCKA_LIBS = $(shell pkg-config --libs cmocka)

WARN    := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wvla -Wno-unused-parameter
CFLAGS  ?= $(OPT) -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) -I. \
             $(PKG_CFLAGS) -MMD -MP
LDFLAGS ?=
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

COMMON_SRC  := $(wildcard common/*.c)
POLICY_SRC  := $(wildcard policy/*.c)
MOBIKED_SRC := $(wildcard mobiked/*.c)
MIPD_SRC    := $(wildcard mipd/*.c)
# Everything but main.c goes into per-daemon archives so tests link the
# protocol code without the daemon's main().
MOBIKED_LIB_SRC := $(filter-out mobiked/main.c,$(MOBIKED_SRC))
MIPD_LIB_SRC    := $(filter-out mipd/main.c,$(MIPD_SRC))

UNIT_SRC    := $(wildcard tests/unit/test_*.c)
FUZZ_SRC    := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRC   := $(wildcard tests/bench/*.c)

# Objects live under obj/ so that build/mobiked (a binary) never collides
# with the mobiked/ source directory's objects.
obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
LIBCOMMON := $(B)/libcommon.a
LIBPOLICY := $(B)/libpolicy.a
LIBMOBIKED := $(B)/libmobiked.a
LIBMIPD   := $(B)/libmipd.a
TEST_LIBS := $(LIBMOBIKED) $(LIBMIPD) $(LIBPOLICY) $(LIBCOMMON)
BINS      := $(B)/mobiked $(B)/mipd $(B)/mobctl
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
REPLAY_BINS := $(patsubst tests/fuzz/%.c,$(B)/tests/replay_%,$(FUZZ_SRC))
BENCH_BINS  := $(patsubst tests/bench/%.c,$(B)/bench/%,$(BENCH_SRC))

.SECONDARY:

.PHONY: all asan check unit fuzz-replay lab-test demo bench deps fuzz install clean format

all: $(BINS) $(UNIT_BINS) $(REPLAY_BINS) $(BENCH_BINS)

# Marker goal: `make asan check` builds and tests under sanitizers.
asan: deps
	@$(MAKE) --no-print-directory all

deps:
	@./tests/deps.sh

# The sub-make runs after deps.sh so pkg-config sees the installed packages.
check: deps
	@$(MAKE) --no-print-directory all
	@B=$(B) ./tests/run.sh

unit fuzz-replay lab-test: deps
	@$(MAKE) --no-print-directory all
	@B=$(B) ./tests/run.sh $@

demo: deps
	@$(MAKE) --no-print-directory all
	@B=$(B) ./tests/lab/demo.sh

# Benchmarks are not tests: they print figures, each against a reference
# measured in the same run, and assert nothing.
bench: deps
	@$(MAKE) --no-print-directory all
	@B=$(B) ./tests/bench/run.sh

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(LIBPOLICY): $(call obj,$(POLICY_SRC))
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(LIBMOBIKED): $(call obj,$(MOBIKED_LIB_SRC))
	@mkdir -p $(@D)
	rm -f $@; $(AR) rcs $@ $^

$(LIBMIPD): $(call obj,$(MIPD_LIB_SRC))
	@mkdir -p $(@D)
	rm -f $@; $(AR) rcs $@ $^

$(B)/mobiked: $(B)/obj/mobiked/main.o $(LIBMOBIKED) $(LIBPOLICY) $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/mipd: $(B)/obj/mipd/main.o $(LIBMIPD) $(LIBPOLICY) $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/mobctl: $(call obj,common/cli/mobctl.c) $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/tests/test_%: $(B)/obj/tests/unit/test_%.o $(TEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

# Each fuzz harness linked with a corpus replayer: `make check` runs the
# corpus through the same entry point libFuzzer uses.
$(B)/tests/replay_%: $(B)/obj/tests/fuzz/%.o $(B)/obj/tests/fuzz/replay.o $(TEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/bench/%: $(B)/obj/tests/bench/%.o $(TEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

FUZZ_SECONDS ?= 60
fuzz: deps
	@./tests/fuzz/run.sh $(FUZZ_SECONDS)

install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(PREFIX)/share/doc/mobility/examples
	install -m 755 $(B)/mobiked $(B)/mipd $(DESTDIR)$(PREFIX)/sbin/
	install -m 755 $(B)/mobctl $(DESTDIR)$(PREFIX)/bin/
	install -m 644 conf/*.conf $(DESTDIR)$(PREFIX)/share/doc/mobility/examples/

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(shell find $(B) -name '*.d' 2>/dev/null)
