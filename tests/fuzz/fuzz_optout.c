/* Fuzz target: opt-out keyword classification (lib/rules/optout.h). The
 * input is a message text classified with the built-in lists, with the
 * "hi" and "kn" locales and with a malformed locale; when it starts with
 * '{' it is also compiled as a keyword configuration, and a few fixed
 * texts and the input are classified with the result. Invariants: a class
 * is 0..3; surrounding whitespace and punctuation change nothing; for
 * ASCII input the upper-cased text has the same class; a rejected
 * configuration leaves *out NULL with a message. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/rules/optout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const locales[] = {NULL, "hi", "kn", "fr-CA", "x"};

static void check(const omni__optout *o, const uint8_t *data, size_t size)
{
    /* pad: " " text " .!?"; upper: the text upper-cased */
    char *pad = malloc(size + 5), *upper = malloc(size + 1);
    if (!pad || !upper) {
        free(pad);
        free(upper);
        return;
    }
    int ascii = 1;
    for (size_t i = 0; i < size; i++) {
        ascii &= data[i] < 0x80;
        upper[i] = data[i] < 0x80 ? (char)toupper(data[i]) : (char)data[i];
    }
    pad[0] = ' ';
    if (size)
        memcpy(pad + 1, data, size);
    memcpy(pad + size + 1, " .!?", 4);
    for (size_t l = 0; l < sizeof(locales) / sizeof(locales[0]); l++) {
        int c = omni__optout_classify(o, (const char *)data, size, locales[l]);
        if (c < OMNI__OPTOUT_NONE || c > OMNI__OPTOUT_HELP)
            abort();
        if (omni__optout_classify(o, pad, size + 5, locales[l]) != c)
            abort();
        if (ascii && omni__optout_classify(o, upper, size, locales[l]) != c)
            abort();
    }
    free(pad);
    free(upper);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(NULL, data, size);
    if (size > 0 && data[0] == '{') {
        omni__optout *o = (omni__optout *)1;
        int rc = omni__optout_compile(&o, (const char *)data, size);
        if (rc != OMNI_OK) {
            if (o || omni_error_last_message()[0] == '\0')
                abort();
            if (rc != OMNI_EINVAL && rc != OMNI_EJSON && rc != OMNI_ETOOLARGE &&
                rc != OMNI_ETOODEEP && rc != OMNI_ENOMEM)
                abort();
            return 0;
        }
        static const char *const texts[] = {"STOP", "stop please", "Please stop texting me",
                                            "start", "HELP", "Don't stop", "रोकें",
                                            "ದಯವಿಟ್ಟು ನಿಲ್ಲಿಸಿ", "Arrête", ""};
        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
            check(o, (const uint8_t *)texts[i], strlen(texts[i]));
        check(o, data, size);
        omni__optout_free(o);
    }
    return 0;
}
