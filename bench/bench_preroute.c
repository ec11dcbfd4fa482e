/* Pre-routing benchmark (issue 6): omni_preroute_run of a realistic mix of
 * messages — 80% plain routing, the rest greetings of new conversations,
 * away messages, STOP / HELP keywords and spam — against an account of 100
 * rules generated like a real one (32 intent x channel routes, 20 tier
 * tags, 27 business-unit / channel routes, 20 keywords, a VIP rule), with the
 * in-memory store. Goal: 200,000 per second on one core
 * (5 us per run, analysis, rules and the result JSON included).
 * Also: the plain routing path alone, and the analyzer alone (its share). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/analyze.h>
#include <omni/omni.h>
#include <omni/preroute.h>

#include "bench.h"

#define MIX 100

static const char *const intents[] = {"billing", "cancel",   "support",   "sales",
                                      "order_status", "complaint", "greeting", "human_agent"};
static const char *const channels[] = {"sms", "whatsapp", "chat", "mms"};

/* 100 rules: 8 intents x 4 channels, VIP tags, keywords, priorities. */
static char *make_config(void)
{
    size_t cap = 256 * 1024, n = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
#define PUT(...) n += (size_t)snprintf(s + n, cap - n, __VA_ARGS__)
    PUT("{\"defaults\":{\"timeZone\":\"America/New_York\",\"businessHours\":{\"weekly\":{");
    static const char *const days[] = {"mon", "tue", "wed", "thu", "fri"};
    for (int d = 0; d < 5; d++)
        PUT("%s\"%s\":[[\"08:00\",\"20:00\"]]", d ? "," : "", days[d]);
    PUT("},\"holidays\":[\"2026-12-25\"]},\"autoResponses\":{\"greeting\":{\"templateId\":"
        "\"greeting\"},\"away\":{\"templateId\":\"away\"},\"windowSeconds\":86400},"
        "\"optOut\":{\"confirmations\":{\"stop\":\"stop\",\"help\":\"help\"}},\"rules\":[");
    int r = 0;
    for (int i = 0; i < 8; i++)
        for (int c = 0; c < 4; c++, r++)
            PUT("%s{\"id\":\"intent-%s-%s\",\"priority\":%d,\"conditions\":[{\"field\":"
                "\"contentAnalysis.intent\",\"operator\":\"contains\",\"value\":\"%s\"},"
                "{\"field\":\"routing.channel\",\"operator\":\"equals\",\"value\":\"%s\"}],"
                "\"actions\":[{\"type\":\"route_to_queue\",\"queueId\":\"%s-%s\"},{\"type\":"
                "\"add_tag\",\"tag\":\"%s\"}]}",
                r ? "," : "", intents[i], channels[c], 50 + i, intents[i], channels[c],
                intents[i], channels[c], intents[i]);
    for (int v = 0; v < 20; v++, r++)
        PUT(",{\"id\":\"tag-%d\",\"priority\":90,\"conditions\":[{\"field\":"
            "\"identity.profile.tags\",\"operator\":\"contains\",\"value\":\"tier-%d\"}],"
            "\"actions\":[{\"type\":\"route_to_queue\",\"queueId\":\"tier-%d\","
            "\"priority\":\"high\"}]}",
            v, v, v);
    /* business units and channels: indexed equality */
    for (int b = 0; b < 27; b++, r++)
        PUT(",{\"id\":\"bu-%d\",\"priority\":20,\"conditions\":[{\"field\":"
            "\"routing.businessUnitId\",\"operator\":\"equals\",\"value\":\"bu-%d\"},"
            "{\"field\":\"routing.channel\",\"operator\":\"in\",\"value\":[\"sms\","
            "\"mms\"]}],\"actions\":[{\"type\":\"route_to_queue\",\"queueId\":\"bu-%d\"}]}",
            b, b + 2, b);
    for (int k = 0; r < 99; k++, r++)
        PUT(",{\"id\":\"kw-%d\",\"priority\":%d,\"conditions\":[{\"field\":\"message.content\","
            "\"operator\":\"contains\",\"ignoreCase\":true,\"value\":\"product%d\"}],"
            "\"actions\":[{\"type\":"
            "\"route_to_agent\",\"agentId\":\"agent-%d\"}]}",
            k, 10 + k % 7, k, k);
    PUT(",{\"id\":\"vip\",\"priority\":100,\"conditions\":[{\"field\":\"identity.profile.tags\","
        "\"operator\":\"contains\",\"value\":\"vip\"}],\"actions\":[{\"type\":"
        "\"set_priority\",\"priority\":\"urgent\"},{\"type\":\"add_tag\",\"tag\":\"vip\"}]}]},"
        "\"templates\":{\"greeting\":{\"en\":\"Hi {{identity.profile.firstName}}, thanks for "
        "writing!\"},\"away\":{\"en\":\"We are closed; back at 8.\"},\"stop\":{\"en\":\"You are "
        "unsubscribed.\"},\"help\":{\"en\":\"Call 555-0100.\"}}}");
#undef PUT
    return s;
}

static const char *const texts[] = {
    "Hi, I was charged twice on my last invoice, can you help?",
    "Where is my order? It has not arrived yet.",
    "I want to cancel my subscription please",
    "The app keeps crashing when I open it",
    "Can I talk to a human agent?",
    "Do you have product12 in stock?",
    "Thanks, that worked!",
    "Hello there",
};

typedef struct mix {
    omni_engine *e;
    omni_preroute *p;
    char *events[MIX];
    size_t lens[MIX];
    size_t next;
    long seq;
    int failed;
    int plain_only;
} mix;

/* Kind of event i: 0-79 plain, 80-89 new conversation, 90-94 STOP, 95-97
 * HELP, 98-99 spam. */
static char *make_event(int i, long seq, size_t *len)
{
    const char *content = texts[i % 8];
    const char *status = "active";
    if (i >= 80 && i < 90)
        status = "new";
    else if (i >= 90 && i < 95)
        content = "STOP";
    else if (i >= 95 && i < 98)
        content = "help";
    else if (i >= 98)
        content = "FREE MONEY!!!! click bit.ly/win now";
    char *s = NULL;
    int n = asprintf(&s,
                     "{\"correlationId\":\"corr-%ld\",\"conversation\":{\"conversationId\":"
                     "\"conv-%ld\",\"status\":\"%s\",\"participants\":[]},\"messageState\":"
                     "{\"messageId\":\"msg-%ld\",\"sequenceNumber\":3,\"deliveryStatus\":"
                     "\"processing\"},\"routing\":{\"accountId\":\"acc-1\",\"businessUnitId\":"
                     "\"bu-1\",\"tenantId\":\"t-1\",\"conversationId\":\"conv-%ld\",\"customerId\":"
                     "\"cust-%ld\",\"channel\":\"%s\",\"assignedTo\":null,\"priority\":\"normal\"},"
                     "\"identity\":{\"customerId\":\"cust-%ld\",\"customerType\":\"known\","
                     "\"profile\":{\"firstName\":\"Ada\",\"tags\":[%s]},\"preferences\":"
                     "{\"language\":\"en\"}},\"message\":{\"id\":\"msg-%ld\",\"content\":\"%s\","
                     "\"contentType\":\"text\",\"mediaUrls\":[],\"timestamp\":"
                     "\"2026-03-09T15:00:00.000Z\",\"carrier\":\"twilio\"}}",
                     seq, seq, status, seq, seq, seq, channels[i % 4], seq,
                     i % 10 == 3 ? "\"vip\"" : i % 7 == 1 ? "\"tier-4\"" : "", seq, content);
    *len = n > 0 ? (size_t)n : 0;
    return s;
}

static void b_run(void *ctx, size_t iters)
{
    mix *m = ctx;
    for (size_t k = 0; k < iters; k++) {
        size_t i = m->next++ % MIX;
        if (m->plain_only)
            i %= 80;
        char *out = NULL;
        size_t n = 0;
        if (omni_preroute_run(&out, &n, m->e, m->p, m->events[i], m->lens[i]))
            m->failed = 1;
        bench_sink(out);
        omni_free(out);
    }
}

typedef struct an {
    omni_analyzer *a;
} an;

static void b_analyze(void *ctx, size_t iters)
{
    an *a = ctx;
    for (size_t k = 0; k < iters; k++) {
        const char *t = texts[k % 8];
        char *out = NULL;
        size_t n = 0;
        omni_analyze_text(&out, &n, a->a, t, strlen(t), "en", NULL);
        bench_sink(out);
        omni_free(out);
    }
}

int main(int argc, char **argv)
{
    bench_opts o = {0, 50.0, 7, NULL};
    if (bench_args(&o, argc, argv, "omni-bench-preroute", NULL, NULL))
        return 2;
    char *cfg = make_config();
    mix m;
    memset(&m, 0, sizeof(m));
    static const char ecfg[] = "{\"clock\":{\"fixed\":\"2026-03-09T15:00:00Z\"}}";
    if (!cfg || omni_preroute_compile(&m.p, cfg, strlen(cfg)) ||
        omni_engine_new(&m.e, ecfg, sizeof(ecfg) - 1, NULL)) {
        fprintf(stderr, "omni-bench-preroute: %s\n", omni_error_last_message());
        return 1;
    }
    free(cfg);
    /* each event of the mix keeps its conversation (the greeting is sent
     * once per window, later runs route); STOP customers stay opted out */
    for (int i = 0; i < MIX; i++)
        m.events[i] = make_event(i, i, &m.lens[i]);
    bench_run(&o, "preroute_mix_100_rules_memory", b_run, &m, NULL, NULL, NULL);
    m.plain_only = 1;
    bench_run(&o, "preroute_plain_100_rules_memory", b_run, &m, NULL, NULL, NULL);
    an a = {NULL};
    if (omni_analyzer_compile(&a.a, NULL, 0) == OMNI_OK)
        bench_run(&o, "preroute_analyzer_share", b_analyze, &a, NULL, NULL, NULL);
    omni_analyzer_free(a.a);
    int status = m.failed ? 1 : 0;
    if (m.failed)
        fprintf(stderr, "omni-bench-preroute: a run failed: %s\n", omni_error_last_message());
    for (int i = 0; i < MIX; i++)
        free(m.events[i]);
    omni_engine_free(m.e);
    omni_preroute_free(m.p);
    return status;
}
