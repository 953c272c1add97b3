/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What differs between the kernels hment builds for (6.1 and 6.12), found
 * by module/Kbuild in the kernel's own headers rather than by version
 * numbers, so that a backport is picked up too.
 */
#ifndef _HMENT_COMPAT_H
#define _HMENT_COMPAT_H

#include <linux/mm.h>
#include <linux/page-flags.h>

/**
 * hment_kernel_mapcount - what /proc/kpagecount says for a pfn
 * @pfn: page frame number
 *
 * Computed as that kernel's fs/proc/page.c does it: page_mapcount() where
 * it exists; where it is gone (6.12), the page's own mapcount plus the
 * mappings of its whole folio, as folio_precise_page_mapcount() does.
 *
 * Return: the kernel's mapping count.
 */
static inline unsigned long hment_kernel_mapcount(unsigned long pfn)
{
	struct page *page = pfn_to_online_page(pfn);
#ifdef HMENT_HAVE_PAGE_MAPCOUNT_IS_TYPE
	struct folio *folio;
	int mapcount;

	if (!page)
		return 0;
	folio = page_folio(page);
	mapcount = atomic_read(&page->_mapcount) + 1;
	if (page_mapcount_is_type(mapcount))
		mapcount = 0;
	if (folio_test_large(folio))
		mapcount += folio_entire_mapcount(folio);
	return mapcount;
#else
	if (!page || PageSlab(page) || page_has_type(page))
		return 0;
	return page_mapcount(page);
#endif
}

#endif /* _HMENT_COMPAT_H */
