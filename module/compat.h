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

/**
 * hment_pmd_table_shared - do other mms map through this PMD table?
 * @table: the PMD table's page
 *
 * As that kernel's __huge_pmd_unshare() (mm/hugetlb.c) tells it:
 * ptdesc_pmd_is_shared() (6.12), the page's pt_share_count (6.1.y from
 * 6.1.120 or so), and before those, a reference beyond the table's own.
 * Stable while the hugetlb file's i_mmap_rwsem is held: sharing can then
 * begin (huge_pmd_share() takes it for read), never end.
 *
 * Return: true when shared.
 */
static inline bool hment_pmd_table_shared(struct page *table)
{
#if defined(HMENT_HAVE_PTDESC_PMD_IS_SHARED)
#ifdef CONFIG_HUGETLB_PMD_PAGE_TABLE_SHARING
	return ptdesc_pmd_is_shared(page_ptdesc(table));
#else
	return false;
#endif
#elif defined(HMENT_HAVE_PT_SHARE_COUNT)
#ifdef CONFIG_ARCH_WANT_HUGE_PMD_SHARE
	return atomic_read(&table->pt_share_count);
#else
	return false;
#endif
#else
	return page_count(table) > 1;
#endif
}

#endif /* _HMENT_COMPAT_H */
