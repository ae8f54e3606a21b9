/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_SAD_H
#define ESPGW_SAD_H

#include <rte_hash.h>

#include "sa.h"

/* Hash key: both fields as they are on the wire, padded to 16 bytes,
 * for which rte_hash compares with vector instructions (other sizes go
 * through memcmp). */
struct espgw_sad_key {
	rte_be32_t spi;
	rte_be32_t dst;
	uint64_t zero;
};

struct espgw_sad {
	struct rte_hash *h;
	uint32_t max; /* entries it was made for */
};

#endif /* ESPGW_SAD_H */
