# SPDX-License-Identifier: GPL-2.0-only
#
# lymph.ko and its VM tests; included by the top Makefile.
#
#   make kmod           build lymph.ko against KDIR (default: newest 6.12 cloud headers)
#   make kmod-6.1       check that it also builds against Debian 12's 6.1 headers
#   make kmod-install   modules_install + depmod (for modprobe lymph)
#   make kmod-clean
#   make kmod-sparse    run sparse over the module's sources; fails on a warning
#   make vm-test        sparse, then build the module and the in-guest tests, boot the VM, run them
#
# The module is built from a copy of its sources under $(BUILD)/kmod*/src,
# so that Kbuild's objects never land in the source tree.  Warnings are
# errors (W=1 adds the extra ones).

KDIR     ?= $(lastword $(sort $(wildcard /usr/src/linux-headers-6.12.*-cloud-amd64)))
KDIR_6_1 ?= $(lastword $(sort $(wildcard /usr/src/linux-headers-6.1.*-amd64)))
KMOD_SRCS := Kbuild VERSION $(wildcard kmod/*.c kmod/*.h include/lymph/*.h)

# make test installs the VM prerequisites too, since it runs the VM tests.
TEST_DEPS_FLAGS := --vm

# $(call kmod_build,KDIR,OUTDIR): copy the sources to OUTDIR/src, build there.
define kmod_build
	$(Q)test -d "$(1)" || { echo "error: no kernel headers in '$(1)': run scripts/deps.sh --vm" >&2; exit 1; }
	$(call msg,KMOD,$(1))
	$(Q)rm -rf $(2)/src && mkdir -p $(2)/src/kmod $(2)/src/include/lymph
	$(Q)cp Kbuild VERSION $(2)/src/ && cp kmod/*.c kmod/*.h $(2)/src/kmod/ && \
		cp include/lymph/*.h $(2)/src/include/lymph/
	$(Q)$(MAKE) -C $(1) M=$(abspath $(2)/src) W=1 KCFLAGS=-Werror \
		$(if $(filter 1,$(V)),V=1) modules >$(2)/build.log 2>&1 || \
		{ cat $(2)/build.log >&2; exit 1; }
	$(Q)! grep -i 'warning:' $(2)/build.log >&2
endef

kmod: $(BUILD)/kmod/lymph.ko

$(BUILD)/kmod/lymph.ko: $(KMOD_SRCS)
	$(call kmod_build,$(KDIR),$(BUILD)/kmod)
	$(Q)cp $(BUILD)/kmod/src/lymph.ko $@

kmod-6.1:
	$(call kmod_build,$(KDIR_6_1),$(BUILD)/kmod-6.1)

kmod-install: kmod
	$(Q)$(MAKE) -C $(KDIR) M=$(abspath $(BUILD)/kmod/src) modules_install
	$(Q)depmod -a $$(cat $(KDIR)/include/config/kernel.release)

kmod-clean:
	$(Q)rm -rf $(BUILD)/kmod $(BUILD)/kmod-6.1 $(BUILD)/vm

# sparse over the module's own sources (C=2: every file); a warning in
# kmod/ fails the target.  vm-test runs it first.
kmod-sparse:
	$(Q)command -v sparse >/dev/null || { echo "error: sparse is not installed: run scripts/deps.sh --vm" >&2; exit 1; }
	$(Q)test -d "$(KDIR)" || { echo "error: no kernel headers in '$(KDIR)': run scripts/deps.sh --vm" >&2; exit 1; }
	$(call msg,SPARSE,$(KDIR))
	$(Q)rm -rf $(BUILD)/kmod-sparse/src && mkdir -p $(BUILD)/kmod-sparse/src/kmod $(BUILD)/kmod-sparse/src/include/lymph
	$(Q)cp Kbuild VERSION $(BUILD)/kmod-sparse/src/ && cp kmod/*.c kmod/*.h $(BUILD)/kmod-sparse/src/kmod/ && \
		cp include/lymph/*.h $(BUILD)/kmod-sparse/src/include/lymph/
	$(Q)$(MAKE) -C $(KDIR) M=$(abspath $(BUILD)/kmod-sparse/src) C=2 CHECK=sparse modules \
		>$(BUILD)/kmod-sparse/sparse.log 2>&1 || { cat $(BUILD)/kmod-sparse/sparse.log >&2; exit 1; }
	$(Q)! grep -E '/kmod/[a-z_]+\.[ch]:[0-9]+:[0-9]+: (warning|error):' $(BUILD)/kmod-sparse/sparse.log >&2

vm-test: kmod-sparse
	$(Q)tests/vm/run.sh $(BUILD)

.PHONY: kmod kmod-6.1 kmod-install kmod-clean kmod-sparse vm-test
