/* Built against the installed libomni through pkg-config by check_install.sh. */
#include <omni/omni.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    omni_engine *engine;
    const char *cfg = "{\"clock\":{\"fixed\":\"2026-01-01T00:00:00Z\"}}";
    if (omni_engine_new(&engine, cfg, strlen(cfg), NULL) != OMNI_OK) {
        fprintf(stderr, "%s\n", omni_error_last()->message);
        return 1;
    }
    char id[OMNI_UUID_STRLEN];
    int ok = omni_uuid7(id, engine) == OMNI_OK && strncmp(id, "019b76da-", 9) == 0 &&
             omni_engine_now_ms(engine) == 1767225600000LL;
    omni_engine_free(engine);
    printf("libomni %s %s\n", omni_version(), ok ? "ok" : "wrong");
    return ok ? 0 : 1;
}
