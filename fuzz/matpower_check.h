/* The properties the MATPOWER reader must have on any input (doc/testing.md, "Fuzzing"):
 * shared by the libFuzzer target (fuzz_matpower.c) and the corpus replay unit test. */
#ifndef FOLD_FUZZ_MATPOWER_CHECK_H
#define FOLD_FUZZ_MATPOWER_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* Parse data as a case file. Rejected: the status must be a parse-class error with a
 * message naming the file. Accepted: writing the case and reading it back gives the same
 * case (every field bit for bit, costs up to zero padding), writing that again gives the
 * same text, and the model builds (with and without flow variables) with finite callback
 * values at its start point and at its variable bounds. Returns 0 when every property
 * holds, else 1 with the first failure described in why (cap bytes). */
int fold_fuzz_matpower_check(const uint8_t *data, size_t size, char *why, size_t cap);

#endif
