# SPDX-License-Identifier: GPL-2.0-only
#
# lymph: a computer immune system for Linux.
#
#   make            build BPF objects, skeletons, lymphd and lymphctl
#   make run        install what is missing, build, run lymphd (observe mode)
#   make test       install what is missing, build, run every test
#   make kmod       build lymph.ko (KDIR=... to choose the headers)
#   make bench      run the benchmarks
#   V=1             show full commands

BUILD     ?= build
CLANG     ?= clang
CC        ?= cc
BPFTOOL   ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
BTF       ?= /sys/kernel/btf/vmlinux
LYMPH_CACHE ?= /var/cache/lymph
KSFT_DIR  ?= $(LYMPH_CACHE)/kselftest
ARCH_BPF  := x86

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
CFLAGS   += $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude -I$(BUILD) -Iuserspace -Ibpf
LIBS     := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz) -lmnl -lcap -ljson-c -lm
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH_BPF) $(WARN) -Wno-unused-parameter -Iinclude -I$(BUILD) # BPF_PROG() passes ctx to every program

BPF_PROGS := sensors lsm
BPF_OBJS  := $(patsubst %,$(BUILD)/%.bpf.o,$(BPF_PROGS))
BPF_SKELS := $(patsubst %,$(BUILD)/%.skel.h,$(BPF_PROGS))

# Pure code (no syscalls beyond memory): linked into lymphd, lymphctl and the
# unit tests alike.
CORE_SRCS := userspace/classify.c userspace/decay.c userspace/crashtab.c \
	     userspace/format.c userspace/signames.c userspace/parse_num.c \
	     userspace/config.c userspace/supervise.c userspace/quarantine.c userspace/deadtime.c
CORE_SRCS += userspace/jrec.c userspace/journal.c userspace/ctlproto.c
DAEMON_SRCS := userspace/lymphd.c userspace/daemon.c userspace/source.c userspace/source_bpf.c \
	       userspace/source_proc.c userspace/source_kmod.c userspace/control.c userspace/binpath.c \
	       userspace/psi.c userspace/baseline.c userspace/integrity.c userspace/weather.c \
	       userspace/metrics.c \
	       userspace/status.c userspace/service.c userspace/spawn.c userspace/protect.c \
	       userspace/config_load.c userspace/qmanager.c userspace/privs.c userspace/procfs.c userspace/throttle.c userspace/pidscg.c
CTL_SRCS  := userspace/lymphctl.c

CORE_OBJS   := $(patsubst %.c,$(BUILD)/%.o,$(CORE_SRCS))
DAEMON_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(DAEMON_SRCS))
CTL_OBJS    := $(patsubst %.c,$(BUILD)/%.o,$(CTL_SRCS))

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

$(BUILD)/userspace/%.o: userspace/%.c userspace/*.h include/lymph/*.h | $(BUILD)/userspace
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# Objects that use a skeleton depend on it.
$(BUILD)/userspace/source_bpf.o $(BUILD)/userspace/qmanager.o: $(BPF_SKELS)

$(BUILD)/lymphd: $(DAEMON_OBJS) $(CORE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

$(BUILD)/lymphctl: $(CTL_OBJS) $(CORE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

$(BUILD) $(BUILD)/userspace $(BUILD)/tests:
	$(Q)mkdir -p $@

# ---- tests -----------------------------------------------------------------
TEST_SRCS := $(wildcard tests/*_test.c)
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
TEST_CFLAGS := $(CFLAGS) -I$(KSFT_DIR) -Itests -Wno-unused-parameter

$(BUILD)/tests/%: tests/%.c tests/*.h $(CORE_OBJS) | $(BUILD)/tests
	$(call msg,TEST,$@)
	$(Q)test -f $(KSFT_DIR)/kselftest_harness.h || { echo "error: $(KSFT_DIR)/kselftest_harness.h missing: run scripts/deps.sh" >&2; exit 1; }
	$(Q)$(CC) $(TEST_CFLAGS) $< $(CORE_OBJS) $(LIBS) -lpthread -o $@

# libFuzzer targets (clang, ASan, UBSan) over the pure code; tests/fuzz_test
# runs each briefly over its committed corpus.
FUZZ_SRCS := $(wildcard tests/fuzz/*_fuzz.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	       -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuserspace

$(BUILD)/fuzz:
	$(Q)mkdir -p $@

$(BUILD)/fuzz/%: tests/fuzz/%.c $(CORE_SRCS) userspace/*.h | $(BUILD)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(CORE_SRCS) -ljson-c -lm -o $@

tests: all $(TEST_BINS) $(FUZZ_BINS)

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

# The kernel module and its VM tests have their own rules.
-include kmod/kmod.mk

# ---- benchmarks ------------------------------------------------------------
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

$(BUILD)/bench:
	$(Q)mkdir -p $@

$(BUILD)/bench/%: bench/%.c bench/*.h $(BPF_SKELS) | $(BUILD)/bench
	$(call msg,BENCH,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LIBS) -o $@

bench-build: all $(BENCH_BINS)
.PHONY: bench-build
