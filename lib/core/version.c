/* Version and limits. */
#include <omni/omni.h>

const char *omni_version(void)
{
    return OMNI_VERSION_STRING;
}

int omni_version_number(void)
{
    return OMNI_VERSION_MAJOR * 10000 + OMNI_VERSION_MINOR * 100 + OMNI_VERSION_PATCH;
}

uint64_t omni_limit(int id)
{
    switch (id) {
    case OMNI_LIMIT_ID_JSON_BYTES: return OMNI_LIMIT_JSON_BYTES;
    case OMNI_LIMIT_ID_JSON_DEPTH: return OMNI_LIMIT_JSON_DEPTH;
    case OMNI_LIMIT_ID_CONFIG_BYTES: return OMNI_LIMIT_CONFIG_BYTES;
    case OMNI_LIMIT_ID_STORE_NS: return OMNI_STORE_MAX_NS;
    case OMNI_LIMIT_ID_STORE_KEY: return OMNI_STORE_MAX_KEY;
    case OMNI_LIMIT_ID_STORE_VALUE: return OMNI_STORE_MAX_VALUE;
    case OMNI_LIMIT_ID_HTTP_BODY: return OMNI_HTTP_MAX_BODY;
    case OMNI_LIMIT_ID_HTTP_HEADERS: return OMNI_HTTP_MAX_HEADERS;
    case OMNI_LIMIT_ID_JWT_BYTES: return OMNI_JWT_MAX_BYTES;
    case OMNI_LIMIT_ID_CODEC_BYTES: return OMNI_CODEC_MAX_INPUT;
    default: return 0;
    }
}
