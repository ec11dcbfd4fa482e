/* Shared plumbing of the omni CLI: errors, input, options, the engine. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

int cli_exit_code(int status)
{
    switch (status) {
    case OMNI_OK:
        return CLI_OK;
    case OMNI_EINVAL:
    case OMNI_EJSON:
    case OMNI_ETOOLARGE:
    case OMNI_ETOODEEP:
    case OMNI_EENCODING:
    case OMNI_ETIME:
    case OMNI_ECONFIG:
    case OMNI_EKEY:
        return CLI_USAGE;
    default:
        return CLI_FAIL;
    }
}

int cli_fail(int status)
{
    char *json = NULL;
    size_t len = 0;
    if (omni_error_last_status() != status)
        omni_error_set(status, NULL, -1);
    if (omni_error_last_json(&json, &len) == OMNI_OK) {
        fwrite(json, 1, len, stderr);
        fputc('\n', stderr);
        omni_free(json);
    } else {
        fprintf(stderr, "{\"code\":\"%s\",\"message\":\"out of memory\",\"retryable\":true}\n",
                omni_status_code(status));
    }
    return cli_exit_code(status);
}

int cli_usage_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    omni_error_set(OMNI_EINVAL, msg, 0);
    cli_fail(OMNI_EINVAL);
    return CLI_USAGE;
}

int cli_read_input(const char *path, size_t max, char **out, size_t *out_len)
{
    FILE *f = stdin;
    if (path && strcmp(path, "-") != 0) {
        f = fopen(path, "rb");
        if (!f)
            return cli_usage_error("cannot open %s: %s", path, strerror(errno));
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            if (f != stdin)
                fclose(f);
            return cli_fail(OMNI_ENOMEM);
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (len > max) {
            free(buf);
            if (f != stdin)
                fclose(f);
            omni_error_set(OMNI_ETOOLARGE, "input exceeds the CLI's 64 MiB limit", 0);
            return cli_fail(OMNI_ETOOLARGE);
        }
        if (n == 0)
            break;
        if (len + 1 == cap) {
            char *p = realloc(buf, cap * 2);
            if (!p)
                free(buf);
            buf = p;
            cap *= 2;
        }
    }
    int err = ferror(f);
    if (f != stdin)
        fclose(f);
    if (err) {
        free(buf);
        return cli_usage_error("cannot read %s", path ? path : "stdin");
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return CLI_OK;
}

int cli_engine_store(cli *c, const char *store_uri, omni_engine **out)
{
    *out = c->engine;
    if (c->engine)
        return CLI_OK;
    cJSON *cfg = cJSON_CreateObject();
    if (!cfg || (store_uri && !cJSON_AddStringToObject(cfg, "storage", store_uri))) {
        cJSON_Delete(cfg);
        return cli_fail(OMNI_ENOMEM);
    }
    if (c->now) {
        /* Validate first so the error names the option. */
        int64_t ms;
        if (omni_time_parse(&ms, c->now, strlen(c->now)) != OMNI_OK) {
            cJSON_Delete(cfg);
            return cli_fail(omni_error_last_status());
        }
        char iso[OMNI_TIME_STRLEN];
        omni_time_format(iso, sizeof(iso), ms);
        cJSON *clock = cJSON_AddObjectToObject(cfg, "clock");
        cJSON_AddStringToObject(clock, "fixed", iso);
    }
    if (c->seed) {
        char *end;
        errno = 0;
        unsigned long long seed = strtoull(c->seed, &end, 10);
        if (errno || *end || c->seed[0] == '-' || !c->seed[0] || seed > 9007199254740991ull) {
            cJSON_Delete(cfg);
            return cli_usage_error("--seed must be an integer from 0 to 2^53-1");
        }
        cJSON *random = cJSON_AddObjectToObject(cfg, "random");
        cJSON_AddNumberToObject(random, "seed", (double)seed);
    }
    char *text = cJSON_PrintUnformatted(cfg);
    cJSON_Delete(cfg);
    if (!text)
        return cli_fail(OMNI_ENOMEM);
    int rc = omni_engine_new(&c->engine, text, strlen(text), NULL);
    free(text);
    if (rc)
        return cli_fail(rc);
    *out = c->engine;
    return CLI_OK;
}

int cli_engine(cli *c, omni_engine **out)
{
    return cli_engine_store(c, NULL, out);
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

int cli_opt(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        cli_usage_error("%s needs a value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

void cli_print_line(const char *text, size_t len)
{
    fwrite(text, 1, len, stdout);
    fputc('\n', stdout);
}

void cli_print_json(const char *json, size_t len)
{
    cli_print_line(json, len);
}
