/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Memory that may hold key material (states, their text, the control
 * socket's buffers) is wiped before it goes back to the allocator, so a
 * key never outlives its state in freed memory (issue 14). explicit_bzero
 * is the store the compiler may not drop as dead.
 */
#ifndef ESPGW_APP_WIPE_H
#define ESPGW_APP_WIPE_H

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

/* free(p), its whole block wiped first. */
static inline void
gw_wipe_free(void *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

/* realloc(p, size) that leaves no copy behind: a new block, the old one
 * wiped and freed. NULL (p untouched) when out of memory. */
static inline void *
gw_wipe_realloc(void *p, size_t size)
{
	void *q = malloc(size);
	size_t old;

	if (q == NULL || p == NULL)
		return q;
	old = malloc_usable_size(p);
	memcpy(q, p, old < size ? old : size);
	gw_wipe_free(p);
	return q;
}

#endif
