/* The options documents of the bundled curl transports (curl.c, async.c):
 * one reader for the object, its unknown and repeated members, and the
 * integer, string and file values they share (see transport_internal.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/error.h"
#include "transport_internal.h"

int omni__opt_error(const char *what, const char *key, const char *why)
{
    char details[96];
    snprintf(details, sizeof(details), "{\"path\":\"%s\"}", key);
    return omni__err_details(OMNI_ECONFIG, details, "%s option \"%s\" %s", what, key, why);
}

int omni__opt_int(const char *what, const cJSON *item, const char *key, int64_t min,
                  int64_t max, int64_t *out)
{
    if (omni__json_int(item, NULL, out) != 0 || *out < min || *out > max) {
        char why[96];
        snprintf(why, sizeof(why), "must be an integer in %lld..%lld", (long long)min,
                 (long long)max);
        return omni__opt_error(what, key, why);
    }
    return OMNI_OK;
}

int omni__opt_str(const char *what, const cJSON *item, const char *key, size_t max, char **out)
{
    if (!cJSON_IsString(item))
        return omni__opt_error(what, key, "must be a string");
    size_t n = strlen(item->valuestring);
    if (n == 0 || n > max)
        return omni__opt_error(what, key, "has an invalid length");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)item->valuestring[i] < 0x20 || item->valuestring[i] == 0x7F)
            return omni__opt_error(what, key, "must not contain control characters");
    char *s = strdup(item->valuestring);
    if (!s)
        return omni__err(OMNI_ENOMEM, NULL);
    free(*out);
    *out = s;
    return OMNI_OK;
}

int omni__opt_file(const char *what, const cJSON *item, const char *key, char **out)
{
    int rc = omni__opt_str(what, item, key, OMNI__OPT_MAX_PATH, out);
    if (!rc && access(*out, R_OK) != 0)
        rc = omni__opt_error(what, key, "names a file that cannot be read");
    return rc;
}

int omni__opt_read(const char *what, const char *json, size_t len, const char *const *keys,
                   unsigned nkeys, omni__opt_set_fn set, void *ctx)
{
    if (!json || len == 0)
        return OMNI_OK;
    char label[64];
    snprintf(label, sizeof label, "%s options", what);
    cJSON *root;
    int rc = omni__json_parse(&root, json, len, OMNI__OPT_MAX_DOC, label);
    if (rc == OMNI_EJSON || rc == OMNI_ETOOLARGE || rc == OMNI_ETOODEEP) {
        const omni_error *e = omni_error_last();
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", e->message);
        char *details = e->details ? strdup(e->details) : NULL;
        rc = omni__err_details(OMNI_ECONFIG, details, "%s", msg);
        free(details);
        return rc;
    }
    if (rc)
        return rc;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return omni__err(OMNI_ECONFIG, "%s options must be a JSON object", what);
    }
    unsigned seen = 0;
    for (const cJSON *c = root->child; c && !rc; c = c->next) {
        const char *key = c->string ? c->string : "";
        unsigned k = 0;
        while (k < nkeys && strcmp(keys[k], key) != 0)
            k++;
        if (k == nkeys) {
            char details[128], safe[64];
            size_t n = 0;
            for (const char *p = key; *p && n < sizeof(safe) - 1; p++)
                safe[n++] = (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) ? '?' : *p;
            safe[n] = '\0';
            snprintf(details, sizeof(details), "{\"path\":\"%s\"}", safe);
            rc = omni__err_details(OMNI_ECONFIG, details, "unknown %s option \"%s\"", what, safe);
            break;
        }
        if (seen & (1u << k)) {
            rc = omni__opt_error(what, key, "appears twice");
            break;
        }
        seen |= 1u << k;
        rc = set(ctx, k, c, key);
    }
    cJSON_Delete(root);
    return rc;
}
