/* A small benchmark harness: runs a body in timed batches, reports the
 * median batch as one JSON line {name, ops_per_sec, ns_per_op, ...}, and the
 * ratio against a peer measured in the same run when there is one.
 * Timings are reported, never asserted. */
#ifndef OMNI_BENCH_H
#define OMNI_BENCH_H

#include <stddef.h>
#include <stdint.h>

typedef void (*bench_fn)(void *ctx, size_t iterations);

typedef struct bench_opts {
    int smoke;         /* one short batch: checks that everything runs */
    double batch_ms;   /* target time per batch */
    int batches;       /* median of this many */
    const char *filter; /* only names containing this */
} bench_opts;

/* Measures fn and returns the median wall-clock ns per operation. */
double bench_measure(const bench_opts *o, bench_fn fn, void *ctx);

/* The same, with the median CPU time of the process per operation as well
 * (the steadier figure on a busy machine). */
void bench_measure_cpu(const bench_opts *o, bench_fn fn, void *ctx, double *wall_ns,
                       double *cpu_ns);

/* A whole file, NUL-terminated, released with free(); NULL when it cannot
 * be read. */
char *bench_read_file(const char *path, size_t *len);

/* Measures ours (and the peer, when given) and prints one JSON line:
 * {"name","ops_per_sec","ns_per_op"[,"peer","peer_ns_per_op","ratio"]}
 * where ratio = peer ns/op divided by ours (above 1: libomni is faster). */
void bench_run(const bench_opts *o, const char *name, bench_fn fn, void *ctx,
               const char *peer_name, bench_fn peer_fn, void *peer_ctx);

/* Reads the options every benchmark takes: --smoke, --filter NAME,
 * --batches N, and `flag` (may be NULL; *flag_set becomes 1 when given).
 * Returns 0, or 2 after printing the usage of `prog` to stderr. */
int bench_args(bench_opts *o, int argc, char **argv, const char *prog, const char *flag,
               int *flag_set);

/* Keeps the optimizer from deleting work. */
void bench_sink(const void *p);

#endif
