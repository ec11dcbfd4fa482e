/* Test support: golden files and request comparison (see golden.h). */
#include "golden.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "test_files.h"

char *golden_read(const char *dir, const char *name, size_t *len)
{
    const char *src = getenv("OMNI_SOURCE_DIR");
    if (!src)
        return NULL;
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/%s/%s", src, dir, name);
    return test_read_file(path, len);
}

cJSON *golden_load(const char *dir, const char *name, char *why, size_t cap)
{
    size_t len = 0;
    char *text = golden_read(dir, name, &len);
    if (!text) {
        snprintf(why, cap, "cannot read tests/data/%s/%s (is OMNI_SOURCE_DIR set?)", dir, name);
        return NULL;
    }
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    if (!j)
        snprintf(why, cap, "tests/data/%s/%s is not JSON", dir, name);
    return j;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

int golden_list(const char *dir, const char *skip, char names[][128], int cap)
{
    const char *src = getenv("OMNI_SOURCE_DIR");
    if (!src)
        return -1;
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/%s", src, dir);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < cap) {
        size_t len = strlen(e->d_name);
        if (len < 6 || len >= 128 || strcmp(e->d_name + len - 5, ".json") != 0 ||
            strcmp(e->d_name, "responses.json") == 0 || (skip && strcmp(e->d_name, skip) == 0))
            continue;
        memcpy(names[n++], e->d_name, len + 1);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], by_name);
    return n;
}

int64_t golden_now(const cJSON *g, const char *def)
{
    const cJSON *now = cJSON_GetObjectItemCaseSensitive(g, "now");
    const char *s = cJSON_IsString(now) ? now->valuestring : def;
    int64_t ms = 0;
    if (s && omni_time_parse(&ms, s, strlen(s)) != OMNI_OK)
        ms = 0;
    return ms;
}

static const char *member_str(const cJSON *o, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* The value of header `name` in want's order or as a set. */
static const char *req_header_value(const omni_http_request *req, size_t i, const char *name,
                                    int ordered)
{
    if (!ordered)
        return omni_http_request_header(req, name);
    const char *n = omni_http_request_header_name(req, i);
    return n && strcmp(n, name) == 0 ? omni_http_request_header_value(req, i) : NULL;
}

int golden_request_diff(const omni_http_request *req, const cJSON *want, int ordered, char *why,
                        size_t cap)
{
    const char *m = member_str(want, "method"), *u = member_str(want, "url");
    if (!m || strcmp(omni_http_request_method(req), m) != 0) {
        snprintf(why, cap, "method %s, want %s", omni_http_request_method(req), m ? m : "?");
        return 1;
    }
    if (!u || strcmp(omni_http_request_url(req), u) != 0) {
        snprintf(why, cap, "url %s\n want %s", omni_http_request_url(req), u ? u : "?");
        return 1;
    }
    const cJSON *hs = cJSON_GetObjectItemCaseSensitive(want, "headers");
    size_t i = 0;
    const cJSON *h;
    cJSON_ArrayForEach(h, hs) {
        const char *value = req_header_value(req, i, h->string, ordered);
        if (!value || !cJSON_IsString(h) || strcmp(value, h->valuestring) != 0) {
            snprintf(why, cap, "header %zu %s: %s\n want %s", i, h->string,
                     value ? value : "(missing or out of order)",
                     cJSON_IsString(h) ? h->valuestring : "?");
            return 1;
        }
        i++;
    }
    if (omni_http_request_header_count(req) != i) {
        snprintf(why, cap, "%zu headers, want %zu", omni_http_request_header_count(req), i);
        return 1;
    }
    size_t blen = 0;
    const char *body = omni_http_request_body(req, &blen);
    const char *wbody = member_str(want, "body");
    if (!wbody)
        wbody = "";
    if (blen != strlen(wbody) || (blen && memcmp(body, wbody, blen) != 0)) {
        snprintf(why, cap, "body\n got: %.*s\nwant: %s", (int)blen, body ? body : "", wbody);
        return 1;
    }
    return 0;
}

omni_http_response *golden_response(const cJSON *entry)
{
    cJSON *r = cJSON_CreateObject();
    static const char *const keep[] = {"status", "headers", "body"};
    for (int i = 0; i < 3; i++) {
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(entry, keep[i]);
        if (it)
            cJSON_AddItemToObject(r, keep[i], cJSON_Duplicate(it, 1));
    }
    char *text = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    omni_http_response *resp = NULL;
    if (!text || omni_http_response_from_json(&resp, text, strlen(text)) != OMNI_OK)
        resp = NULL;
    free(text);
    return resp;
}

int golden_no_secret(const char *text, const char *const *secrets)
{
    for (; secrets && *secrets; secrets++)
        if (text && strstr(text, *secrets))
            return 0;
    return 1;
}

static int fail(char *why, size_t cap, const char *what, const char *name, const char *detail)
{
    snprintf(why, cap, "%s %s: %s", what, name, detail);
    return -1;
}

int golden_outbound_requests(const char *provider, int ordered, char *why, size_t cap)
{
    char dir[160], names[64][128];
    snprintf(dir, sizeof dir, "outbound/%s", provider);
    int n = golden_list(dir, NULL, names, 64);
    if (n < 0)
        return fail(why, cap, "cannot list", dir, "");
    for (int i = 0; i < n; i++) {
        cJSON *g = golden_load(dir, names[i], why, cap);
        if (!g)
            return -1;
        char *cfg = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(g, "config"));
        char *ev = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(g, "event"));
        int64_t now = golden_now(g, NULL);
        omni_outbound *ob = NULL;
        omni_http_request *req = NULL, *req2 = NULL;
        int rc = -1;
        char detail[1024] = "";
        if (omni_outbound_new(&ob, cfg, strlen(cfg)) != OMNI_OK)
            snprintf(detail, sizeof detail, "config: %s", omni_error_last_message());
        else if (omni_outbound_build(&req, ob, provider, ev, strlen(ev), now) != OMNI_OK)
            snprintf(detail, sizeof detail, "build: %s", omni_error_last_message());
        else if (omni_outbound_build(&req2, ob, NULL, ev, strlen(ev), now) != OMNI_OK)
            snprintf(detail, sizeof detail, "build by recipient.carrier: %s",
                     omni_error_last_message());
        else if (!golden_request_diff(req, cJSON_GetObjectItemCaseSensitive(g, "request"),
                                      ordered, detail, sizeof detail))
            rc = 0;
        omni_http_request_free(req);
        omni_http_request_free(req2);
        omni_outbound_free(ob);
        free(cfg);
        free(ev);
        cJSON_Delete(g);
        if (rc)
            return fail(why, cap, dir, names[i], detail);
    }
    return n;
}

int golden_outbound_responses(const char *provider, const char *config,
                              const char *const *secrets, const char *default_now, char *why,
                              size_t cap)
{
    char dir[160];
    snprintf(dir, sizeof dir, "outbound/%s", provider);
    cJSON *all = golden_load(dir, "responses.json", why, cap);
    if (!all)
        return -1;
    omni_outbound *ob = NULL;
    if (omni_outbound_new(&ob, config, strlen(config)) != OMNI_OK) {
        cJSON_Delete(all);
        return fail(why, cap, dir, "config", omni_error_last_message());
    }
    int n = 0, rc = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, all) {
        char label[64], detail[2048] = "";
        const char *name = member_str(c, "name");
        snprintf(label, sizeof label, "case %d%s%.40s", n, name ? " " : "", name ? name : "");
        omni_http_response *resp = golden_response(c);
        char *out = NULL;
        size_t len = 0;
        if (!resp) {
            snprintf(detail, sizeof detail, "not a response");
        } else if (omni_outbound_parse(&out, &len, ob, provider, resp,
                                       golden_now(c, default_now)) != OMNI_OK) {
            snprintf(detail, sizeof detail, "parse: %s", omni_error_last_message());
        } else {
            cJSON *got = cJSON_ParseWithLength(out, len);
            const cJSON *want = cJSON_GetObjectItemCaseSensitive(c, "result");
            if (!got || !cJSON_Compare(got, want, 1)) {
                char *w = cJSON_PrintUnformatted(want);
                snprintf(detail, sizeof detail, "\n got: %s\nwant: %s", out, w ? w : "?");
                free(w);
            } else if (!golden_no_secret(out, secrets)) {
                snprintf(detail, sizeof detail, "a secret in %s", out);
            }
            cJSON_Delete(got);
        }
        omni_free(out);
        omni_http_response_free(resp);
        if (detail[0]) {
            rc = fail(why, cap, dir, label, detail);
            break;
        }
        n++;
    }
    omni_outbound_free(ob);
    cJSON_Delete(all);
    return rc ? rc : n;
}

const char *golden_error_path(char *out, size_t cap)
{
    out[0] = '\0';
    char *json = NULL;
    size_t n = 0;
    if (omni_error_last_json(&json, &n) != OMNI_OK)
        return out;
    cJSON *j = cJSON_ParseWithLength(json, n);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "details"),
                                                      "path");
    if (cJSON_IsString(p))
        snprintf(out, cap, "%s", p->valuestring);
    cJSON_Delete(j);
    omni_free(json);
    return out;
}
