/* The linear-time regex engine (lib/rules/regex.c): every supported construct,
 * every refused construct (the message names the offset), the limits, case
 * folding, UTF-8 and ill-formed text, patterns that make backtracking
 * engines explode, concurrent searches, and a differential corpus whose
 * expected values come from Python's re (tests/data/regex/generate.py). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "test_files.h"

#include "lib/core/buf.h"
#include "lib/core/json.h"
#include "lib/rules/regex.h"

/* ---- helpers ------------------------------------------------------------ */

static omni__regex *compile_n(const char *pat, size_t len, unsigned flags)
{
    omni__regex *re = (omni__regex *)1;
    int rc = omni__regex_compile(&re, pat, len, flags);
    cr_assert_eq(rc, OMNI_OK, "compile \"%s\": %d %s", pat, rc, omni_error_last_message());
    cr_assert_not_null(re);
    return re;
}

static int search_n(const char *pat, size_t plen, unsigned flags, const char *text, size_t tlen)
{
    omni__regex *re = compile_n(pat, plen, flags);
    int r = omni__regex_search(re, text, tlen);
    cr_assert(r == 0 || r == 1, "search \"%s\": %d", pat, r);
    omni__regex_free(re);
    return r;
}

static int m(const char *pat, const char *text)
{
    return search_n(pat, strlen(pat), 0, text, strlen(text));
}

static int mi(const char *pat, const char *text)
{
    return search_n(pat, strlen(pat), OMNI__REGEX_ICASE, text, strlen(text));
}

#define YES(p, t) cr_assert_eq(m(p, t), 1, "/%s/ should match \"%s\"", p, t)
#define NO(p, t) cr_assert_eq(m(p, t), 0, "/%s/ should not match \"%s\"", p, t)
#define IYES(p, t) cr_assert_eq(mi(p, t), 1, "/%s/i should match \"%s\"", p, t)
#define INO(p, t) cr_assert_eq(mi(p, t), 0, "/%s/i should not match \"%s\"", p, t)

static void refuse_n(const char *pat, size_t len, unsigned flags, int status, const char *needle)
{
    omni__regex *re = (omni__regex *)1;
    omni_error_clear();
    int rc = omni__regex_compile(&re, pat, len, flags);
    cr_assert_eq(rc, status, "compile \"%s\": got %d (%s), want %d", pat, rc,
                 omni_error_last_message(), status);
    cr_assert_null(re, "\"%s\": out must be NULL on error", pat);
    cr_assert_eq(omni_error_last_status(), status);
    if (needle)
        cr_assert(strstr(omni_error_last_message(), needle) != NULL,
                  "\"%s\": message \"%s\" lacks \"%s\"", pat, omni_error_last_message(), needle);
}

static void refuse(const char *pat, int status, const char *needle)
{
    refuse_n(pat, strlen(pat), 0, status, needle);
}

static size_t prog_size(const char *pat)
{
    omni__regex *re = compile_n(pat, strlen(pat), 0);
    size_t n = omni__regex_program_size(re);
    omni__regex_free(re);
    return n;
}

/* ---- API ------------------------------------------------------------------- */

Test(regex_api, argument_errors)
{
    omni__regex *re = (omni__regex *)1;
    cr_assert_eq(omni__regex_compile(NULL, "a", 1, 0), OMNI_EINVAL);
    cr_assert_eq(omni__regex_compile(&re, NULL, 1, 0), OMNI_EINVAL);
    cr_assert_null(re);
    cr_assert(strstr(omni_error_last_message(), "pattern is NULL"));
    re = (omni__regex *)1;
    cr_assert_eq(omni__regex_compile(&re, "a", 1, 0x80), OMNI_EINVAL);
    cr_assert_null(re);
    cr_assert(strstr(omni_error_last_message(), "unknown flags"));

    /* a NULL pattern of length 0 is the empty pattern */
    cr_assert_eq(omni__regex_compile(&re, NULL, 0, 0), OMNI_OK);
    cr_assert_eq(omni__regex_search(re, NULL, 0), 1);
    cr_assert_eq(omni__regex_search(re, "x", 1), 1);
    cr_assert_eq(omni__regex_search(re, NULL, 5), OMNI_EINVAL);
    cr_assert(strstr(omni_error_last_message(), "text is NULL"));
    omni__regex_free(re);

    cr_assert_eq(omni__regex_search(NULL, "a", 1), OMNI_EINVAL);
    cr_assert(strstr(omni_error_last_message(), "regex is NULL"));
    omni__regex_free(NULL);
    cr_assert_eq(omni__regex_program_size(NULL), 0);
}

Test(regex_api, explicit_lengths_and_nul_bytes)
{
    /* the pattern and the text are not NUL-terminated strings */
    cr_assert_eq(search_n("abcdef", 3, 0, "xxabc", 5), 1);
    cr_assert_eq(search_n("abc", 3, 0, "abcdef", 2), 0);
    cr_assert_eq(search_n("a\0b", 3, 0, "xa\0b", 4), 1);
    cr_assert_eq(search_n("a\0b", 3, 0, "xa\0c", 4), 0);
    cr_assert_eq(search_n("^a.b$", 5, 0, "a\0b", 3), 1);
    cr_assert_eq(search_n("[\\x00-\\x01]", 11, 0, "\x01", 1), 1);
    cr_assert_eq(search_n("\\x00", 4, 0, "a\0", 2), 1);
    cr_assert_eq(search_n("\\x00", 4, 0, "a0", 2), 0);
}

Test(regex_api, empty_pattern_and_text)
{
    YES("", "");
    YES("", "abc");
    YES("^$", "");
    NO("^$", "a");
    YES("a*", "");
    YES("()", "");
    YES("(?:)", "");
    YES("|", "");
    YES("(?i)", "");
    NO("a", "");
    NO(".", "");
    NO("[^a]", "");
    YES("\\B", "");
    NO("\\b", "");
    cr_assert_eq(prog_size(""), 1); /* MATCH only */
}

/* ---- constructs -------------------------------------------------------------- */

Test(regex_construct, literals)
{
    YES("abc", "xxabcxx");
    NO("abc", "ab");
    NO("abc", "ABC");
    YES("]", "a]");
    YES("}", "{}");
    YES("a]b}", "a]b}");
    YES("日本語", "これは日本語です");
    NO("日本語", "日本");
    YES("😀", "hi 😀!");
    YES("héllo", "héllo");
    NO("héllo", "hello");
}

Test(regex_construct, dot)
{
    YES("a.c", "abc");
    NO("a.c", "ac");
    NO("a.c", "a\nc");
    YES("a.c", "a\rc");
    YES("^.$", "é");  /* one code point, two bytes */
    YES("^.$", "日"); /* three bytes */
    YES("^.$", "😀"); /* four bytes */
    NO("^.$", "ab");
    NO("^..$", "é"); /* not byte by byte */
    YES("^...$", "a😀b");
}

Test(regex_construct, classes)
{
    YES("[abc]", "xxc");
    NO("[abc]", "xyz");
    YES("^[a-z]+$", "hello");
    NO("^[a-z]+$", "Hello");
    YES("[^abc]", "abcd");
    NO("[^abc]", "cab");
    YES("[]a]", "]");
    YES("[^]a]", "b");
    NO("[^]a]", "]a");
    YES("[a-]", "-");
    YES("[-a]", "-");
    YES("[a-c-e]", "-");
    NO("[a-c-e]", "d");
    YES("[\\]]", "]");
    YES("[\\[]", "[");
    YES("[\\\\]", "\\");
    YES("[\\-]", "-");
    YES("[.]", ".");
    NO("[.]", "a");
    YES("[*+?{}()|^$]", "$");
    YES("[\\^]", "^");
    YES("[é-ü]", "ö");
    NO("[é-ü]", "e");
    NO("[é-ü]", "ÿ");
    YES("[日本]", "本");
    YES("[😀-😂]", "😁");
    NO("[😀-😂]", "😃");
    YES("[\\d]", "5");
    YES("[\\w.-]+@", "me.x-y@");
    YES("[\\s,]", ",");
    YES("[\\D]", "a");
    NO("[\\D]", "1");
    YES("[\\W]", "-");
    NO("[\\W]", "a");
    YES("[\\S]", " x");
    NO("[\\S]", " \t");
    NO("[^\\d\\s]", "1 2");
    YES("[^\\d\\s]", "1 x");
    YES("[\\t\\n\\r\\f\\v]", "\v");
    YES("[\\x41-\\x43]", "B");
    YES("[\\x{1F600}-\\x{1F602}]", "😁");
    YES("[a-a]", "a");
    YES("^[\\x{10FFFF}]$", "\xF4\x8F\xBF\xBF");
}

Test(regex_construct, escapes)
{
    YES("\\d", "a1");
    NO("\\d", "abc");
    NO("\\d", "٣"); /* ASCII only */
    YES("^\\D+$", "abc");
    NO("^\\D+$", "a1");
    YES("^\\w+$", "a_Z9");
    NO("\\w", "é!");
    YES("^\\W+$", "é!");
    YES("\\s", "a\tb");
    YES("\\s", "a\nb");
    YES("\\s", "a\vb");
    YES("\\s", "a\fb");
    YES("\\s", "a\rb");
    YES("\\s", "a b");
    NO("\\s", "a\xC2\xA0"
              "b"); /* NO-BREAK SPACE is not ASCII space */
    YES("^\\S+$", "é");
    YES("a\\.b", "a.b");
    NO("a\\.b", "axb");
    YES("\\\\", "\\");
    YES("^\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\.$", "*+?()[]{}|^$.");
    YES("a\\tb", "a\tb");
    YES("a\\nb", "a\nb");
    YES("a\\rb", "a\rb");
    YES("a\\fb", "a\fb");
    YES("a\\vb", "a\vb");
    YES("\\x41\\x62", "Ab");
    YES("\\xe9", "é"); /* the code point U+00E9, not the byte 0xE9 */
    NO("\\xe9", "\xE9");
    YES("\\x{e9}", "é");
    YES("\\x{65E5}", "日");
    YES("\\x{1F600}", "😀");
    YES("\\ \\#\\&\\~\\@\\%\\!\\:\\;\\<\\>\\=\\,\\'\\\"\\`\\/", " #&~@%!:;<>=,'\"`/");
}

Test(regex_construct, word_boundaries)
{
    YES("\\bcat\\b", "cat");
    YES("\\bcat\\b", "a cat!");
    NO("\\bcat\\b", "concat");
    NO("\\bcat\\b", "cats");
    NO("\\bcat\\b", "cat_");
    YES("\\bcat\\b", "écat"); /* é is not an (ASCII) word character */
    YES("\\Bcat", "concat");
    NO("\\Bcat", " cat");
    YES("cat\\B", "cats");
    NO("cat\\B", "cat");
    NO("\\b", "");
    NO("\\b", " ");
    YES("\\b", "a");
    YES("\\B", "");
    YES("\\B", "ab");
    YES("^\\b", "a");
    NO("^\\b", " a");
    YES("\\b$", "a");
    NO("\\b$", "a ");
    YES("\\b\\d+\\b", "room 42");
    NO("\\b\\d+\\b", "r42");
}

Test(regex_construct, anchors)
{
    YES("^abc", "abc");
    NO("^abc", "xabc");
    YES("abc$", "xabc");
    NO("abc$", "abcx");
    NO("abc$", "abc\n"); /* $ is the very end, not before a final newline */
    NO("^abc", "x\nabc"); /* no multiline mode */
    YES("^abc$", "abc");
    YES("^", "");
    YES("$", "");
    NO("a^b", "ab");
    NO("a$b", "ab");
    YES("(^a|b)c", "bc");
    YES("(^a|b)c", "ac");
    NO("(^a|b)c", "xac");
    YES("a(b$|c)", "acx");
    NO("a(b$|c)", "abx");
    YES("(?:^)+a", "a");
    YES("(^)*a", "ba");
    YES("(?:^a)+", "aa");
    NO("(?:^a)+", "ba");
    YES("^a|b", "xb"); /* not every branch anchored */
    NO("^a|^b", "xb");
}

Test(regex_construct, groups_and_alternation)
{
    YES("(abc)", "abc");
    YES("(?:ab)+", "abab");
    NO("^(?:ab)+$", "ababa");
    YES("cat|dog", "hotdog");
    NO("cat|dog", "cow");
    YES("^(cat|dog)s?$", "cats");
    NO("^(cat|dog)s?$", "dogss");
    YES("a|", "b");
    YES("|a", "b");
    YES("^(|a)$", "a");
    NO("^(|a)$", "aa");
    YES("a(b|c|d)e", "ade");
    YES("^(a|ab)(c|bcd)(d*)$", "abcd");
    YES("^(((((a)))))$", "a");
    YES("x(?:y|z(?:w|v))", "xzv");
    NO("x(?:y|z(?:w|v))", "xz");
}

Test(regex_construct, quantifiers)
{
    YES("ab*c", "ac");
    YES("ab*c", "abbbc");
    NO("ab+c", "ac");
    YES("ab+c", "abbc");
    YES("ab?c", "ac");
    NO("ab?c", "abbc");
    YES("^a{3}$", "aaa");
    NO("^a{3}$", "aaaa");
    NO("^a{2,}$", "a");
    YES("^a{2,}$", "aaaaaaa");
    YES("^a{2,4}$", "aaaa");
    NO("^a{2,4}$", "aaaaa");
    YES("^a{0}$", "");
    NO("^a{0}$", "a");
    YES("^a{0,0}b$", "b");
    YES("^a{0,}$", "aaaa");
    YES("^(?:ab){2,3}$", "ababab");
    NO("^(?:ab){2,3}$", "abababab");
    YES("^\\d{1,3}(?:\\.\\d{1,3}){3}$", "192.168.0.1");
    NO("^\\d{1,3}(?:\\.\\d{1,3}){3}$", "1.2.3");
    NO("^a{1000}$", "");
    /* lazy forms answer the same */
    YES("ab*?c", "abbc");
    YES("ab+?c", "abc");
    NO("ab+?c", "ac");
    YES("ab??c", "abc");
    YES("^a{2,3}?$", "aaa");
    NO("^a{2,3}?$", "aaaa");
    YES("^a{2,}?$", "aaaaa");
    YES("^a{2}?$", "aa");
    YES("^a*?$", "aaa");
    /* stacked quantifiers apply to the quantified expression */
    YES("^a{2}{3}$", "aaaaaa");
    NO("^a{2}{3}$", "aaaaa");
    YES("^a**$", "aaa");
    YES("^(?:a?)?$", "");
    YES("^a???$", "a");
    /* empty loops terminate */
    YES("^()*$", "");
    YES("^(?:)+$", "");
    YES("^(a*)*$", "aaa");
    NO("^(a*)*$", "aab");
    YES("^(a*)+b$", "aaab");
    YES("^(a|)*b", "aab");
}

Test(regex_construct, program_sizes)
{
    cr_assert_eq(prog_size("a"), 2);
    cr_assert_eq(prog_size("abc"), 4);
    cr_assert_eq(prog_size("a*"), 4);    /* SPLIT a JMP MATCH */
    cr_assert_eq(prog_size("a+"), 3);    /* a SPLIT MATCH */
    cr_assert_eq(prog_size("a?"), 3);    /* SPLIT a MATCH */
    cr_assert_eq(prog_size("a|b|c"), 8); /* 2 SPLIT, 2 JMP, 3 chars, MATCH */
    cr_assert_eq(prog_size("a{3}"), 4);
    cr_assert_eq(prog_size("a{2,4}"), 7);
    cr_assert_eq(prog_size("a{2,}"), 4);
    cr_assert_eq(prog_size("a{0}"), 1);
    cr_assert_eq(prog_size("a{1000}"), 1001);
    cr_assert_eq(prog_size("[a-z]"), 2);
    cr_assert_eq(prog_size("(?:a{10}){999}"), 9991);
}

/* ---- case folding ---------------------------------------------------------------- */

Test(regex_icase, ascii)
{
    IYES("abc", "ABC");
    IYES("AbC", "aBc");
    INO("abc", "abd");
    IYES("^[a-c]+$", "CAB");
    IYES("^[A-C]+$", "cab");
    INO("[^a]", "A"); /* folding before negation */
    INO("[^a]", "a");
    IYES("[^a]", "b");
    INO("[^a-z]", "Q");
    IYES("\\bhello\\b", "say HELLO!");
    IYES("a{3}", "aAa");
    IYES("x|Y", "y");
    /* the inline form is the same flag */
    YES("(?i)abc", "ABC");
    YES("(?i)^[a-z]+$", "HeLLo");
    NO("(?i)[^a]", "A");
    YES("(?i)", "x");
    IYES("(?i)x", "X");
    /* non-letters are unaffected */
    IYES("\\d+", "123");
    IYES("[\\[-\\]]", "\\");
    INO("[\\[-\\]]", "a");
    INO("@", "`");
}

Test(regex_icase, latin1_and_extended_a)
{
    IYES("é", "É");
    IYES("É", "é");
    INO("é", "e");
    IYES("ÿ", "Ÿ"); /* U+00FF and U+0178 */
    IYES("Ÿ", "ÿ");
    IYES("Ā", "ā");
    IYES("ł", "Ł");
    IYES("ő", "Ő");
    IYES("ž", "Ž");
    IYES("ĳ", "Ĳ");
    IYES("ŀ", "Ŀ");
    IYES("s", "ſ"); /* U+017F LATIN SMALL LETTER LONG S folds to s */
    IYES("S", "ſ");
    IYES("ſ", "s");
    IYES("ſ", "S");
    IYES("µ", "μ"); /* U+00B5 MICRO SIGN folds to U+03BC */
    IYES("μ", "µ");
    INO("µ", "m");
    IYES("^[à-þ]+$", "ÀÉÎÕÜ");
    INO("[À-Þ]", "÷");
    IYES("[a-z]", "ſ");
    IYES("[ā-ž]", "Ł");
    INO("[ā-ž]", "ſ");
    IYES("^ÉTÉ$", "été");
    INO("[^é]", "É");
    /* no simple folding: ß, İ, ı, ŉ, and anything past U+017F */
    INO("ß", "ss");
    IYES("ß", "ß");
    INO("i", "İ");
    INO("i", "ı");
    INO("ω", "Ω"); /* Greek is not folded */
    INO("k", "\xE2\x84\xAA"); /* U+212A KELVIN SIGN */
    INO("µ", "Μ"); /* U+039C GREEK CAPITAL MU */
    /* \w and friends are not folded */
    INO("\\w", "ſ");
    IYES("\\W", "ſ");
    NO("(?i)\\w", "é");
}

/* ---- UTF-8 and ill-formed text ------------------------------------------------------ */

Test(regex_utf8, ill_formed_text_units)
{
    /* each ill-formed byte is one unit: matched by . and negations only */
    cr_assert_eq(search_n("^.$", 3, 0, "\xFF", 1), 1);
    cr_assert_eq(search_n("^..$", 4, 0, "\xC3", 1), 0);
    cr_assert_eq(search_n("^..$", 4, 0, "\xE6\x97", 2), 1); /* truncated: two units */
    cr_assert_eq(search_n("^[^a]$", 6, 0, "\x80", 1), 1);
    cr_assert_eq(search_n("^\\W$", 4, 0, "\x80", 1), 1);
    cr_assert_eq(search_n("^\\D$", 4, 0, "\x80", 1), 1);
    cr_assert_eq(search_n("^\\S$", 4, 0, "\x80", 1), 1);
    cr_assert_eq(search_n("\\w", 2, 0, "\x80", 1), 0);
    cr_assert_eq(search_n("[\\x80-\\xff]", 11, 0, "\x80\xff", 2), 0);
    cr_assert_eq(search_n("\\x{80}", 6, 0, "\xC2\x80", 2), 1);
    cr_assert_eq(search_n("[^\\x00-\\x{10FFFF}]", 18, 0, "\xED\xA0\x80", 3), 1); /* surrogate */
    cr_assert_eq(search_n("^...$", 5, 0, "\xED\xA0\x80", 3), 1);
    cr_assert_eq(search_n("^.$", 3, 0, "\xC0\xAF", 2), 0); /* overlong: two units */
    cr_assert_eq(search_n("^.$", 3, 0, "\xF4\x90\x80\x80", 4), 0);
    /* literals around ill-formed bytes */
    cr_assert_eq(search_n("abc", 3, 0, "\xE2" "abc", 4), 1);
    cr_assert_eq(search_n("€", 3, 0, "\xF0\x9F\xE2\x82\xAC", 5), 1);
    cr_assert_eq(search_n("a.b", 3, 0, "a\xFE" "b", 3), 1);
    cr_assert_eq(search_n("\\bb", 3, 0, "\xFF" "b", 2), 1);
    cr_assert_eq(search_n("\\Bb", 3, 0, "\xFF" "b", 2), 0);
}

Test(regex_utf8, multibyte_classes)
{
    YES("^[äöü]+$", "üöä");
    NO("^[äöü]+$", "aou");
    YES("^[^äöü]$", "a");
    NO("^[^äöü]$", "ö");
    YES("^[α-ω]+$", "λογος");
    NO("^[α-ω]+$", "λόγος"); /* ό is U+03CC, past ω */
    YES("[\\x{4E00}-\\x{9FFF}]", "漢");
    NO("[\\x{4E00}-\\x{9FFF}]", "かな");
    YES("^[😀-🙏a]{3}$", "a😀🙏");
    YES("^.{3}$", "日本語");
    NO("^.{4}$", "日本語");
}

/* ---- refused constructs ---------------------------------------------------------------- */

Test(regex_refused, unsupported_constructs_name_the_offset)
{
    refuse("ab(?=c)", OMNI_EINVAL, "unsupported construct \"(?=\" at offset 2");
    refuse("(?!x)", OMNI_EINVAL, "unsupported construct \"(?!\" at offset 0: lookaround");
    refuse("a(?<=b)", OMNI_EINVAL, "unsupported construct \"(?<=\" at offset 1");
    refuse("a(?<!b)", OMNI_EINVAL, "unsupported construct \"(?<!\" at offset 1");
    refuse("(a)\\1", OMNI_EINVAL, "unsupported construct \"\\1\" at offset 3: backreferences");
    refuse("(?P<n>a)(?P=n)", OMNI_EINVAL, "\"(?P<\" at offset 0: named groups");
    refuse("(a)(?P=n)", OMNI_EINVAL, "\"(?P=\" at offset 3: backreferences");
    refuse("x(?<name>a)", OMNI_EINVAL, "\"(?<\" at offset 1: named groups");
    refuse("(?'n'a)", OMNI_EINVAL, "\"(?'\" at offset 0: named groups");
    refuse("(?>a+)b", OMNI_EINVAL, "\"(?>\" at offset 0: atomic groups");
    refuse("a*+", OMNI_EINVAL, "\"*+\" at offset 1: possessive");
    refuse("ab++", OMNI_EINVAL, "\"++\" at offset 2: possessive");
    refuse("a?+", OMNI_EINVAL, "\"?+\" at offset 1: possessive");
    refuse("a{2}+", OMNI_EINVAL, "\"{2}+\" at offset 1: possessive");
    refuse("a*?+", OMNI_EINVAL, "\"*?+\" at offset 1: possessive");
    refuse("\\p{L}", OMNI_EINVAL, "\"\\p\" at offset 0: Unicode property");
    refuse("x\\P{Lu}", OMNI_EINVAL, "\"\\P\" at offset 1");
    refuse("(?#comment)", OMNI_EINVAL, "\"(?#\" at offset 0: comments");
    refuse("a(?i)b", OMNI_EINVAL, "\"(?i)\" at offset 1: inline flags");
    refuse("(?i:a)", OMNI_EINVAL, "\"(?i:\" at offset 0: inline flags");
    refuse("(?s).", OMNI_EINVAL, "\"(?s)\" at offset 0");
    refuse("(?m)^a", OMNI_EINVAL, "\"(?m)\" at offset 0");
    refuse("(?x)a", OMNI_EINVAL, "\"(?x)\" at offset 0");
    refuse("(?-i)a", OMNI_EINVAL, "\"(?-i)\" at offset 0");
    refuse("(?i)(?i)a", OMNI_EINVAL, "at offset 4: inline flags");
    refuse("(?|a)", OMNI_EINVAL, "\"(?|\" at offset 0: unknown group syntax");
    refuse("(?", OMNI_EINVAL, "\"(?\" at offset 0");
    refuse("\\0", OMNI_EINVAL, "\"\\0\" at offset 0: octal");
    refuse("\\A", OMNI_EINVAL, "\"\\A\" at offset 0: unknown escape");
    refuse("a\\Z", OMNI_EINVAL, "\"\\Z\" at offset 1");
    refuse("a\\z", OMNI_EINVAL, "\"\\z\" at offset 1");
    refuse("\\G", OMNI_EINVAL, "\"\\G\"");
    refuse("\\K", OMNI_EINVAL, "\"\\K\"");
    refuse("\\Qa\\E", OMNI_EINVAL, "\"\\Q\"");
    refuse("\\u00e9", OMNI_EINVAL, "\"\\u\"");
    refuse("\\N", OMNI_EINVAL, "\"\\N\"");
    refuse("\\cA", OMNI_EINVAL, "\"\\c\"");
    refuse("\\a", OMNI_EINVAL, "\"\\a\"");
    refuse("\\e", OMNI_EINVAL, "\"\\e\"");
}

Test(regex_refused, syntax_errors_name_the_offset)
{
    refuse("*a", OMNI_EINVAL, "nothing to repeat for \"*\" at offset 0");
    refuse("a|+b", OMNI_EINVAL, "nothing to repeat for \"+\" at offset 2");
    refuse("(?b", OMNI_EINVAL, "at offset 0");
    refuse("(|?)", OMNI_EINVAL, "nothing to repeat for \"?\" at offset 2");
    refuse("{2}", OMNI_EINVAL, "nothing to repeat for \"{\" at offset 0");
    refuse("^*", OMNI_EINVAL, "nothing to repeat for \"*\" at offset 1");
    refuse("a$+", OMNI_EINVAL, "nothing to repeat for \"+\" at offset 2");
    refuse("\\b{2}", OMNI_EINVAL, "nothing to repeat for \"{\" at offset 2");
    refuse("\\B?", OMNI_EINVAL, "at offset 2");
    refuse("a{", OMNI_EINVAL, "invalid repetition \"{\" at offset 1");
    refuse("a{x}", OMNI_EINVAL, "at offset 1");
    refuse("a{1", OMNI_EINVAL, "at offset 1");
    refuse("a{1,", OMNI_EINVAL, "at offset 1");
    refuse("a{1,2", OMNI_EINVAL, "at offset 1");
    refuse("a{,3}", OMNI_EINVAL, "at offset 1");
    refuse("a{1 }", OMNI_EINVAL, "at offset 1");
    refuse("{", OMNI_EINVAL, "invalid repetition \"{\" at offset 0");
    refuse("x{a", OMNI_EINVAL, "write \\{ for a literal brace");
    refuse("a{3,2}", OMNI_EINVAL, "invalid repetition \"{3,2}\" at offset 1: the minimum");
    refuse("(ab", OMNI_EINVAL, "missing \")\" for the group opened at offset 0");
    refuse("a(b(c)", OMNI_EINVAL, "opened at offset 1");
    refuse("ab)", OMNI_EINVAL, "unmatched \")\" at offset 2");
    refuse(")", OMNI_EINVAL, "unmatched \")\" at offset 0");
    refuse("[abc", OMNI_EINVAL, "missing \"]\" for the class opened at offset 0");
    refuse("x[]", OMNI_EINVAL, "opened at offset 1");
    refuse("[^]", OMNI_EINVAL, "opened at offset 0");
    refuse("[", OMNI_EINVAL, "opened at offset 0");
    refuse("[a\\", OMNI_EINVAL, "trailing backslash at offset 2");
    refuse("ab\\", OMNI_EINVAL, "trailing backslash at offset 2");
    refuse("[z-a]", OMNI_EINVAL, "invalid range \"z-a\" at offset 1: the start is after");
    refuse("x[ü-é]", OMNI_EINVAL, "at offset 2");
    refuse("[a-\\d]", OMNI_EINVAL, "invalid range \"a-\\d\" at offset 1: a range bound");
    refuse("[\\w-z]", OMNI_EINVAL, "invalid range \"\\w-z\" at offset 1");
    refuse("[[:alpha:]]", OMNI_EINVAL, "\"[\" at offset 1 inside a class");
    refuse("[a[]", OMNI_EINVAL, "at offset 2");
    refuse("[\\b]", OMNI_EINVAL, "\"\\b\" at offset 1 is not allowed in a class");
    refuse("[\\B]", OMNI_EINVAL, "is not allowed in a class");
    refuse("\\x4", OMNI_EINVAL, "invalid escape \"\\x4\" at offset 0: \\x takes two hex");
    refuse("\\xg1", OMNI_EINVAL, "at offset 0");
    refuse("a\\x{}", OMNI_EINVAL, "invalid escape \"\\x{}\" at offset 1");
    refuse("\\x{110000}", OMNI_EINVAL, "up to 10FFFF");
    refuse("\\x{1234567}", OMNI_EINVAL, "1 to 6 hex digits");
    refuse("\\x{12", OMNI_EINVAL, "at offset 0");
    refuse("\\x{1g}", OMNI_EINVAL, "at offset 0");
    refuse("a\\é", OMNI_EINVAL, "invalid escape \"\\\\xC3\" at offset 1");
    refuse("a\\\t", OMNI_EINVAL, "only ASCII punctuation");
    /* ill-formed UTF-8 in the pattern */
    refuse_n("ab\xFF", 3, 0, OMNI_EINVAL, "not valid UTF-8 (byte 0xFF at offset 2)");
    refuse_n("\xC3", 1, 0, OMNI_EINVAL, "offset 0");
    refuse_n("[\xED\xA0\x80]", 5, 0, OMNI_EINVAL, "byte 0xED at offset 1");
    refuse_n("\xC0\xAF", 2, 0, OMNI_EINVAL, "offset 0");
}

/* ---- limits ------------------------------------------------------------------------------- */

Test(regex_limits, pattern_length)
{
    char pat[OMNI__REGEX_MAX_PATTERN + 2];
    memset(pat, 'a', sizeof(pat));
    omni__regex *re = compile_n(pat, OMNI__REGEX_MAX_PATTERN, 0);
    cr_assert_eq(omni__regex_search(re, pat, OMNI__REGEX_MAX_PATTERN), 1);
    cr_assert_eq(omni__regex_search(re, pat, OMNI__REGEX_MAX_PATTERN - 1), 0);
    omni__regex_free(re);
    refuse_n(pat, OMNI__REGEX_MAX_PATTERN + 1, 0, OMNI_ETOOLARGE, "1025 bytes, over the limit");
}

Test(regex_limits, repetition_counts)
{
    omni__regex *re = compile_n("^a{1000}$", 9, 0);
    char text[1001];
    memset(text, 'a', sizeof(text));
    cr_assert_eq(omni__regex_search(re, text, 1000), 1);
    cr_assert_eq(omni__regex_search(re, text, 999), 0);
    cr_assert_eq(omni__regex_search(re, text, 1001), 0);
    omni__regex_free(re);
    YES("^a{0,1000}$", "aaa");
    NO("a{1000,}", "");
    YES("^a{0,}$", "");
    refuse("a{1001}", OMNI_ETOOLARGE, "repetition \"{1001}\" at offset 1: counts are limited");
    refuse("a{0,1001}", OMNI_ETOOLARGE, "at offset 1");
    refuse("a{1001,}", OMNI_ETOOLARGE, "at offset 1");
    refuse("a{99999999999999999999}", OMNI_ETOOLARGE, "at offset 1");
    refuse("a{1,99999999999999999999}", OMNI_ETOOLARGE, "at offset 1");
}

Test(regex_limits, program_size)
{
    refuse("a{1000}{1000}", OMNI_ETOOLARGE, "over 10000 instructions");
    refuse("(?:a{1000}){1000}", OMNI_ETOOLARGE, "over 10000 instructions");
    refuse("(?:a{100}){100}", OMNI_ETOOLARGE, NULL); /* 10000 + MATCH */
    refuse("((((a{10}){10}){10}){10}){10}", OMNI_ETOOLARGE, NULL);
    refuse("(?:(?:a|b|c|d){1000}){3}", OMNI_ETOOLARGE, NULL);
    refuse("(?:x{0,1000}){5}", OMNI_ETOOLARGE, NULL);
    refuse("[a-z]{1000}[a-z]{1000}[a-z]{1000}[a-z]{1000}[a-z]{1000}"
           "[a-z]{1000}[a-z]{1000}[a-z]{1000}[a-z]{1000}[a-z]{1000}",
           OMNI_ETOOLARGE, NULL);
    cr_assert_eq(prog_size("(?:a{99}){101}"), 10000); /* exactly at the limit */
    cr_assert_eq(prog_size("a{1000}{9}a{999}"), 9000 + 999 + 1);
    /* the ICASE flag does not change the program size of letters */
    omni__regex *re = compile_n("^(?:a{99}){100}a{98}", 20, OMNI__REGEX_ICASE);
    cr_assert_eq(omni__regex_program_size(re), 10000);
    char text[9998];
    memset(text, 'A', sizeof(text));
    cr_assert_eq(omni__regex_search(re, text, 9998), 1);
    cr_assert_eq(omni__regex_search(re, text, 9997), 0);
    omni__regex_free(re);
}

Test(regex_limits, nesting)
{
    char pat[512];
    size_t n = 0;
    /* 100 nested groups compile, 101 do not */
    for (int i = 0; i < 100; i++)
        pat[n++] = '(';
    pat[n++] = 'a';
    for (int i = 0; i < 100; i++)
        pat[n++] = ')';
    omni__regex *re = compile_n(pat, n, 0);
    cr_assert_eq(omni__regex_search(re, "xa", 2), 1);
    omni__regex_free(re);
    n = 0;
    for (int i = 0; i < 101; i++)
        pat[n++] = '(';
    pat[n++] = 'a';
    for (int i = 0; i < 101; i++)
        pat[n++] = ')';
    refuse_n(pat, n, 0, OMNI_ETOODEEP, "nested deeper than 100 at offset 100");
    /* an unclosed deep nest fails the same way, before any recursion limit */
    memset(pat, '(', 500);
    refuse_n(pat, 500, 0, OMNI_ETOODEEP, "nested deeper than 100");
    /* quantifiers of quantifiers count too */
    n = 0;
    pat[n++] = 'a';
    for (int i = 0; i < 100; i++)
        pat[n++] = '*';
    re = compile_n(pat, n, 0);
    cr_assert_eq(omni__regex_search(re, "aaa", 3), 1);
    omni__regex_free(re);
    pat[n++] = '*';
    refuse_n(pat, n, 0, OMNI_ETOODEEP, "at offset 101");
    /* mixed: 50 groups each with a quantifier = 100 */
    n = 0;
    for (int i = 0; i < 50; i++)
        pat[n++] = '(';
    pat[n++] = 'a';
    for (int i = 0; i < 50; i++) {
        pat[n++] = ')';
        pat[n++] = '?';
    }
    re = compile_n(pat, n, 0);
    omni__regex_free(re);
    n = 0;
    for (int i = 0; i < 51; i++)
        pat[n++] = '(';
    pat[n++] = 'a';
    for (int i = 0; i < 51; i++) {
        pat[n++] = ')';
        pat[n++] = '?';
    }
    refuse_n(pat, n, 0, OMNI_ETOODEEP, NULL);
}

/* ---- pathological patterns ---------------------------------------------------------------- */

#define PATHO_LEN 50000

static void patho(const char *pat, int with_b_expected)
{
    char *text = malloc(PATHO_LEN + 2);
    cr_assert_not_null(text);
    memset(text, 'a', PATHO_LEN);
    omni__regex *re = compile_n(pat, strlen(pat), 0);
    cr_assert_eq(omni__regex_search(re, text, PATHO_LEN), 0, "/%s/ on a^n", pat);
    text[PATHO_LEN] = 'b';
    cr_assert_eq(omni__regex_search(re, text, PATHO_LEN + 1), with_b_expected, "/%s/ a^nb", pat);
    text[PATHO_LEN] = 'c';
    cr_assert_eq(omni__regex_search(re, text, PATHO_LEN + 1), 0, "/%s/ on a^nc", pat);
    omni__regex_free(re);
    free(text);
}

/* Correctness only: a backtracking engine would take exponential time on
 * these; this one is linear, so the test simply finishes. */
Test(regex_pathological, nested_quantifiers_on_long_text)
{
    patho("(a+)+b", 1);
    patho("(a|a)*b", 1);
    patho("(a*)*b", 1);
    patho("^(a+)+$b", 0);
    patho("(a|aa)+b", 1);
    patho("(?:a?){30}a{30}b", 1);
    patho("^(a|a?)+b$", 1);
    patho("(.*a){20}b", 1);
    patho("(\\w+\\s?)+b$", 1);
    patho("(a*)*(a*)*(a*)*d", 0);
}

Test(regex_pathological, big_program_on_long_text)
{
    /* a program near the limit on a 50,000-byte text: O(n*m) work, no blow-up */
    omni__regex *re = compile_n("(?:a|b){0,1000}c", 16, 0);
    char *text = malloc(PATHO_LEN);
    cr_assert_not_null(text);
    memset(text, 'a', PATHO_LEN);
    cr_assert_eq(omni__regex_search(re, text, 2000), 0);
    text[1999] = 'c';
    cr_assert_eq(omni__regex_search(re, text, 2000), 1);
    omni__regex_free(re);
    re = compile_n("^(?:a?){1000}a{1000}$", 21, 0);
    cr_assert_eq(omni__regex_search(re, text, 1000), 1);
    cr_assert_eq(omni__regex_search(re, text, 1999), 1);
    cr_assert_eq(omni__regex_search(re, text, 999), 0);
    omni__regex_free(re);
    free(text);
}

Test(regex_pathological, long_text_match_at_the_end)
{
    size_t len = 1 << 20;
    char *text = malloc(len);
    cr_assert_not_null(text);
    memset(text, 'x', len);
    memcpy(text + len - 5, "needl", 5);
    cr_assert_eq(search_n("needle", 6, 0, text, len), 0);
    cr_assert_eq(search_n("needl$", 6, 0, text, len), 1);
    cr_assert_eq(search_n("^x+needl$", 9, 0, text, len), 1);
    cr_assert_eq(search_n("^needl", 6, 0, text, len), 0); /* anchored: stops early */
    free(text);
}

/* ---- threads ------------------------------------------------------------------------------- */

typedef struct {
    const omni__regex *re;
    int ok;
} search_worker;

static void *search_thread(void *arg)
{
    search_worker *w = arg;
    char text[300];
    memset(text, 'a', sizeof(text));
    w->ok = 1;
    for (int i = 0; i < 100; i++) {
        text[299] = (i % 2) ? 'b' : 'c';
        int want = (i % 2) ? 1 : 0;
        if (omni__regex_search(w->re, text, sizeof(text)) != want)
            w->ok = 0;
    }
    return NULL;
}

Test(regex_threads, one_regex_many_threads)
{
    /* a program over the stack-scratch size, so every search allocates */
    omni__regex *re = compile_n("(?:a|a){0,60}b", 14, 0);
    cr_assert_gt(omni__regex_program_size(re), 256);
    pthread_t th[4];
    search_worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i].re = re;
        cr_assert_eq(pthread_create(&th[i], NULL, search_thread, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_assert(w[i].ok, "thread %d saw a wrong answer", i);
    }
    omni__regex_free(re);
}

/* ---- differential corpus -------------------------------------------------------------------- */


Test(regex_differential, python_re_corpus)
{
    const char *src = getenv("OMNI_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests/data/regex/cases.json", src ? src : ".");
    size_t len = 0;
    char *json = test_read_file(path, &len);
    cr_assert_not_null(json, "cannot read %s", path);
    cJSON *root = NULL;
    cr_assert_eq(omni__json_parse(&root, json, len, 16u << 20, "regex cases"), OMNI_OK, "%s",
                 omni_error_last_message());
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(root, "cases");
    cr_assert(cJSON_IsArray(cases));
    int total = 0, failed = 0, matches = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        const char *pat = omni__json_str(c, "pattern");
        const char *flags = omni__json_str(c, "flags");
        const char *text = omni__json_str(c, "text");
        int expected = 0;
        cr_assert(pat && flags && text && omni__json_bool(c, "expected", &expected) == 0);
        unsigned fl = strchr(flags, 'i') ? OMNI__REGEX_ICASE : 0;
        omni__regex *re = NULL;
        int rc = omni__regex_compile(&re, pat, strlen(pat), fl);
        int got = rc == OMNI_OK ? omni__regex_search(re, text, strlen(text)) : rc;
        omni__regex_free(re);
        total++;
        matches += expected;
        if (got != expected) {
            failed++;
            fprintf(stderr, "case %d: /%s/%s on \"%s\": got %d, Python says %d (%s)\n", total,
                    pat, flags, text, got, expected,
                    rc == OMNI_OK ? "" : omni_error_last_message());
        }
    }
    cJSON_Delete(root);
    omni_free(json);
    cr_assert_geq(total, 300);
    cr_assert_gt(matches, total / 4);
    cr_assert_lt(matches, total - total / 4);
    cr_assert_eq(failed, 0, "%d of %d cases disagree with Python's re", failed, total);
}

/* ---- omni__regex_find: leftmost-longest spans ---------------------------- */

/* Expects the match of `pat` in `text` from `from` to be [s, e), or none
 * (s == -1). */
static void expect_find(const char *pat, const char *text, size_t from, long s, long e)
{
    omni__regex *re = NULL;
    cr_assert_eq(omni__regex_compile(&re, pat, strlen(pat), 0), OMNI_OK, "%s: %s", pat,
                 omni_error_last_message());
    size_t ms = 999, me = 999;
    int r = omni__regex_find(re, text, strlen(text), from, &ms, &me);
    if (s < 0) {
        cr_assert_eq(r, 0, "/%s/ in \"%s\" from %zu: expected no match, got [%zu,%zu)", pat,
                     text, from, ms, me);
        cr_assert(ms == 999 && me == 999);
    } else {
        cr_assert_eq(r, 1, "/%s/ in \"%s\": expected a match", pat, text);
        cr_assert(ms == (size_t)s && me == (size_t)e,
                  "/%s/ in \"%s\" from %zu: expected [%ld,%ld), got [%zu,%zu)", pat, text, from,
                  s, e, ms, me);
    }
    /* find agrees with search on whether there is a match (from 0) */
    if (from == 0)
        cr_assert_eq(omni__regex_search(re, text, strlen(text)), s >= 0);
    omni__regex_free(re);
}

Test(regex_find, leftmost_longest)
{
    expect_find("abc", "xxabcxx", 0, 2, 5);
    expect_find("a+", "baaab", 0, 1, 4);
    expect_find("a+?", "baaab", 0, 1, 4);       /* lazy does not change the span */
    expect_find("a|ab|abc", "xabcd", 0, 1, 4);  /* longest alternative */
    expect_find("abcd|bc", "abcd", 0, 0, 4);    /* leftmost beats the earlier end */
    expect_find("bc|abcd", "abce", 0, 1, 3);    /* the longer one dies: the later start */
    expect_find("x*", "abc", 0, 0, 0);          /* empty match at the start */
    expect_find("b*", "abbb", 1, 1, 4);
    expect_find("\\d{3}-\\d{4}", "call 555-0100 or 555-0199", 0, 5, 13);
    expect_find("\\d{3}-\\d{4}", "call 555-0100 or 555-0199", 13, 17, 25);
    expect_find("\\d{3}-\\d{4}", "call 555-0100", 6, -1, -1);
    expect_find("nothing", "abc", 0, -1, -1);
    expect_find("(?i)order", "My ORDER is", 0, 3, 8);
    expect_find("é+", "caféé!", 0, 3, 7); /* code points, byte offsets */
    expect_find("a.*b", "a1b2b3", 0, 0, 5);
    /* skipping ahead to a possible first byte keeps to whole characters */
    expect_find("[^a]", "aé", 0, 1, 3);
    expect_find("é", "aêxé", 0, 4, 6);
    expect_find("\\x{A9}", "é\xc2\xa9", 0, 2, 4); /* U+00A9, not the tail of é */
    expect_find("[\\x{80}-\\x{10FFFF}]x", "aa\xa9x", 0, -1, -1);
    expect_find("[^a]x", "aa\xa9x", 0, 2, 4); /* an invalid byte is a unit of its own */
    expect_find("\\bab", "xx ab", 0, 3, 5);
    expect_find("\\bab", "xxab", 0, -1, -1);
}

Test(regex_find, anchors_and_boundaries_with_from)
{
    expect_find("^ab", "abab", 0, 0, 2);
    expect_find("^ab", "abab", 1, -1, -1); /* ^ only at offset 0 */
    expect_find("ab$", "abab", 1, 2, 4);
    expect_find("\\bAB-\\d{6}\\b", "xAB-123456 AB-654321", 0, 11, 20);
    expect_find("\\bcd", "abcd cd", 2, 5, 7); /* the byte before `from` counts for \b */
    expect_find("\\Bcd", "abcd", 2, 2, 4);
    expect_find("$", "abc", 0, 3, 3);
    expect_find("", "", 0, 0, 0);
}

Test(regex_find, argument_errors_and_big_programs)
{
    omni__regex *re = NULL;
    size_t s = 0, e = 0;
    cr_assert_eq(omni__regex_compile(&re, "a", 1, 0), OMNI_OK);
    cr_assert_eq(omni__regex_find(NULL, "a", 1, 0, &s, &e), OMNI_EINVAL);
    cr_assert_eq(omni__regex_find(re, NULL, 1, 0, &s, &e), OMNI_EINVAL);
    cr_assert_eq(omni__regex_find(re, "a", 1, 0, NULL, &e), OMNI_EINVAL);
    cr_assert_eq(omni__regex_find(re, "a", 1, 0, &s, NULL), OMNI_EINVAL);
    cr_assert_eq(omni__regex_find(re, "a", 1, 2, &s, &e), OMNI_EINVAL);
    cr_assert_eq(omni__regex_find(re, NULL, 0, 0, &s, &e), 0);
    omni__regex_free(re);
    /* a program over the stack scratch size (256 instructions) */
    cr_assert_eq(omni__regex_compile(&re, "x[a-c]{300}y", 12, 0), OMNI_OK);
    cr_assert_gt(omni__regex_program_size(re), 256);
    char text[400];
    memset(text, 'b', sizeof(text));
    memcpy(text, "zzx", 3);
    text[303] = 'y';
    cr_assert_eq(omni__regex_find(re, text, 310, 0, &s, &e), 1);
    cr_assert(s == 2 && e == 304);
    omni__regex_free(re);
}

/* Every find agrees with brute force over all spans for small cases:
 * the leftmost start that has a match, then the longest end. */
Test(regex_find, brute_force_agreement)
{
    static const char *const pats[] = {"a*b", "(a|ab)(c|bcd)", "a?a?a", "b+|ab", "\\ba\\w*",
                                       "(?:ab)*c?", "x|y|xy", "[ab]{2,3}"};
    static const char *const texts[] = {"aab", "abcd", "aaa", "xyab", "ba abab", "cabc", "xy",
                                        "abbaab", ""};
    for (size_t p = 0; p < sizeof(pats) / sizeof(pats[0]); p++) {
        omni__regex *re = NULL, *full = NULL;
        char anchored[64];
        snprintf(anchored, sizeof(anchored), "^(?:%s)$", pats[p]);
        cr_assert_eq(omni__regex_compile(&re, pats[p], strlen(pats[p]), 0), OMNI_OK);
        cr_assert_eq(omni__regex_compile(&full, anchored, strlen(anchored), 0), OMNI_OK);
        for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
            const char *x = texts[t];
            size_t n = strlen(x);
            long bs = -1, be = -1;
            for (size_t i = 0; i <= n && bs < 0; i++)
                for (size_t j = i; j <= n; j++) {
                    /* \b needs the context: only test patterns without it here */
                    if (strstr(pats[p], "\\b"))
                        break;
                    if (omni__regex_search(full, x + i, j - i) == 1) {
                        bs = (long)i;
                        be = (long)j;
                    }
                }
            if (strstr(pats[p], "\\b"))
                continue;
            size_t s = 0, e = 0;
            int r = omni__regex_find(re, x, n, 0, &s, &e);
            cr_assert_eq(r, bs >= 0, "/%s/ \"%s\"", pats[p], x);
            if (r == 1)
                cr_assert(s == (size_t)bs && e == (size_t)be,
                          "/%s/ \"%s\": got [%zu,%zu), brute force [%ld,%ld)", pats[p], x, s, e,
                          bs, be);
        }
        omni__regex_free(re);
        omni__regex_free(full);
    }
}
