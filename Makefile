# SPDX-License-Identifier: GPL-2.0
#
# Outer make only: kbuild reads ./Kbuild, never this file, so nothing here
# needs to tell the two passes apart.

KDIR ?= /lib/modules/$(shell uname -r)/build

# HMENT_KUNIT=m also builds kunit/hment_test.ko (needs CONFIG_KUNIT in KDIR).
HMENT_KUNIT ?=

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) HMENT_KUNIT=$(HMENT_KUNIT) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) HMENT_KUNIT=m clean

# Thin wrappers: the scripts do the work and pass KDIR themselves.
check test demo kunit testbox selftests stress bench:
	scripts/$@

.PHONY: all modules clean check test demo kunit testbox selftests stress bench
