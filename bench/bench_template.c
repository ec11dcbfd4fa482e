/* Template benchmark: renders the templates of bench/data/templates.json
 * (an SMS with 4 variables; an HTML email with #each over 10 order lines,
 * #if/else, escaped user input and a partial; a WhatsApp message with 3
 * parameters) with libomni — from parsed data (omni_template_render_data)
 * and from JSON text (omni_template_render) — and with handlebars.js
 * (bench/handlebars_peer.js, started by this program: compiled once, then
 * rendered with parsed data). Prints one JSON line per measurement:
 * {"name","ops_per_sec","ns_per_op","cpu_ns_per_op","allocs_per_op","peer",
 *  "peer_ns_per_op","peer_cpu_ns_per_op","ratio","cpu_ratio"}
 * with medians of timed batches; ratio = peer ns / libomni ns (wall clock),
 * cpu_ratio the same with CPU time (steadier on a busy machine).
 * allocs_per_op counts malloc/calloc/realloc calls per render. Timings are
 * never asserted.
 *
 * usage: omni-bench-template [--smoke] [--filter NAME] [--batches N] [--no-peer]
 * Environment: OMNI_BENCH_DATA (templates.json), OMNI_HANDLEBARS_CACHE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <omni/omni.h>

#include "bench.h"
#include "lib/core/buf.h"

#ifndef OMNI_BENCH_SOURCE_DIR
#define OMNI_BENCH_SOURCE_DIR "bench"
#endif
#ifndef OMNI_BENCH_CACHE_DIR
#define OMNI_BENCH_CACHE_DIR "/tmp/omni-handlebars-4.7.8"
#endif

/* ---- counting allocations (this process only; glibc) ---------------------- */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static unsigned long long alloc_count;

void *malloc(size_t n)
{
    alloc_count++;
    return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
    alloc_count++;
    return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
    alloc_count++;
    return __libc_realloc(p, n);
}

void free(void *p)
{
    __libc_free(p);
}

/* ---- cases ----------------------------------------------------------------- */

typedef struct tcase {
    char name[64];
    omni_template *t;
    omni_data *data;
    char *json;
    size_t json_len;
    double peer_ns, peer_cpu_ns;
} tcase;

static void b_parsed(void *ctx, size_t n)
{
    tcase *c = ctx;
    for (size_t i = 0; i < n; i++) {
        char *out;
        size_t len;
        if (omni_template_render_data(&out, &len, c->t, c->data) == OMNI_OK) {
            bench_sink(out);
            omni_free(out);
        }
    }
}

static void b_json(void *ctx, size_t n)
{
    tcase *c = ctx;
    for (size_t i = 0; i < n; i++) {
        char *out;
        size_t len;
        if (omni_template_render(&out, &len, c->t, c->json, c->json_len) == OMNI_OK) {
            bench_sink(out);
            omni_free(out);
        }
    }
}

static int load_cases(const char *path, tcase *cases, size_t cap, size_t *count)
{
    size_t len;
    char *text = bench_read_file(path, &len);
    omni_data *spec;
    if (!text || omni_data_parse(&spec, text, len)) {
        fprintf(stderr, "cannot read %s: %s\n", path, text ? omni_error_last_message() : "");
        free(text);
        return -1;
    }
    free(text);
    const omni_value *list = omni_value_get(omni_data_root(spec), "templates");
    *count = 0;
    for (size_t i = 0; i < omni_value_count(list) && *count < cap; i++) {
        const omni_value *tv = omni_value_at(list, i);
        tcase *c = &cases[(*count)++];
        memset(c, 0, sizeof(*c));
        const char *nm = omni_value_string(omni_value_get(tv, "name"), NULL);
        snprintf(c->name, sizeof(c->name), "%s", nm ? nm : "?");
        /* options: the case's options plus its partials */
        omni_buf o = OMNI_BUF_INIT;
        omni__buf_putc(&o, '{');
        const omni_value *opts = omni_value_get(tv, "options");
        for (size_t k = 0; k < omni_value_count(opts); k++) {
            char *vj;
            size_t vn;
            if (omni_value_json(&vj, &vn, omni_value_at(opts, k)))
                return -1;
            omni__buf_printf(&o, "%s\"%s\":%s", k ? "," : "", omni_value_key(opts, k), vj);
            omni_free(vj);
        }
        const omni_value *parts = omni_value_get(tv, "partials");
        if (parts) {
            char *pj;
            size_t pn;
            if (omni_value_json(&pj, &pn, parts))
                return -1;
            omni__buf_printf(&o, "%s\"partials\":%s", omni_value_count(opts) ? "," : "", pj);
            omni_free(pj);
        }
        omni__buf_putc(&o, '}');
        size_t tlen;
        const char *src = omni_value_string(omni_value_get(tv, "template"), &tlen);
        if (omni_template_compile(&c->t, src, tlen, o.data, o.len, NULL) ||
            omni_value_json(&c->json, &c->json_len, omni_value_get(tv, "data")) ||
            omni_data_parse(&c->data, c->json, c->json_len)) {
            fprintf(stderr, "%s: %s\n", c->name, omni_error_last_message());
            omni__buf_free(&o);
            return -1;
        }
        omni__buf_free(&o);
    }
    omni_data_free(spec);
    return 0;
}

/* Runs the handlebars.js peer and records its median ns per template. */
static void run_peer(const char *data_path, tcase *cases, size_t count, int smoke, int batches)
{
    const char *cache = getenv("OMNI_HANDLEBARS_CACHE");
    if (!cache || !*cache)
        cache = OMNI_BENCH_CACHE_DIR;
    char cmd[8192];
    snprintf(cmd, sizeof(cmd), "node '%s/handlebars_peer.js' '%s' '%s' --batches %d%s 2>&1",
             OMNI_BENCH_SOURCE_DIR, data_path, cache, batches > 0 ? batches : 7,
             smoke ? " --smoke" : "");
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    char line[4096];
    while (fgets(line, sizeof(line), p)) {
        omni_data *d;
        if (omni_data_parse(&d, line, strcspn(line, "\n")))
            continue;
        const omni_value *r = omni_data_root(d);
        const char *name = omni_value_string(omni_value_get(r, "name"), NULL);
        const omni_value *ns = omni_value_get(r, "ns_per_op");
        const omni_value *cpu = omni_value_get(r, "cpu_ns_per_op");
        for (size_t i = 0; name && i < count; i++)
            if (strcmp(cases[i].name, name) == 0 && omni_value_type(ns) == OMNI_VALUE_NUMBER) {
                cases[i].peer_ns = omni_value_number(ns);
                cases[i].peer_cpu_ns = omni_value_number(cpu);
            }
        const char *err = omni_value_string(omni_value_get(r, "error"), NULL);
        if (err)
            fprintf(stderr, "handlebars peer: %s\n", err);
        omni_data_free(d);
    }
    pclose(p);
}

static void report(const bench_opts *o, const char *name, bench_fn fn, tcase *c)
{
    if (o->filter && !strstr(name, o->filter))
        return;
    double ns = 0, cpu = 0;
    bench_measure_cpu(o, fn, c, &ns, &cpu);
    unsigned long long before = alloc_count;
    fn(c, 100);
    double allocs = (double)(alloc_count - before) / 100.0;
    printf("{\"name\":\"%s\",\"ops_per_sec\":%.0f,\"ns_per_op\":%.1f,\"cpu_ns_per_op\":%.1f,"
           "\"allocs_per_op\":%.2f",
           name, ns > 0 ? 1e9 / ns : 0, ns, cpu, allocs);
    if (c->peer_ns > 0) {
        printf(",\"peer\":\"handlebars.js 4.7.8 (compiled, parsed data)\",\"peer_ns_per_op\":%.1f,"
               "\"peer_cpu_ns_per_op\":%.1f,\"ratio\":%.2f",
               c->peer_ns, c->peer_cpu_ns, ns > 0 ? c->peer_ns / ns : 0);
        if (cpu > 0 && c->peer_cpu_ns > 0)
            printf(",\"cpu_ratio\":%.2f", c->peer_cpu_ns / cpu);
    }
    printf("%s}\n", o->smoke ? ",\"smoke\":true" : "");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    bench_opts o = {0, 200.0, 7, NULL};
    int no_peer = 0;
    if (bench_args(&o, argc, argv, "omni-bench-template", "--no-peer", &no_peer))
        return 2;
    const char *data_path = getenv("OMNI_BENCH_DATA");
    char def[4096];
    if (!data_path || !*data_path) {
        snprintf(def, sizeof(def), "%s/data/templates.json", OMNI_BENCH_SOURCE_DIR);
        data_path = def;
    }
    tcase cases[8];
    size_t count = 0;
    if (load_cases(data_path, cases, 8, &count))
        return 1;
    if (!no_peer && system("command -v node >/dev/null 2>&1") == 0)
        run_peer(data_path, cases, count, o.smoke, o.batches);
    for (size_t i = 0; i < count; i++) {
        char name[96];
        snprintf(name, sizeof(name), "template_%.60s_parsed", cases[i].name);
        report(&o, name, b_parsed, &cases[i]);
        snprintf(name, sizeof(name), "template_%.60s_json", cases[i].name);
        report(&o, name, b_json, &cases[i]);
    }
    for (size_t i = 0; i < count; i++) {
        omni_template_free(cases[i].t);
        omni_data_free(cases[i].data);
        omni_free(cases[i].json);
    }
    return 0;
}
