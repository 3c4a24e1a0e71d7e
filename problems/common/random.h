/* The seeded generators of the problem families, the command, the tests and the benchmarks,
 * reproducible on every platform: xorshift64* (test data, `foldopt check`'s multipliers),
 * splitmix64 (synthetic grids, learning data, batch scenarios), and, for the data of the
 * benchmarks recorded in doc/benchmarks.md, plain xorshift64 and Knuth's 64-bit LCG. A draw
 * is 64 bits; rng_unit maps it to [0, 1). */
#ifndef FOLD_PROBLEMS_RANDOM_H
#define FOLD_PROBLEMS_RANDOM_H

#include <stdint.h>

/* xorshift64* (Vigna): *state must not be 0. */
static inline uint64_t rng_xorshift64s(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* splitmix64 (Steele, Lea, Flood): any state. */
static inline uint64_t rng_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* xorshift64 (Marsaglia, shifts 13, 7, 17): *state must not be 0; returns the new state. */
static inline uint64_t rng_xorshift64(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* Knuth's MMIX linear congruential generator: any state; returns the new state (use its
 * high bits). */
static inline uint64_t rng_lcg64(uint64_t *state)
{
    return *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
}

/* The top 53 bits of a draw as a double in [0, 1). */
static inline double rng_unit(uint64_t bits)
{
    return (double)(bits >> 11) * 0x1.0p-53;
}

#endif
