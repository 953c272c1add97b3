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
	$(MAKE) -C tools OUT=$(CURDIR)/build/tools clean

# make install [KDIR=...] [PREFIX=/usr/local] [DESTDIR=stage]: hment.ko into
# /lib/modules/<its kernel>/updates/ (then depmod -a, unless DESTDIR is
# set), the static user tools into PREFIX/sbin (they need root), the README
# into PREFIX/share/doc/hment, and PREFIX/sbin/hment-uninstall, which removes
# exactly those (make uninstall runs it). install-tools: the tools alone.
PREFIX ?= /usr/local
DESTDIR ?=
sbindir := $(PREFIX)/sbin
docdir := $(PREFIX)/share/doc/hment
tools := hment-top
# the kernel the module was built for, from its vermagic
KVER ?= $(shell modinfo -F vermagic module/hment.ko 2>/dev/null | cut -d' ' -f1)
moddir = /lib/modules/$(KVER)/updates
uninstaller := $(DESTDIR)$(sbindir)/hment-uninstall

# $(call write_uninstaller,FILES,DIRS,KVER or empty): paths without DESTDIR
define write_uninstaller
	{ printf '#!/bin/sh\n# hment-uninstall: written by make install; removes what it installed.\n'; \
	  printf '# DESTDIR=dir hment-uninstall removes it from under dir.\nset -e\nD=$${DESTDIR:-}\n'; \
	  for f in $(1); do printf 'rm -f "$$D%s"\n' "$$f"; done; \
	  for d in $(2); do printf 'rmdir "$$D%s" 2>/dev/null || true\n' "$$d"; done; \
	  $(if $(3),printf '[ -n "$$D" ] || depmod -a %s\n' "$(3)";) \
	  printf 'rm -f "$$D%s"\n' "$(sbindir)/hment-uninstall"; \
	} >$(uninstaller)
	chmod 755 $(uninstaller)
endef

install: modules install-tools
	@test -n "$(KVER)" || { echo "install: cannot tell module/hment.ko's kernel" >&2; exit 1; }
	install -d $(DESTDIR)$(moddir)
	install -m 644 module/hment.ko $(DESTDIR)$(moddir)/hment.ko
	$(call write_uninstaller,$(moddir)/hment.ko $(addprefix $(sbindir)/,$(tools)) $(docdir)/README.md,$(docdir) $(moddir),$(KVER))
	$(if $(DESTDIR),,depmod -a $(KVER))

install-tools:
	$(MAKE) -C tools OUT=$(CURDIR)/build/tools
	install -d $(DESTDIR)$(sbindir) $(DESTDIR)$(docdir)
	install -m 755 $(addprefix build/tools/,$(tools)) $(DESTDIR)$(sbindir)/
	install -m 644 README.md $(DESTDIR)$(docdir)/README.md
	$(call write_uninstaller,$(addprefix $(sbindir)/,$(tools)) $(docdir)/README.md,$(docdir),)

uninstall:
	@test -x $(uninstaller) || { echo "uninstall: no $(uninstaller): nothing installed there" >&2; exit 1; }
	DESTDIR=$(DESTDIR) $(uninstaller)

.PHONY: install install-tools uninstall
.PHONY: all modules clean check test demo kunit testbox selftests stress bench
