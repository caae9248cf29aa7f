# SPDX-License-Identifier: GPL-2.0-only
#
# lymph.ko and its VM tests; included by the top Makefile.
#
#   make kmod           build lymph.ko against KDIR (default: newest 6.12 cloud headers)
#   make kmod-6.1       check that it also builds against Debian 12's 6.1 headers
#   make kmod-install   modules_install + depmod (for modprobe lymph)
#   make kmod-clean
#   make vm-test        build the module and the in-guest tests, boot the VM, run them

KDIR     ?= $(lastword $(sort $(wildcard /usr/src/linux-headers-6.12.*-cloud-amd64)))
KDIR_6_1 ?= $(lastword $(sort $(wildcard /usr/src/linux-headers-6.1.*-amd64)))
KMOD_SRCS := Kbuild $(wildcard kmod/*.c kmod/*.h) include/lymph/events.h
# Warnings are errors in the module build too (W=1 adds the extra ones).
KMOD_MAKE = $(MAKE) -C $(1) M=$(CURDIR) W=1 KCFLAGS=-Werror $(if $(filter 1,$(V)),V=1)

# make test installs the VM prerequisites too, since it runs the VM tests.
TEST_DEPS_FLAGS := --vm

kmod: $(BUILD)/kmod/lymph.ko

$(BUILD)/kmod/lymph.ko: $(KMOD_SRCS)
	$(Q)test -d "$(KDIR)" || { echo "error: no kernel headers in KDIR='$(KDIR)': run scripts/deps.sh --vm" >&2; exit 1; }
	$(call msg,KMOD,$(KDIR))
	$(Q)$(call KMOD_MAKE,$(KDIR)) modules
	$(Q)mkdir -p $(BUILD)/kmod
	$(Q)cp lymph.ko $@

kmod-6.1:
	$(Q)test -d "$(KDIR_6_1)" || { echo "error: no 6.1 headers: run scripts/deps.sh --vm" >&2; exit 1; }
	$(call msg,KMOD,$(KDIR_6_1))
	$(Q)$(call KMOD_MAKE,$(KDIR_6_1)) modules
	$(Q)$(call KMOD_MAKE,$(KDIR_6_1)) clean >/dev/null

kmod-install: kmod
	$(Q)$(call KMOD_MAKE,$(KDIR)) modules_install
	$(Q)depmod -a $$(cat $(KDIR)/include/config/kernel.release)

kmod-clean:
	$(Q)if [ -d "$(KDIR)" ]; then $(call KMOD_MAKE,$(KDIR)) clean >/dev/null; fi
	$(Q)rm -rf $(BUILD)/kmod $(BUILD)/vm

vm-test: kmod
	$(Q)tests/vm/run.sh $(BUILD)

.PHONY: kmod kmod-6.1 kmod-install kmod-clean vm-test
