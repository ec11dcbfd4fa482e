/* Test support: reading a whole file (corpora, spec files). */
#ifndef OMNI_TESTS_TEST_FILES_H
#define OMNI_TESTS_TEST_FILES_H

#include <stddef.h>

/* The file's bytes, NUL-terminated (*len excludes the NUL), released with
 * free(); NULL when it cannot be read. */
char *test_read_file(const char *path, size_t *len);

#endif
