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

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    omni_buf b = OMNI_BUF_INIT;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        omni__buf_append(&b, chunk, n);
    fclose(f);
    *len = b.len;
    return b.data;
}

static int load_cases(const char *path, tcase *cases, size_t cap, size_t *count)
{
    size_t len;
    char *text = read_all(path, &len);
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

static double clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Medians of wall-clock and CPU time per operation over timed batches
 * (bench.h's method, with the CPU time of this process measured as well:
 * on a loaded machine it is the steadier figure). */
static void measure(const bench_opts *o, bench_fn fn, void *ctx, double *wall, double *cpu)
{
    size_t iters = 1;
    double target = (o->smoke ? 2.0 : o->batch_ms) * 1e6;
    for (;;) {
        double t0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
        fn(ctx, iters);
        double dt = clock_ns(CLOCK_MONOTONIC) - t0, dc = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
        if (o->smoke) {
            *wall = dt / (double)iters;
            *cpu = dc / (double)iters;
            return;
        }
        if (dt >= target || iters >= (1u << 30))
            break;
        size_t next = dt > 0 ? (size_t)((double)iters * target / dt * 1.1) : iters * 10;
        iters = next > iters * 10 ? iters * 10 : (next > iters ? next : iters * 2);
    }
    int n = o->batches > 0 && o->batches <= 101 ? o->batches : 7;
    double ws[101], cs[101];
    for (int i = 0; i < n; i++) {
        double t0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
        fn(ctx, iters);
        ws[i] = (clock_ns(CLOCK_MONOTONIC) - t0) / (double)iters;
        cs[i] = (clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0) / (double)iters;
    }
    qsort(ws, (size_t)n, sizeof(double), cmp_double);
    qsort(cs, (size_t)n, sizeof(double), cmp_double);
    *wall = ws[n / 2];
    *cpu = cs[n / 2];
}

static void report(const bench_opts *o, const char *name, bench_fn fn, tcase *c)
{
    if (o->filter && !strstr(name, o->filter))
        return;
    double ns = 0, cpu = 0;
    measure(o, fn, c, &ns, &cpu);
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
