/* Data scrambling and checksums for the vm programs:
 *  - RC4 (the stream cipher): XORs a buffer with a keystream, so running it
 *    twice with the same key gives the original bytes back;
 *  - POSIX `cksum` (CRC-32, polynomial 0x04C11DB7, MSB first, the length
 *    appended, result inverted): the same value the cksum(1) tool prints;
 *  - an in-place Fisher-Yates shuffle driven by the userlib's random_ulong.
 * make_data.py re-implements cksum and the shuffle to compute the expected
 * values in MANIFEST.toml. */
#ifndef VM_CHECKSUM_H
#define VM_CHECKSUM_H

#include "vmuser.h"

struct rc4 {
  uint8_t s[256];
  uint8_t i, j;
};

/* Key schedule: prepares STATE for KEY (LEN > 0 bytes). */
static inline void rc4_init(struct rc4 *state, const void *key, size_t len) {
  const uint8_t *k = key;
  for (int n = 0; n < 256; n++)
    state->s[n] = (uint8_t)n;
  uint8_t j = 0;
  for (int n = 0; n < 256; n++) {
    j = (uint8_t)(j + state->s[n] + k[n % len]);
    uint8_t t = state->s[n];
    state->s[n] = state->s[j];
    state->s[j] = t;
  }
  state->i = state->j = 0;
}

/* XORs the N bytes at BUF with the next N keystream bytes. */
static inline void rc4_crypt(struct rc4 *state, void *buf, size_t n) {
  uint8_t *p = buf;
  uint8_t i = state->i, j = state->j;
  for (size_t x = 0; x < n; x++) {
    i = (uint8_t)(i + 1);
    j = (uint8_t)(j + state->s[i]);
    uint8_t t = state->s[i];
    state->s[i] = state->s[j];
    state->s[j] = t;
    p[x] ^= state->s[(uint8_t)(state->s[i] + state->s[j])];
  }
  state->i = i;
  state->j = j;
}

/* Feeds one byte into a POSIX cksum CRC. */
static inline uint32_t cksum_byte(uint32_t crc, uint8_t byte) {
  crc ^= (uint32_t)byte << 24;
  for (int bit = 0; bit < 8; bit++)
    crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04C11DB7u : crc << 1;
  return crc;
}

/* POSIX cksum of the N bytes at BUF. */
static inline uint32_t cksum(const void *buf, size_t n) {
  const uint8_t *p = buf;
  uint32_t crc = 0;
  for (size_t x = 0; x < n; x++)
    crc = cksum_byte(crc, p[x]);
  for (size_t len = n; len != 0; len >>= 8)
    crc = cksum_byte(crc, (uint8_t)(len & 0xff));
  return ~crc;
}

/* Shuffles the N bytes at BUF: for I from N-1 down to 1, swaps byte I with
 * byte random_ulong() % (I + 1). */
static inline void shuffle_bytes(uint8_t *buf, size_t n) {
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)(random_ulong() % i);
    uint8_t t = buf[i - 1];
    buf[i - 1] = buf[j];
    buf[j] = t;
  }
}

#endif
