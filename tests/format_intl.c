/* Differential test: omni_format_number / omni_format_currency /
 * omni_format_date against JavaScript's Intl. Runs tests/format_intl.js
 * with node (NODE overrides the binary), which prints the cases and Intl's
 * output, and compares libomni's output byte for byte. Exits 77 (skipped)
 * when node is not installed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <omni/omni.h>

static const char *str(const cJSON *c, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int num(const cJSON *c, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
    return cJSON_IsNumber(v) ? v->valueint : -1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: format_intl path/to/format_intl.js\n");
        return 2;
    }
    const char *node = getenv("NODE");
    if (!node || !*node)
        node = "node";
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "'%s' --version >/dev/null 2>&1", node);
    if (system(cmd) != 0) {
        printf("node not found: skipped\n");
        return 77;
    }
    snprintf(cmd, sizeof(cmd), "'%s' '%s'", node, argv[1]);
    FILE *p = popen(cmd, "r");
    if (!p) {
        perror("popen");
        return 1;
    }
    size_t cap = 1 << 20, len = 0, n;
    char *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len, p)) > 0) {
        len += n;
        if (len == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int status = pclose(p);
    if (!buf || status != 0) {
        fprintf(stderr, "node failed (status %d)\n", status);
        free(buf);
        return 1;
    }
    cJSON *root = cJSON_ParseWithLength(buf, len);
    free(buf);
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(root, "cases");
    if (!cJSON_IsArray(cases)) {
        fprintf(stderr, "bad output from node\n");
        cJSON_Delete(root);
        return 1;
    }
    printf("Intl: ICU %s, tz %s\n", str(root, "icu"), str(root, "tz"));

    int total = 0, failed = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        const char *fn = str(c, "fn"), *value = str(c, "value"), *locale = str(c, "locale");
        const char *expect = str(c, "expect");
        if (!fn || !value || !locale || !expect) {
            fprintf(stderr, "malformed case\n");
            failed++;
            continue;
        }
        char *out = NULL;
        size_t out_len = 0;
        int rc;
        char what[256];
        if (!strcmp(fn, "number")) {
            rc = omni_format_number(&out, &out_len, strtod(value, NULL), locale, num(c, "min"),
                                    num(c, "max"));
            snprintf(what, sizeof(what), "formatNumber(%s, %s, %d, %d)", value, locale,
                     num(c, "min"), num(c, "max"));
        } else if (!strcmp(fn, "currency")) {
            rc = omni_format_currency(&out, &out_len, strtod(value, NULL), str(c, "code"),
                                      locale);
            snprintf(what, sizeof(what), "formatCurrency(%s, %s, %s)", value, str(c, "code"),
                     locale);
        } else {
            rc = omni_format_date(&out, &out_len, value, str(c, "pattern"), str(c, "zone"),
                                  locale);
            snprintf(what, sizeof(what), "formatDate(%s, \"%s\", %s, %s)", value,
                     str(c, "pattern"), str(c, "zone"), locale);
        }
        total++;
        if (rc != OMNI_OK) {
            if (failed++ < 50)
                printf("FAIL %s: error %s\n", what, omni_error_last_message());
        } else if (out_len != strlen(expect) || memcmp(out, expect, out_len) != 0) {
            if (failed++ < 50)
                printf("FAIL %s:\n  libomni \"%s\"\n  Intl    \"%s\"\n", what, out, expect);
        }
        omni_free(out);
    }
    cJSON_Delete(root);
    printf("%d cases, %d failed\n", total, failed);
    return failed ? 1 : 0;
}
