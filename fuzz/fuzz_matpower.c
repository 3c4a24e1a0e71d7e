/* libFuzzer target of the MATPOWER reader: every input must satisfy
 * fold_fuzz_matpower_check (parse, exact round trip, model with finite callbacks).
 * How to build and run it: doc/testing.md, "Fuzzing". */
#include <stdio.h>
#include <stdlib.h>

#include "matpower_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[1024];
    if (fold_fuzz_matpower_check(data, size, why, sizeof why) != 0) {
        fprintf(stderr, "fuzz_matpower: %s\n", why);
        abort();
    }
    return 0;
}
