/* Test support: reading a whole file. */
#include "test_files.h"

#include <stdio.h>

#include "lib/core/buf.h"

char *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    omni_buf b = OMNI_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        omni__buf_append(&b, chunk, n);
    fclose(f);
    if (b.failed || !b.data) {
        omni__buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.data;
}
