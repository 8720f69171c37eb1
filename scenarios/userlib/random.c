/* Deterministic pseudo-random numbers: splitmix64. The same seed gives the
 * same sequence on every kernel and every run. */
#include "vmuser.h"

static uint64_t random_state = 0x9e3779b97f4a7c15ULL;

void random_init(unsigned seed) {
  random_state = (uint64_t)seed * 0x9e3779b97f4a7c15ULL + 1;
}

unsigned long random_ulong(void) {
  uint64_t z = (random_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
