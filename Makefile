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

# $(call do_install,1 for the module too): install, and write the
# uninstaller, which removes those files and then every directory that
# did not exist before (deepest first, only if empty): a second install
# (dkms installs once per kernel) keeps the first one's list of them. Its
# paths lack DESTDIR: DESTDIR=dir hment-uninstall removes a staged copy.
define do_install
	@set -e; D='$(DESTDIR)'; \
	files='$(addprefix $(sbindir)/,$(tools)) $(docdir)/README.md $(if $(1),$(moddir)/hment.ko)'; \
	new=$$( { for f in $$files; do d=$${f%/*}; \
		while [ -n "$$d" ] && [ ! -e "$$D$$d" ]; do echo "$$d"; d=$${d%/*}; done; \
	done; [ ! -r "$(uninstaller)" ] || \
		sed -n 's/^rmdir "\$$D\(.*\)" 2>.*/\1/p' "$(uninstaller)"; } | sort -ru); \
	install -d "$$D$(sbindir)" "$$D$(docdir)" $(if $(1),"$$D$(moddir)"); \
	for t in $(tools); do install -m 755 "build/tools/$$t" "$$D$(sbindir)/$$t"; done; \
	install -m 644 README.md "$$D$(docdir)/README.md"; \
	$(if $(1),install -m 644 module/hment.ko "$$D$(moddir)/hment.ko";) \
	{ printf '#!/bin/sh\n# hment-uninstall, written by make install: removes what it installed.\n'; \
	  printf '# DESTDIR=dir hment-uninstall: the same under dir.\nset -e\nD=$${DESTDIR:-}\n'; \
	  for f in $$files; do printf 'rm -f "$$D%s"\n' "$$f"; done; \
	  $(if $(1),printf '[ -n "$$D" ] || depmod -a %s\n' '$(KVER)';) \
	  printf 'rm -f "$$D%s"\n' '$(sbindir)/hment-uninstall'; \
	  for d in $$new; do printf 'rmdir "$$D%s" 2>/dev/null || true\n' "$$d"; done; \
	} >"$(uninstaller)"; \
	chmod 755 "$(uninstaller)"; \
	echo "installed under $${D:-/}: $$files $(sbindir)/hment-uninstall"
endef

install: modules
	@test -n "$(KVER)" || { echo "install: cannot tell module/hment.ko's kernel" >&2; exit 1; }
	$(MAKE) -C tools OUT=$(CURDIR)/build/tools
	$(call do_install,1)
	$(if $(DESTDIR),,depmod -a $(KVER))

install-tools:
	$(MAKE) -C tools OUT=$(CURDIR)/build/tools
	$(call do_install,)

uninstall:
	@test -x $(uninstaller) || { echo "uninstall: no $(uninstaller): nothing installed there" >&2; exit 1; }
	DESTDIR=$(DESTDIR) $(uninstaller)

.PHONY: install install-tools uninstall

# Thin wrappers: the scripts do the work and pass KDIR themselves.
wrappers := check test demo kunit testbox selftests stress
$(wrappers):
	scripts/$@

# with the profile of each target not met, as issue 8 asks
bench:
	scripts/bench --perf

.PHONY: all modules clean $(wrappers) bench
