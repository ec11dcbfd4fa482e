/* The libomni side of tests/identity/phone_oracle.py: reads lines
 * "REGION<TAB>INPUT" (REGION "-" for none) and prints one line per input:
 * the omni_phone_parse JSON, or {"error":"CODE"}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

int main(void)
{
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        size_t n = strlen(line);
        if (n && line[n - 1] == '\n')
            line[--n] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab) {
            puts("{\"error\":\"DRIVER\"}");
            continue;
        }
        *tab = '\0';
        const char *region = strcmp(line, "-") == 0 ? NULL : line;
        const char *input = tab + 1;
        char *out = NULL;
        size_t len = 0;
        int rc = omni_phone_parse(&out, &len, input, strlen(input), region);
        if (rc == OMNI_OK) {
            fwrite(out, 1, len, stdout);
            putchar('\n');
            omni_free(out);
        } else {
            printf("{\"error\":\"%s\"}\n", omni_status_code(rc));
        }
    }
    return 0;
}
