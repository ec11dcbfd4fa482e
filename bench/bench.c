/* The benchmark harness (see bench.h). */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile uintptr_t sink_value;

void bench_sink(const void *p)
{
    sink_value ^= (uintptr_t)p;
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

void bench_measure_cpu(const bench_opts *o, bench_fn fn, void *ctx, double *wall_ns,
                       double *cpu_ns)
{
    /* calibrate: grow the iteration count until a batch takes batch_ms */
    size_t iters = 1;
    double target = (o->smoke ? 2.0 : o->batch_ms) * 1e6;
    for (;;) {
        double t0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
        fn(ctx, iters);
        double dt = clock_ns(CLOCK_MONOTONIC) - t0, dc = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
        if (o->smoke && (dt >= target || iters >= (1u << 20))) {
            *wall_ns = dt / (double)iters;
            *cpu_ns = dc / (double)iters;
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
    *wall_ns = ws[n / 2];
    *cpu_ns = cs[n / 2];
}

double bench_measure(const bench_opts *o, bench_fn fn, void *ctx)
{
    double wall = 0, cpu = 0;
    bench_measure_cpu(o, fn, ctx, &wall, &cpu);
    return wall;
}

char *bench_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0, got;
    char *data = malloc(cap + 1);
    while (data && (got = fread(data + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *bigger = realloc(data, cap * 2 + 1);
            if (!bigger) {
                free(data);
                data = NULL;
                break;
            }
            data = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (!data)
        return NULL;
    data[n] = '\0';
    *len = n;
    return data;
}

void bench_run(const bench_opts *o, const char *name, bench_fn fn, void *ctx,
               const char *peer_name, bench_fn peer_fn, void *peer_ctx)
{
    if (o->filter && !strstr(name, o->filter))
        return;
    double ns = bench_measure(o, fn, ctx);
    printf("{\"name\":\"%s\",\"ops_per_sec\":%.0f,\"ns_per_op\":%.1f", name, 1e9 / ns, ns);
    if (peer_fn) {
        double peer_ns = bench_measure(o, peer_fn, peer_ctx);
        printf(",\"peer\":\"%s\",\"peer_ns_per_op\":%.1f,\"ratio\":%.2f", peer_name, peer_ns,
               peer_ns / ns);
    }
    printf("%s}\n", o->smoke ? ",\"smoke\":true" : "");
    fflush(stdout);
}

int bench_args(bench_opts *o, int argc, char **argv, const char *prog, const char *flag,
               int *flag_set)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--smoke") == 0) {
            o->smoke = 1;
        } else if (flag && strcmp(argv[i], flag) == 0) {
            *flag_set = 1;
        } else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc) {
            o->filter = argv[++i];
        } else if (strcmp(argv[i], "--batches") == 0 && i + 1 < argc) {
            o->batches = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: %s [--smoke] [--filter NAME] [--batches N]%s%s%s\n", prog,
                    flag ? " [" : "", flag ? flag : "", flag ? "]" : "");
            return 2;
        }
    }
    return 0;
}
