/* omni identity: identity lookup, links, customers and routing through a
 * store (seed 001's workFlowIdentityLookup). */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

const char cmd_identity_summary[] = "identity lookup, customers, links and routing";
const char cmd_identity_usage[] =
    "usage: omni identity lookup [EVENT]     [--region CC] [--no-brazil-ninth-digit]\n"
    "       omni identity link CUSTOMER_ID IDENTIFIER\n"
    "       omni identity unlink IDENTIFIER\n"
    "       omni identity customer-put [CUSTOMER]\n"
    "       omni identity customer-get CUSTOMER_ID\n"
    "       omni identity routing-set RECIPIENT [ROUTING]\n"
    "       omni identity routing-get RECIPIENT\n"
    "  common options: --store URI (default \"memory:\") --setup FILE\n\n"
    "lookup reads an IdentityLookupEvent (a file, or stdin) and prints the\n"
    "IdentityLookupResult: the customer (known, anonymous or new), the routing\n"
    "of the recipient and the enriched message. IDENTIFIER is a normalized\n"
    "identifier: \"+14155550100\", \"wa:+14155550100\", \"lc:<session>\" or a\n"
    "MessageBird user id. RECIPIENT is an E.164 number, \"shortcode:<digits>\",\n"
    "\"mss:<MessagingServiceSid>\", \"waba:<id>\" or \"business:<id>\"; ROUTING\n"
    "is {\"accountId\",\"businessUnitId\",\"tenantId\",\"createCustomers\",\n"
    "\"defaultRegion\"}; CUSTOMER is {\"customerId\"?,\"profile\",\"preferences\"}.\n"
    "ROUTING and CUSTOMER come from a file, or stdin.\n\n"
    "--setup FILE applies {\"routing\": {RECIPIENT: ROUTING, ...}, \"customers\":\n"
    "[CUSTOMER, ...], \"links\": {IDENTIFIER: CUSTOMER_ID, ...}} to the store\n"
    "first, so that one run over the in-memory store can show a lookup.\n"
    "--now and --seed pin the clock (receivedAt, createdAt) and the random\n"
    "hook (generated customer ids).\n";

static int read_json_file(const char *path, cJSON **out)
{
    char *text;
    size_t len;
    int rc = cli_read_input(path, CLI_MAX_INPUT, &text, &len);
    if (rc)
        return rc;
    *out = cJSON_ParseWithLength(text, len);
    free(text);
    if (!*out)
        return cli_usage_error("%s is not valid JSON", path ? path : "stdin");
    return CLI_OK;
}

/* --setup: routing, then customers, then links. */
static int apply_setup(omni_engine *e, const char *path)
{
    cJSON *doc;
    int rc = read_json_file(path, &doc);
    if (rc)
        return rc;
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return cli_usage_error("--setup: the document must be a JSON object");
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, doc)
    {
        if (strcmp(item->string, "routing") != 0 && strcmp(item->string, "customers") != 0 &&
            strcmp(item->string, "links") != 0) {
            rc = cli_usage_error("--setup: unknown member \"%s\" (known: routing, customers, "
                                 "links)",
                                 item->string);
            goto done;
        }
    }
    const cJSON *routing = cJSON_GetObjectItemCaseSensitive(doc, "routing");
    const cJSON *customers = cJSON_GetObjectItemCaseSensitive(doc, "customers");
    const cJSON *links = cJSON_GetObjectItemCaseSensitive(doc, "links");
    if ((routing && !cJSON_IsObject(routing)) || (customers && !cJSON_IsArray(customers)) ||
        (links && !cJSON_IsObject(links))) {
        rc = cli_usage_error("--setup: routing and links must be objects, customers an array");
        goto done;
    }
    cJSON_ArrayForEach(item, routing)
    {
        char *text = cJSON_PrintUnformatted(item);
        int st = text ? omni_routing_set(e, item->string, text, strlen(text)) : OMNI_ENOMEM;
        free(text);
        if (st) {
            rc = cli_fail(st);
            goto done;
        }
    }
    cJSON_ArrayForEach(item, customers)
    {
        char *text = cJSON_PrintUnformatted(item), *out = NULL;
        int st = text ? omni_customer_put(&out, NULL, e, text, strlen(text)) : OMNI_ENOMEM;
        free(text);
        omni_free(out);
        if (st) {
            rc = cli_fail(st);
            goto done;
        }
    }
    cJSON_ArrayForEach(item, links)
    {
        if (!cJSON_IsString(item)) {
            rc = cli_usage_error("--setup: links map identifiers to customer ids (strings)");
            goto done;
        }
        int st = omni_identity_link(e, item->valuestring, item->string);
        if (st) {
            rc = cli_fail(st);
            goto done;
        }
    }
done:
    cJSON_Delete(doc);
    return rc;
}

static int print_result(int rc, char *out, size_t len)
{
    if (rc)
        return cli_fail(rc);
    cli_print_json(out, len);
    omni_free(out);
    return CLI_OK;
}

/* {"<k1>": v1, "<k2>": v2, "<flag>": true} */
static int print_done(const char *k1, const char *v1, const char *k2, const char *v2,
                      const char *flag)
{
    cJSON *o = cJSON_CreateObject();
    if (k1)
        cJSON_AddStringToObject(o, k1, v1);
    if (k2)
        cJSON_AddStringToObject(o, k2, v2);
    cJSON_AddTrueToObject(o, flag);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text)
        return cli_fail(OMNI_ENOMEM);
    cli_print_line(text, strlen(text));
    free(text);
    return CLI_OK;
}

int cmd_identity(cli *c, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("usage: omni identity lookup|link|unlink|customer-put|"
                               "customer-get|routing-set|routing-get [ARGS] (see --help)");
    const char *sub = argv[1];
    const char *store = "memory:", *setup = NULL, *region = NULL;
    int no_br = 0;
    const char *pos[3] = {NULL, NULL, NULL};
    int npos = 0;
    for (int i = 2; i < argc; i++) {
        int r = cli_opt(argc, argv, &i, "--store", &store);
        if (r == 0)
            r = cli_opt(argc, argv, &i, "--setup", &setup);
        if (r == 0)
            r = cli_opt(argc, argv, &i, "--region", &region);
        if (r < 0)
            return CLI_USAGE;
        if (r == 1)
            continue;
        if (strcmp(argv[i], "--no-brazil-ninth-digit") == 0) {
            no_br = 1;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] == '-')
            return cli_usage_error("unknown option \"%s\" for identity %s", argv[i], sub);
        if (npos >= 3)
            return cli_usage_error("too many arguments for identity %s", sub);
        pos[npos++] = argv[i];
    }

    struct {
        const char *name;
        int min, max;
    } subs[] = {{"lookup", 0, 1},       {"link", 2, 2},        {"unlink", 1, 1},
                {"customer-put", 0, 1}, {"customer-get", 1, 1}, {"routing-set", 1, 2},
                {"routing-get", 1, 1}};
    size_t k = 0;
    while (k < sizeof(subs) / sizeof(subs[0]) && strcmp(subs[k].name, sub) != 0)
        k++;
    if (k == sizeof(subs) / sizeof(subs[0]))
        return cli_usage_error("unknown identity command \"%s\" (lookup, link, unlink, "
                               "customer-put, customer-get, routing-set, routing-get)",
                               sub);
    if (npos < subs[k].min || npos > subs[k].max)
        return cli_usage_error("identity %s takes %d to %d arguments", sub, subs[k].min,
                               subs[k].max);
    if ((region || no_br) && k != 0)
        return cli_usage_error("--region and --no-brazil-ninth-digit are lookup options");

    omni_engine *e = NULL;
    int rc = cli_engine_store(c, store, &e);
    if (rc)
        return rc;
    if (setup && (rc = apply_setup(e, setup)))
        return rc;

    char *out = NULL;
    size_t len = 0;
    switch (k) {
    case 0: { /* lookup */
        char *ev;
        size_t ev_len;
        rc = cli_read_input(pos[0], CLI_MAX_INPUT, &ev, &ev_len);
        if (rc)
            return rc;
        cJSON *opts = cJSON_CreateObject();
        if (region)
            cJSON_AddStringToObject(opts, "defaultRegion", region);
        if (no_br)
            cJSON_AddFalseToObject(opts, "brazilNinthDigit");
        char *ot = cJSON_PrintUnformatted(opts);
        cJSON_Delete(opts);
        int st = omni_identity_lookup(&out, &len, e, ev, ev_len, ot, ot ? strlen(ot) : 0);
        free(ot);
        free(ev);
        return print_result(st, out, len);
    }
    case 1:
        rc = omni_identity_link(e, pos[0], pos[1]);
        return rc ? cli_fail(rc) : print_done("customerId", pos[0], "identifier", pos[1],
                                              "linked");
    case 2:
        rc = omni_identity_unlink(e, pos[0]);
        return rc ? cli_fail(rc) : print_done("identifier", pos[0], NULL, NULL, "unlinked");
    case 3: {
        char *doc;
        size_t doc_len;
        rc = cli_read_input(pos[0], CLI_MAX_INPUT, &doc, &doc_len);
        if (rc)
            return rc;
        int st = omni_customer_put(&out, &len, e, doc, doc_len);
        free(doc);
        return print_result(st, out, len);
    }
    case 4:
        rc = omni_customer_get(&out, &len, e, pos[0]);
        return print_result(rc, out, len);
    case 5: {
        char *doc;
        size_t doc_len;
        rc = cli_read_input(pos[1], CLI_MAX_INPUT, &doc, &doc_len);
        if (rc)
            return rc;
        while (doc_len && (doc[doc_len - 1] == '\n' || doc[doc_len - 1] == '\r' ||
                           doc[doc_len - 1] == ' ' || doc[doc_len - 1] == '\t'))
            doc_len--;
        int st = omni_routing_set(e, pos[0], doc, doc_len);
        free(doc);
        if (st)
            return cli_fail(st);
        rc = omni_routing_get(&out, &len, e, pos[0]);
        return print_result(rc, out, len);
    }
    default:
        rc = omni_routing_get(&out, &len, e, pos[0]);
        return print_result(rc, out, len);
    }
}
