/* Fuzz targets: CHECK(cond) aborts when an invariant does not hold. */
#ifndef OMNI_TESTS_FUZZ_CHECK_H
#define OMNI_TESTS_FUZZ_CHECK_H

#include <stdlib.h>

#define CHECK(cond)      \
    do {                 \
        if (!(cond))     \
            abort();     \
    } while (0)

#endif
