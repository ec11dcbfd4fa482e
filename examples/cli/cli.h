/* The omni command-line tool: shared conventions for every subcommand.
 *
 *  - input JSON (or bytes) from a FILE argument, or stdin when none ("-" too);
 *  - the result on stdout: JSON, or one line for scalar results (a UUID, a token);
 *  - errors on stderr as one JSON object {"code","message","retryable"};
 *  - exit 0 ok, 2 invalid input or usage, 1 any other failure;
 *  - --now RFC3339 and --seed N (anywhere on the line) pin the clock and
 *    random hooks so any run can be reproduced. */
#ifndef OMNI_CLI_H
#define OMNI_CLI_H

#include <stddef.h>
#include <stdio.h>

#include <omni/omni.h>

#define CLI_MAX_INPUT (64u * 1024u * 1024u)

typedef struct cli {
    const char *now;  /* --now value or NULL */
    const char *seed; /* --seed value or NULL */
    omni_engine *engine;
} cli;

typedef struct cli_command {
    const char *name;
    int (*run)(cli *c, int argc, char **argv); /* argv[0] is the command name */
    const char *summary;
    const char *usage; /* full help text */
} cli_command;

/* Exit codes. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Prints the last libomni error as JSON on stderr and returns the exit code
 * for `status` (2 for invalid input, 1 otherwise). */
int cli_fail(int status);
/* Prints a usage error (code INVALID_ARGUMENT) and returns 2. */
int cli_usage_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* Exit code for a status. */
int cli_exit_code(int status);

/* Reads a whole file (NULL or "-" for stdin), at most `max` bytes. Returns
 * 0 and a malloc'd NUL-terminated buffer, or prints an error and returns
 * the exit code. */
int cli_read_input(const char *path, size_t max, char **out, size_t *out_len);

/* The engine for this run (built once from --now / --seed). Returns 0, or
 * the exit code after printing an error. */
int cli_engine(cli *c, omni_engine **out);
/* The same over a store opened by URI (the engine's "storage"); NULL: the
 * default store. */
int cli_engine_store(cli *c, const char *store_uri, omni_engine **out);

/* True when argv has -h or --help. */
int cli_wants_help(int argc, char **argv);
/* Option parsing: if argv[*i] is `name` (takes a value: "--x V" or "--x=V"),
 * stores the value, advances *i and returns 1; 0 when it is another
 * argument; -1 (after printing a usage error) when the value is missing. */
int cli_opt(int argc, char **argv, int *i, const char *name, const char **value);
/* Prints text plus newline to stdout. */
void cli_print_line(const char *text, size_t len);
/* Prints a JSON document (from the library) plus newline. */
void cli_print_json(const char *json, size_t len);

/* A non-negative decimal integer option (at most 2^53 - 1); a usage error
 * naming `name` otherwise. */
int cli_uint_opt(const char *name, const char *text, unsigned long long *out);
/* Prints a library result (or the error for st != 0), releases it and
 * returns the exit code. */
int cli_print_result(int st, char *out, size_t len);

/* ---- the delivery engine of `outbound send|tick|get|dlq` and `push send`
 * (cli_delivery.c). CONFIG: {"outbound"?: providers (omni/outbound.h), "push"?:
 * push platforms (omni/push.h), "delivery"?: the delivery engine's
 * configuration, "transport"?: libcurl options}; outbound or push is
 * required. Functions return 0 or the exit code after printing the error. */
struct cJSON;
typedef struct cli_delivery {
    omni_engine *engine;
    omni_outbound *ob;
    omni_push *push; /* NULL without "push" */
    omni_delivery *d;
} cli_delivery;
/* CONFIG (a file, or stdin for NULL / "-") as a JSON object. */
int cli_config_read(const char *path, struct cJSON **out);
/* Checks the form above; *ob_cfg is its "outbound" member or NULL. */
int cli_config_form(const struct cJSON *doc, const struct cJSON **ob_cfg);
/* A compact JSON text of doc (free()). */
int cli_json_text(const struct cJSON *doc, char **out);
int cli_outbound_load(const struct cJSON *cfg, omni_outbound **ob);
/* Opens everything over the store URI (NULL: "memory:"). */
int cli_delivery_open(cli *c, const char *config, const char *store, cli_delivery *x);
void cli_delivery_close(cli_delivery *x);

extern const cli_command cli_commands[];

/* Subcommands. */
int cmd_version(cli *c, int argc, char **argv);
int cmd_uuid5(cli *c, int argc, char **argv);
int cmd_uuid7(cli *c, int argc, char **argv);
int cmd_base64url(cli *c, int argc, char **argv);
int cmd_jwt(cli *c, int argc, char **argv);
int cmd_render(cli *c, int argc, char **argv);
int cmd_sms_segments(cli *c, int argc, char **argv);
int cmd_template(cli *c, int argc, char **argv);
int cmd_phone(cli *c, int argc, char **argv);
int cmd_identity(cli *c, int argc, char **argv);
int cmd_conversation(cli *c, int argc, char **argv);
int cmd_rules(cli *c, int argc, char **argv);
int cmd_analyze(cli *c, int argc, char **argv);
int cmd_preroute(cli *c, int argc, char **argv);
int cmd_aws(cli *c, int argc, char **argv);
int cmd_outbound(cli *c, int argc, char **argv);
int cmd_webhook(cli *c, int argc, char **argv);
int cmd_webpush(cli *c, int argc, char **argv);
int cmd_devices(cli *c, int argc, char **argv);
int cmd_push(cli *c, int argc, char **argv);
int cmd_config(cli *c, int argc, char **argv);
int cmd_notify(cli *c, int argc, char **argv);
extern const char cmd_phone_summary[], cmd_phone_usage[];
extern const char cmd_identity_summary[], cmd_identity_usage[];
extern const char cmd_conversation_summary[], cmd_conversation_usage[];
extern const char cmd_rules_summary[], cmd_rules_usage[];
extern const char cmd_analyze_summary[], cmd_analyze_usage[];
extern const char cmd_preroute_summary[], cmd_preroute_usage[];
extern const char cmd_aws_summary[], cmd_aws_usage[];
extern const char cmd_outbound_summary[], cmd_outbound_usage[];
extern const char cmd_webhook_summary[], cmd_webhook_usage[];
extern const char cmd_webpush_summary[], cmd_webpush_usage[];
extern const char cmd_devices_summary[], cmd_devices_usage[];
extern const char cmd_push_summary[], cmd_push_usage[];
extern const char cmd_notify_summary[], cmd_notify_usage[];
extern const char cmd_config_summary[], cmd_config_usage[];

#endif
