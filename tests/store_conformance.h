/* The storage conformance suite: one set of tests, written against the
 * public omni_store API, that every backend must pass.
 *
 * In a test file:
 *     static int open_memory(omni_store **out) { return omni_store_open(out, "memory:"); }
 *     STORE_CONFORMANCE_TESTS(store_memory, open_memory)
 * expands to one criterion Test() per case; each opens a fresh store with
 * the given function and frees it at the end. */
#ifndef OMNI_TESTS_STORE_CONFORMANCE_H
#define OMNI_TESTS_STORE_CONFORMANCE_H

#include <criterion/criterion.h>

#include <omni/omni.h>

typedef int (*sc_open_fn)(omni_store **out);

#define SC_CASES(X, suite, open_fn)                                                            \
    X(suite, open_fn, get_missing)                                                             \
    X(suite, open_fn, create_only_twice)                                                       \
    X(suite, open_fn, cas_right_version)                                                       \
    X(suite, open_fn, cas_wrong_version)                                                       \
    X(suite, open_fn, cas_absent)                                                              \
    X(suite, open_fn, any_version_upsert)                                                      \
    X(suite, open_fn, version_sequence)                                                        \
    X(suite, open_fn, delete_right_version)                                                    \
    X(suite, open_fn, delete_wrong_version)                                                    \
    X(suite, open_fn, delete_missing)                                                          \
    X(suite, open_fn, ttl_visibility)                                                          \
    X(suite, open_fn, ttl_create_over_expired)                                                 \
    X(suite, open_fn, ttl_other_ops_on_expired)                                                \
    X(suite, open_fn, ttl_change_expiry)                                                       \
    X(suite, open_fn, list_prefix)                                                             \
    X(suite, open_fn, list_bytewise_order)                                                     \
    X(suite, open_fn, list_pagination)                                                         \
    X(suite, open_fn, list_limit_edges)                                                        \
    X(suite, open_fn, list_after_key)                                                          \
    X(suite, open_fn, list_skips_expired)                                                      \
    X(suite, open_fn, list_early_stop)                                                         \
    X(suite, open_fn, list_many_keys)                                                          \
    X(suite, open_fn, list_callback_reenters)                                                  \
    X(suite, open_fn, many_namespaces)                                                         \
    X(suite, open_fn, namespaces_isolated)                                                     \
    X(suite, open_fn, invalid_namespace)                                                       \
    X(suite, open_fn, invalid_key)                                                             \
    X(suite, open_fn, invalid_value)                                                           \
    X(suite, open_fn, invalid_version_expiry_now)                                              \
    X(suite, open_fn, invalid_list_args)                                                       \
    X(suite, open_fn, invalid_null_args)                                                       \
    X(suite, open_fn, value_escapes)                                                           \
    X(suite, open_fn, value_size_limit)                                                        \
    X(suite, open_fn, values_are_copies)                                                       \
    X(suite, open_fn, optional_outputs)                                                        \
    X(suite, open_fn, list_json_shape)                                                         \
    X(suite, open_fn, list_json_pages)                                                         \
    X(suite, open_fn, concurrent_cas)                                                          \
    X(suite, open_fn, batch_all_or_nothing)                                                    \
    X(suite, open_fn, batch_invalid)

#define SC_DECLARE(suite, open_fn, name) void sc_##name(sc_open_fn open);
SC_CASES(SC_DECLARE, _, _)
#undef SC_DECLARE

#define SC_DEFINE_TEST(suite, open_fn, name)                                                   \
    Test(suite, name)                                                                          \
    {                                                                                          \
        sc_##name(open_fn);                                                                    \
    }

#define STORE_CONFORMANCE_TESTS(suite, open_fn) SC_CASES(SC_DEFINE_TEST, suite, open_fn)

#endif
