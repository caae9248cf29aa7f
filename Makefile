# SPDX-License-Identifier: GPL-2.0-only
#
# lymph: a computer immune system for Linux.
#
#   make            build BPF objects, skeletons, lymphd and lymphctl
#   make run        install what is missing, build, run lymphd (observe mode)
#   make test       install what is missing, build, run every test
#   make kmod       build lymph.ko (KDIR=... to choose the headers)
#   make bench      run the benchmarks
#   make install    install (DESTDIR=, PREFIX=/usr/local; see scripts/install.sh)
#   make uninstall  remove what make install put there
#   make deb        build the Debian packages into $(BUILD)/deb (from a copy of the tree)
#   V=1             show full commands

BUILD     ?= build
CLANG     ?= clang
CC        ?= cc
BPFTOOL   ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
BTF       ?= /sys/kernel/btf/vmlinux
LYMPH_CACHE ?= /var/cache/lymph
KSFT_DIR  ?= $(LYMPH_CACHE)/kselftest
ARCH_BPF  := x86
# The one version of lymphd, lymphctl, lymph.ko, dkms.conf and the packages.
VERSION   := $(shell cat VERSION)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.DEFAULT_GOAL := all

WARN     := -Wall -Wextra -Werror
CFLAGS   ?= -O2 -g
CFLAGS   += $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude -I$(BUILD) -Iuserspace -Ibpf \
	    -DLYMPH_VERSION='"$(VERSION)"'
LIBS     := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz) -lmnl -lcap -ljson-c -lm -lnats -lnettle -lpthread -lz
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH_BPF) $(WARN) -Wno-unused-parameter -Iinclude -I$(BUILD) # BPF_PROG() passes ctx to every program

BPF_PROGS := sensors lsm
BPF_OBJS  := $(patsubst %,$(BUILD)/%.bpf.o,$(BPF_PROGS))
BPF_SKELS := $(patsubst %,$(BUILD)/%.skel.h,$(BPF_PROGS))

# userspace/ is laid out as the pipeline (README, Layout), lowest first:
# lib/ (helpers) < policy/ (pure) < sources/, weather/ < respond/ <
# control/ < daemon/ < ctl/.  scripts/check-layers fails on an #include
# that runs back up.
US_DIRS   := lib policy sources weather fleet respond control daemon ctl
CFLAGS    += $(patsubst %,-Iuserspace/%,$(US_DIRS))

# liblymph.a: every userspace object but the two main()s, built once and
# linked by lymphd, lymphctl, the tests and the benchmarks (which take only
# the members they use).
MAIN_SRCS   := userspace/daemon/lymphd.c userspace/ctl/lymphctl.c
LIB_SRCS    := $(filter-out $(MAIN_SRCS),$(wildcard userspace/*/*.c))
DAEMON_SRCS := userspace/daemon/lymphd.c
CTL_SRCS    := userspace/ctl/lymphctl.c

LIB_OBJS    := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
DAEMON_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(DAEMON_SRCS))
CTL_OBJS    := $(patsubst %.c,$(BUILD)/%.o,$(CTL_SRCS))
LIBLYMPH    := $(BUILD)/liblymph.a

all: $(BUILD)/lymphd $(BUILD)/lymphctl

deps:
	$(Q)scripts/deps.sh

$(BUILD)/vmlinux.h: | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)test -r $(BTF) || { echo "error: $(BTF) not readable: this kernel has no BTF (CONFIG_DEBUG_INFO_BTF); lymph's BPF sensors need it" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file $(BTF) format c > $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c bpf/*.h include/lymph/*.h $(BUILD)/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp.o
	$(Q)$(BPFTOOL) gen object $@ $@.tmp.o
	$(Q)rm -f $@.tmp.o

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

# Header dependencies are generated (-MMD); the skeletons exist before any
# object is compiled, since some include them.
$(BUILD)/userspace/%.o: userspace/%.c VERSION | $(BPF_SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

-include $(patsubst %.o,%.d,$(LIB_OBJS) $(DAEMON_OBJS) $(CTL_OBJS))

$(LIBLYMPH): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# --as-needed: lymphd dlopen()s libnats (fleet.c) and libnettle (sha256.c), so it needs no NEEDED
# entry for them (nor, through libnats, for libssl and libcrypto).
$(BUILD)/lymphd: $(DAEMON_OBJS) $(LIBLYMPH)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Wl,--as-needed $^ $(LIBS) -o $@

$(BUILD)/lymphctl: $(CTL_OBJS) $(LIBLYMPH)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LIBS) -o $@

$(BUILD) $(BUILD)/tests:
	$(Q)mkdir -p $@

# ---- tests -----------------------------------------------------------------
TEST_SRCS := $(wildcard tests/*_test.c)
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
TEST_CFLAGS := $(CFLAGS) -I$(KSFT_DIR) -Itests -Wno-unused-parameter

# The test helpers are built once into libth.a, linked by every test and
# the benchmarks.  (tests/echod.c, leakd.c, sockd.c are programs that the
# tests build and run as services.)
TH_SRCS := tests/helpers.c tests/storm_helpers.c tests/svc_helpers.c tests/pkg_helpers.c \
	   tests/pidcg.c tests/loadcg.c
TH_OBJS := $(patsubst tests/%.c,$(BUILD)/tests/th/%.o,$(TH_SRCS))
LIBTH   := $(BUILD)/tests/libth.a

$(BUILD)/tests/th/%.o: tests/%.c | $(BPF_SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TEST_CFLAGS) -MMD -MP -c $< -o $@

$(LIBTH): $(TH_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

-include $(patsubst %.o,%.d,$(TH_OBJS))

$(BUILD)/tests/%: tests/%.c $(LIBTH) $(LIBLYMPH) | $(BUILD)/tests
	$(call msg,TEST,$@)
	$(Q)test -f $(KSFT_DIR)/kselftest_harness.h || { echo "error: $(KSFT_DIR)/kselftest_harness.h missing: run scripts/deps.sh" >&2; exit 1; }
	$(Q)$(CC) $(TEST_CFLAGS) -MMD -MP $< $(LIBTH) $(LIBLYMPH) $(LIBS) -lpthread -o $@

-include $(patsubst %,%.d,$(TEST_BINS))

# libFuzzer targets (clang, ASan, UBSan) over pure code: the journal replay's
# parser and record checks, the control request parser; tests/fuzz_test runs
# each briefly over its committed corpus.
FUZZ_SRCS := $(wildcard tests/fuzz/*_fuzz.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_PURE := userspace/lib/journal.c userspace/lib/jsonw.c userspace/lib/signames.c userspace/lib/parse_num.c \
	     userspace/lib/clock.c userspace/lib/atomic_file.c userspace/lib/hashtab.c \
	     $(wildcard userspace/policy/*.c) userspace/control/ctlproto.c
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	       -std=gnu11 -D_GNU_SOURCE -Iinclude $(patsubst %,-Iuserspace/%,$(US_DIRS))

$(BUILD)/fuzz:
	$(Q)mkdir -p $@

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_PURE) $(wildcard userspace/*/*.h) | $(BUILD)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(FUZZ_PURE) -ljson-c -lcap -lm -o $@

# bench/overhead too: tests/bench_overhead_test runs it (its refusals, a
# one-group run), and bench/kmod-overhead's A/A control, so CI does not
# skip them.
tests: all $(TEST_BINS) $(FUZZ_BINS) $(BUILD)/bench/overhead $(BUILD)/bench/kmod_overhead_host

test:
	$(Q)scripts/deps.sh $(TEST_DEPS_FLAGS)
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)tests/run.sh $(BUILD)

run:
	$(Q)scripts/deps.sh
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(BUILD)/lymphd --dry-run $(LYMPHD_ARGS)

bench: bench-build
	$(Q)bench/run-all $(BUILD)

clean:
	$(Q)rm -rf $(BUILD)

.PHONY: all deps tests test run bench clean

# ---- install, packages -------------------------------------------------------
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
# systemd reads /usr/local/lib/systemd/system; Debian's own units live in /lib.
UNITDIR    ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
DKMSDIR    ?= /usr/src
INSTALL_VARS = DESTDIR="$(DESTDIR)" SBINDIR="$(SBINDIR)" MANDIR="$(MANDIR)" \
	UNITDIR="$(UNITDIR)" DKMSDIR="$(DKMSDIR)" \
	BUILD="$(BUILD)" VERSION="$(VERSION)"

# Check every destination first (a DESTDIR that cannot be written changes
# nothing), then build, then install.
install:
	$(Q)$(INSTALL_VARS) scripts/install.sh check
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(INSTALL_VARS) scripts/install.sh install

uninstall:
	$(Q)$(INSTALL_VARS) scripts/install.sh uninstall

# dpkg-buildpackage writes into the parent of the tree it builds: build from
# a copy in a scratch directory, keep the .deb files in $(BUILD)/deb.
deb:
	$(Q)scripts/build-deb.sh "$(BUILD)/deb"

.PHONY: install uninstall deb

# The kernel module and its VM tests have their own rules.
-include kmod/kmod.mk

# ---- benchmarks ------------------------------------------------------------
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

$(BUILD)/bench:
	$(Q)mkdir -p $@

# The benchmarks link the tests' helpers (libth.a: the storm backstop,
# lymphd as a child, ...) rather than copies of them.
$(BUILD)/bench/%: bench/%.c bench/*.h $(BPF_SKELS) $(LIBTH) $(LIBLYMPH) | $(BUILD)/bench
	$(call msg,BENCH,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(LIBTH) $(LIBLYMPH) $(LIBS) -o $@

# make format FILES="userspace/x/y.c ...": clang-format (.clang-format) on them.
format:
	$(Q)test -n "$(FILES)" || { echo "error: name the files: make format FILES=\"userspace/lib/clock.c ...\"" >&2; exit 2; }
	$(Q)clang-format -i $(FILES)
.PHONY: format

# make fuzz: only the libFuzzer targets (tests/fuzz/, built by make tests too).
fuzz: $(FUZZ_BINS)
.PHONY: fuzz

# bench/kmod-overhead's measuring half for the host (--host builds it so
# too); tests/bench_overhead_test.c runs its A/A control.
$(BUILD)/bench/kmod_overhead_host: bench/vm/kmod_overhead.c include/lymph/*.h | $(BUILD)/bench
	$(call msg,BENCH,$@)
	$(Q)$(CC) -O2 -Wall -Werror -std=gnu11 -Iinclude $< -o $@ -lm

bench-build: all $(BENCH_BINS) $(BUILD)/bench/kmod_overhead_host
.PHONY: bench-build
