/* omni rules check | eval — the rule engine (include/omni/rules.h). */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

const char cmd_rules_summary[] = "validate routing rules, or evaluate them against facts";
const char cmd_rules_usage[] =
    "usage: omni rules check RULES [--time-zone ZONE] [--format F]\n"
    "       omni rules eval --rules RULES [--time-zone ZONE] [--format F] [--lines]\n"
    "                       [--explain] [FACTS]\n"
    "\n"
    "RULES is a JSON file: an array of rules (seed 001's RoutingRule format\n"
    "{id, name, priority, enabled, conditions, actions} or json-rules-engine's\n"
    "{name, priority, conditions, event}), or {\"rules\": [...]}.\n"
    "--format auto|routing|json-rules-engine (default auto: a rule with an\n"
    "\"event\" is a json-rules-engine rule); --time-zone: the IANA zone of the\n"
    "time.* facts (default UTC).\n"
    "\n"
    "check prints {\"valid\":true,\"rules\":N} (exit 0) or\n"
    "{\"valid\":false,\"errors\":[{\"ruleId\",\"path\",\"message\"},...]} (exit 1).\n"
    "\n"
    "eval reads FACTS (a file, or stdin): one JSON object, or with --lines one\n"
    "object per line, and prints one compact result per object:\n"
    "{\"matched\",\"actions\",\"destination\",\"tags\",\"priority\",\"block\",\"escalate\",\n"
    "\"autoRespond\",\"stoppedBy\"} (plus \"explain\" with --explain). With --lines\n"
    "a bad line prints {\"line\":N,\"error\":{\"code\",\"message\"}} and the exit\n"
    "code is 1 at the end. --now pins the time of the time.* facts.\n";

/* The compile options {"timeZone","format"} as JSON text (malloc'd). */
static int options_text(const char *tz, const char *format, char **out)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || (tz && !cJSON_AddStringToObject(o, "timeZone", tz)) ||
        (format && !cJSON_AddStringToObject(o, "format", format))) {
        cJSON_Delete(o);
        return cli_fail(OMNI_ENOMEM);
    }
    *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return *out ? CLI_OK : cli_fail(OMNI_ENOMEM);
}

static int compile_file(const char *path, const char *tz, const char *format, omni_rules **r,
                        int *status)
{
    char *opts = NULL, *text = NULL;
    size_t len = 0;
    int rc = options_text(tz, format, &opts);
    if (rc == CLI_OK)
        rc = cli_read_input(path, OMNI_RULES_MAX_SOURCE, &text, &len);
    if (rc == CLI_OK)
        *status = omni_rules_compile(r, text, len, opts, strlen(opts));
    free(opts);
    free(text);
    return rc;
}

/* {"valid":false,"errors":[...]} from the last error. */
static int print_invalid(int st)
{
    const omni_error *e = omni_error_last();
    cJSON *doc = cJSON_CreateObject();
    cJSON *errors = NULL;
    if (st == OMNI_ECONFIG && e->details) {
        cJSON *details = cJSON_Parse(e->details);
        cJSON *list = cJSON_DetachItemFromObjectCaseSensitive(details, "errors");
        cJSON_Delete(details);
        errors = list;
    }
    if (!errors) {
        errors = cJSON_CreateArray();
        cJSON *one = cJSON_CreateObject();
        if (one) {
            cJSON_AddNullToObject(one, "ruleId");
            cJSON_AddStringToObject(one, "path", "");
            cJSON_AddStringToObject(one, "message", e->message);
            cJSON_AddStringToObject(one, "code", e->code);
        }
        if (!errors || !one || !cJSON_AddItemToArray(errors, one))
            cJSON_Delete(one);
    }
    if (!doc || !cJSON_AddFalseToObject(doc, "valid") || !errors ||
        !cJSON_AddItemToObject(doc, "errors", errors)) {
        cJSON_Delete(doc);
        return cli_fail(OMNI_ENOMEM);
    }
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (!text)
        return cli_fail(OMNI_ENOMEM);
    cli_print_line(text, strlen(text));
    free(text);
    return CLI_FAIL;
}

static int rules_check(int argc, char **argv)
{
    const char *tz = NULL, *format = NULL, *file = NULL;
    for (int i = 2; i < argc; i++) {
        int r;
        if ((r = cli_opt(argc, argv, &i, "--time-zone", &tz)) ||
            (r = cli_opt(argc, argv, &i, "--format", &format))) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error("unknown option \"%s\" for rules check", argv[i]);
        if (file)
            return cli_usage_error("rules check takes one RULES file");
        file = argv[i];
    }
    if (!file)
        return cli_usage_error("usage: omni rules check RULES [--time-zone ZONE] [--format F]");
    omni_rules *r = NULL;
    int st = 0;
    int rc = compile_file(file, tz, format, &r, &st);
    if (rc)
        return rc;
    if (st == OMNI_ECONFIG || st == OMNI_EJSON || st == OMNI_ETOOLARGE || st == OMNI_ETOODEEP)
        return print_invalid(st);
    if (st)
        return cli_fail(st);
    char line[64];
    int n = snprintf(line, sizeof(line), "{\"valid\":true,\"rules\":%zu}", omni_rules_count(r));
    cli_print_line(line, (size_t)n);
    omni_rules_free(r);
    return CLI_OK;
}

/* {"line":N,"error":{"code","message"}} for the last error. */
static int print_line_error(size_t line)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *err = cJSON_CreateObject();
    if (!doc || !err || !cJSON_AddNumberToObject(doc, "line", (double)line) ||
        !cJSON_AddStringToObject(err, "code", omni_error_last_code()) ||
        !cJSON_AddStringToObject(err, "message", omni_error_last_message()) ||
        !cJSON_AddItemToObject(doc, "error", err)) {
        cJSON_Delete(doc);
        cJSON_Delete(err);
        return cli_fail(OMNI_ENOMEM);
    }
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (!text)
        return cli_fail(OMNI_ENOMEM);
    cli_print_line(text, strlen(text));
    free(text);
    return CLI_OK;
}

static int rules_eval(cli *c, int argc, char **argv)
{
    const char *tz = NULL, *format = NULL, *rules_file = NULL, *facts_file = NULL;
    int lines = 0;
    unsigned flags = 0;
    for (int i = 2; i < argc; i++) {
        int r;
        if ((r = cli_opt(argc, argv, &i, "--time-zone", &tz)) ||
            (r = cli_opt(argc, argv, &i, "--format", &format)) ||
            (r = cli_opt(argc, argv, &i, "--rules", &rules_file))) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if (strcmp(argv[i], "--lines") == 0) {
            lines = 1;
            continue;
        }
        if (strcmp(argv[i], "--explain") == 0) {
            flags |= OMNI_RULES_EXPLAIN;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error("unknown option \"%s\" for rules eval", argv[i]);
        if (facts_file)
            return cli_usage_error("rules eval takes one FACTS file");
        facts_file = argv[i];
    }
    if (!rules_file)
        return cli_usage_error("rules eval needs --rules RULES");
    if (strcmp(rules_file, "-") == 0 && (!facts_file || strcmp(facts_file, "-") == 0))
        return cli_usage_error("the rules and the facts cannot both come from stdin");
    omni_engine *e = NULL;
    int rc = cli_engine(c, &e);
    if (rc)
        return rc;
    int64_t now = omni_engine_now_ms(e);
    omni_rules *r = NULL;
    int st = 0;
    rc = compile_file(rules_file, tz, format, &r, &st);
    if (rc)
        return rc;
    if (st)
        return cli_fail(st);
    char *facts = NULL;
    size_t len = 0;
    rc = cli_read_input(facts_file, CLI_MAX_INPUT, &facts, &len);
    if (rc) {
        omni_rules_free(r);
        return rc;
    }
    if (!lines) {
        char *out;
        size_t out_len;
        st = omni_rules_eval(&out, &out_len, r, facts, len, now, flags);
        if (st) {
            rc = cli_fail(st);
        } else {
            cli_print_json(out, out_len);
            omni_free(out);
        }
    } else {
        size_t line = 0;
        const char *p = facts, *end = facts + len;
        while (p < end && rc != CLI_USAGE) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *le = nl ? nl : end;
            line++;
            const char *q = p;
            while (q < le && (*q == ' ' || *q == '\t' || *q == '\r'))
                q++;
            if (q < le) {
                char *out;
                size_t out_len;
                st = omni_rules_eval(&out, &out_len, r, p, (size_t)(le - p), now, flags);
                if (st) {
                    if (print_line_error(line) != CLI_OK)
                        rc = CLI_FAIL;
                    rc = rc ? rc : CLI_FAIL;
                } else {
                    cli_print_json(out, out_len);
                    omni_free(out);
                }
            }
            p = nl ? nl + 1 : end;
        }
    }
    free(facts);
    omni_rules_free(r);
    return rc;
}

int cmd_rules(cli *c, int argc, char **argv)
{
    if (argc < 2 || cli_wants_help(argc, argv)) {
        fputs(cmd_rules_usage, stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "check") == 0)
        return rules_check(argc, argv);
    if (strcmp(argv[1], "eval") == 0)
        return rules_eval(c, argc, argv);
    return cli_usage_error("unknown rules command \"%s\" (check or eval)", argv[1]);
}
