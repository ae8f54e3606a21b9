/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_ESP_WIRE_H
#define ESPGW_ESP_WIRE_H

/* Every constant and header layout that goes on the wire, in one place. */

#include <stdint.h>

#include <rte_byteorder.h>

enum {
	ESPGW_IPPROTO_IPIP = 4,   /* next header: inner IPv4 (RFC 2003) */
	ESPGW_IPPROTO_IPV6 = 41,  /* next header: inner IPv6 (RFC 2473) */
	ESPGW_IPPROTO_ESP = 50,   /* RFC 4303 */
	ESPGW_IPPROTO_NONE = 59,  /* RFC 4303 section 2.6: dummy packet */
};

enum {
	ESPGW_IPV4_HDR_LEN = 20,    /* outer header, no options */
	ESPGW_IPV6_HDR_LEN = 40,
	ESPGW_ESP_HDR_LEN = 8,      /* SPI + sequence number */
	ESPGW_GCM_IV_LEN = 8,       /* RFC 4106 section 3.1: explicit IV */
	ESPGW_GCM_SALT_LEN = 4,     /* RFC 4106 section 4 */
	ESPGW_GCM_NONCE_LEN = 12,   /* salt || IV */
	ESPGW_ESP_TRAILER_LEN = 2,  /* pad length + next header */
	ESPGW_ESP_ALIGN = 4,        /* RFC 4303 section 2.4 */
	ESPGW_OUTER_TTL = 64,       /* what xfrm takes from a default route */
};

/* IPv4 flag bits, in the host-order 16-bit fragment_offset field. */
enum {
	ESPGW_IPV4_DF = 0x4000,
	ESPGW_IPV4_MF = 0x2000,
	ESPGW_IPV4_OFF_MASK = 0x1fff,
};

/* ECN codepoints (RFC 3168 section 5). */
enum {
	ESPGW_ECN_MASK = 0x03,
	ESPGW_ECN_NOT_ECT = 0x00,
	ESPGW_ECN_CE = 0x03,
};

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
