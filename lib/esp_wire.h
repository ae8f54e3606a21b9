/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_ESP_WIRE_H
#define ESPGW_ESP_WIRE_H

/* The ESP and GCM header layouts; every wire number is in espgw/wire.h. */

#include <stdint.h>

#include <rte_byteorder.h>

#include "espgw/wire.h"

/* RFC 4303 section 2: the ESP header in front of the IV. */
struct espgw_esp_hdr {
	rte_be32_t spi;
	rte_be32_t seq;
} __attribute__((packed));

/* RFC 4303 section 2.4: the two bytes ending the encrypted payload. */
struct espgw_esp_tail {
	uint8_t pad_len;
	uint8_t next_proto;
} __attribute__((packed));

/* RFC 4106 section 4: the 12-byte GCM nonce. */
struct espgw_gcm_nonce {
	uint8_t salt[ESPGW_GCM_SALT_LEN];
	uint8_t iv[ESPGW_GCM_IV_LEN];
} __attribute__((packed));

/* RFC 4106 section 5: AAD is SPI || seq (8 bytes), or with ESN
 * SPI || seq-hi || seq-lo (12 bytes); seq-hi never goes on the wire.
 * Both fit one 12-byte buffer: word 1 is seq-hi with ESN and a second copy
 * of the SPI without, and the AAD starts at word 0 or word 1. */
struct espgw_gcm_aad {
	rte_be32_t w[3];
};

#endif /* ESPGW_ESP_WIRE_H */
