/* omni render | sms-segments | template validate */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

/* Reads a whole file into a cJSON string member of obj. */
static int add_file_string(cJSON *obj, const char *name, const char *path)
{
    char *text;
    size_t len;
    int rc = cli_read_input(path, OMNI_TEMPLATE_MAX_SOURCE, &text, &len);
    if (rc)
        return rc;
    if (strlen(text) != len) {
        free(text);
        return cli_usage_error("%s contains a NUL byte", path);
    }
    cJSON *s = cJSON_CreateString(text);
    free(text);
    if (!s || !cJSON_AddItemToObject(obj, name, s)) {
        cJSON_Delete(s);
        return cli_fail(OMNI_ENOMEM);
    }
    return CLI_OK;
}

static int print_options(cJSON *opts, char **out)
{
    *out = cJSON_PrintUnformatted(opts);
    return *out ? CLI_OK : cli_fail(OMNI_ENOMEM);
}

int cmd_render(cli *c, int argc, char **argv)
{
    (void)c;
    const char *escape = NULL, *mode = NULL, *locale = NULL, *tz = NULL;
    const char *files[2] = {NULL, NULL};
    int nfiles = 0, strict = 0;
    cJSON *opts = cJSON_CreateObject();
    cJSON *partials = cJSON_CreateObject();
    if (!opts || !partials || !cJSON_AddItemToObject(opts, "partials", partials)) {
        cJSON_Delete(opts);
        cJSON_Delete(partials);
        return cli_fail(OMNI_ENOMEM);
    }
    int rc = CLI_OK;
    for (int i = 1; i < argc && rc == CLI_OK; i++) {
        const char *v;
        int r;
        if ((r = cli_opt(argc, argv, &i, "--escape", &escape)) ||
            (r = cli_opt(argc, argv, &i, "--mode", &mode)) ||
            (r = cli_opt(argc, argv, &i, "--locale", &locale)) ||
            (r = cli_opt(argc, argv, &i, "--time-zone", &tz))) {
            if (r < 0)
                rc = CLI_USAGE;
            continue;
        }
        if ((r = cli_opt(argc, argv, &i, "--partial", &v))) {
            if (r < 0) {
                rc = CLI_USAGE;
                continue;
            }
            const char *eq = strchr(v, '=');
            if (!eq || eq == v || !eq[1]) {
                rc = cli_usage_error("--partial takes NAME=FILE");
                continue;
            }
            char name[128];
            size_t n = (size_t)(eq - v);
            if (n >= sizeof(name)) {
                rc = cli_usage_error("partial name too long");
                continue;
            }
            memcpy(name, v, n);
            name[n] = '\0';
            cJSON_DeleteItemFromObjectCaseSensitive(partials, name);
            rc = add_file_string(partials, name, eq + 1);
            continue;
        }
        if (strcmp(argv[i], "--strict") == 0) {
            strict = 1;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            rc = cli_usage_error("unknown option \"%s\" for render", argv[i]);
            continue;
        }
        if (nfiles == 2) {
            rc = cli_usage_error("usage: omni render TEMPLATE [DATA]");
            continue;
        }
        files[nfiles++] = argv[i];
    }
    if (rc == CLI_OK && nfiles == 0)
        rc = cli_usage_error("usage: omni render TEMPLATE [DATA]");
    if (rc == CLI_OK && files[1] == NULL && strcmp(files[0], "-") == 0)
        rc = cli_usage_error("the template and the data cannot both come from stdin");
    if (rc == CLI_OK) {
        if ((escape && !cJSON_AddStringToObject(opts, "escape", escape)) ||
            (mode && !cJSON_AddStringToObject(opts, "mode", mode)) ||
            (locale && !cJSON_AddStringToObject(opts, "locale", locale)) ||
            (tz && !cJSON_AddStringToObject(opts, "timeZone", tz)) ||
            (strict && !cJSON_AddTrueToObject(opts, "strict")))
            rc = cli_fail(OMNI_ENOMEM);
    }
    char *opts_text = NULL;
    if (rc == CLI_OK)
        rc = print_options(opts, &opts_text);
    cJSON_Delete(opts);
    if (rc)
        return rc;

    char *source = NULL, *data = NULL;
    size_t source_len = 0, data_len = 0;
    rc = cli_read_input(files[0], OMNI_TEMPLATE_MAX_SOURCE, &source, &source_len);
    if (rc == CLI_OK)
        rc = cli_read_input(files[1], CLI_MAX_INPUT, &data, &data_len);
    omni_template *t = NULL;
    if (rc == CLI_OK) {
        int st = omni_template_compile(&t, source, source_len, opts_text, strlen(opts_text),
                                       NULL);
        if (st)
            rc = cli_fail(st);
    }
    if (rc == CLI_OK) {
        char *out;
        size_t out_len;
        int st = omni_template_render(&out, &out_len, t, data, data_len);
        if (st) {
            rc = cli_fail(st);
        } else {
            fwrite(out, 1, out_len, stdout); /* exactly the rendered bytes */
            omni_free(out);
        }
    }
    omni_template_free(t);
    free(source);
    free(data);
    free(opts_text);
    return rc;
}

int cmd_sms_segments(cli *c, int argc, char **argv)
{
    (void)c;
    const char *text = NULL;
    char *input = NULL;
    size_t len = 0;
    if (argc > 2)
        return cli_usage_error("usage: omni sms-segments [TEXT] (stdin when no TEXT)");
    if (argc == 2) {
        text = argv[1];
        len = strlen(text);
    } else {
        int rc = cli_read_input(NULL, OMNI_SMS_MAX_INPUT, &input, &len);
        if (rc)
            return rc;
        text = input;
    }
    char *out;
    size_t out_len;
    int st = omni_sms_segments(&out, &out_len, text, len);
    free(input);
    if (st)
        return cli_fail(st);
    cli_print_json(out, out_len);
    omni_free(out);
    return CLI_OK;
}

static int template_validate(int argc, char **argv)
{
    const char *channel = NULL, *data_file = NULL, *max_segments = NULL, *params = NULL,
               *locale = NULL, *file = NULL;
    for (int i = 2; i < argc; i++) {
        int r;
        if ((r = cli_opt(argc, argv, &i, "--channel", &channel)) ||
            (r = cli_opt(argc, argv, &i, "--data", &data_file)) ||
            (r = cli_opt(argc, argv, &i, "--max-segments", &max_segments)) ||
            (r = cli_opt(argc, argv, &i, "--whatsapp-parameters", &params)) ||
            (r = cli_opt(argc, argv, &i, "--locale", &locale))) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error("unknown option \"%s\" for template validate", argv[i]);
        if (file)
            return cli_usage_error("template validate takes one TEMPLATE file");
        file = argv[i];
    }
    if (!channel)
        return cli_usage_error("--channel is required (sms, email, whatsapp or push)");
    cJSON *opts = cJSON_CreateObject();
    if (!opts)
        return cli_fail(OMNI_ENOMEM);
    int rc = CLI_OK;
    const struct {
        const char *value;
        const char *key;
    } numbers[] = {{max_segments, "maxSmsSegments"}, {params, "whatsappParameters"}};
    for (size_t k = 0; k < 2 && rc == CLI_OK; k++) {
        if (!numbers[k].value)
            continue;
        char *end;
        errno = 0;
        long n = strtol(numbers[k].value, &end, 10);
        if (errno || *end || !*numbers[k].value || n < 0 || n > 100000)
            rc = cli_usage_error("%s must be a number", numbers[k].key);
        else if (!cJSON_AddNumberToObject(opts, numbers[k].key, (double)n))
            rc = cli_fail(OMNI_ENOMEM);
    }
    if (rc == CLI_OK && locale && !cJSON_AddStringToObject(opts, "locale", locale))
        rc = cli_fail(OMNI_ENOMEM);
    if (rc == CLI_OK && data_file) {
        char *data;
        size_t data_len;
        rc = cli_read_input(data_file, CLI_MAX_INPUT, &data, &data_len);
        if (rc == CLI_OK) {
            cJSON *parsed = cJSON_ParseWithLength(data, data_len);
            free(data);
            if (!parsed || !cJSON_AddItemToObject(opts, "data", parsed)) {
                cJSON_Delete(parsed);
                omni_error_set(OMNI_EJSON, "--data is not a JSON document", 0);
                rc = cli_fail(OMNI_EJSON);
            }
        }
    }
    char *opts_text = NULL;
    if (rc == CLI_OK)
        rc = print_options(opts, &opts_text);
    cJSON_Delete(opts);
    char *tmpl = NULL;
    size_t tmpl_len = 0;
    if (rc == CLI_OK)
        rc = cli_read_input(file, OMNI_TEMPLATE_MAX_SOURCE, &tmpl, &tmpl_len);
    if (rc == CLI_OK) {
        char *out;
        size_t out_len;
        int st = omni_template_validate(&out, &out_len, tmpl, tmpl_len, channel, opts_text,
                                        strlen(opts_text));
        if (st) {
            rc = cli_fail(st);
        } else {
            cli_print_json(out, out_len);
            /* exit 1 when the template has error findings */
            rc = strstr(out, "\"valid\":false") ? CLI_FAIL : CLI_OK;
            omni_free(out);
        }
    }
    free(tmpl);
    free(opts_text);
    return rc;
}

int cmd_template(cli *c, int argc, char **argv)
{
    (void)c;
    if (argc >= 2 && strcmp(argv[1], "validate") == 0)
        return template_validate(argc, argv);
    return cli_usage_error("usage: omni template validate --channel CHANNEL TEMPLATE");
}
