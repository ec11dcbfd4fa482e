#!/usr/bin/env python3
"""Generates cases.json, the differential corpus for lib/rules/regex.c.

Each case is {"pattern", "flags" ("" or "i"), "text", "expected" (bool)}; the
expected value is Python's re.search() on a translation of the pattern into
Python's dialect (the oracle). Run once and commit the output:

    python3 tests/data/regex/generate.py > tests/data/regex/cases.json

The oracle, and why it agrees with the engine on the patterns used here:
- The engine's \\d \\w \\s \\b \\B are ASCII only, so the oracle compiles with
  re.ASCII.
- The engine's $ is the very end of the text; Python's $ also matches before
  a final newline, so $ becomes \\Z.
- \\B is spelled as lookarounds: CPython before 3.14 never matches \\B in an
  empty string (the engine, like PCRE and RE2, does).
- Case-insensitive cases with non-ASCII characters: re.ASCII would limit
  Python's case folding to ASCII, so these compile without re.ASCII and the
  escapes are spelled out as ASCII classes ([0-9], [A-Za-z0-9_], ...). The
  texts avoid the characters on which Python's re.IGNORECASE and the engine's
  Latin-1 / Latin Extended-A simple folding disagree (Greek other than mu,
  Cyrillic, U+0130, U+0131, U+212A, U+1E9E), and U+017F LONG S is not mixed
  with \\w \\W \\s \\S \\d \\D (the engine does not fold those escapes).
- Only constructs both dialects read the same way are generated (no {,m},
  no stacked quantifiers, no literal '{', no \\x{...}, no possessive forms).
"""
import json
import random
import re
import sys

WORD = "A-Za-z0-9_"
SPELLED = {
    "d": "[0-9]", "D": "[^0-9]",
    "w": "[" + WORD + "]", "W": "[^" + WORD + "]",
    "s": "[ \\t\\n\\r\\f\\v]", "S": "[^ \\t\\n\\r\\f\\v]",
    "b": "(?:(?<=[%s])(?![%s])|(?<![%s])(?=[%s]))" % (WORD, WORD, WORD, WORD),
    "B": "(?:(?<=[%s])(?=[%s])|(?<![%s])(?![%s]))" % (WORD, WORD, WORD, WORD),
}
IN_CLASS = {"d": "0-9", "w": WORD, "s": " \\t\\n\\r\\f\\v"}


def translate(pattern, spell_out):
    """The engine's pattern in Python's dialect ($ -> \\Z; with spell_out,
    the ASCII escapes become explicit classes)."""
    out = []
    i = 0
    in_class = False
    class_start = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            e = pattern[i + 1]
            if not in_class and e == "B":
                # CPython before 3.14 never matches \B in an empty string;
                # the lookaround spelling has the usual meaning there too.
                out.append(SPELLED["B"])
            elif spell_out and e in (IN_CLASS if in_class else SPELLED):
                out.append((IN_CLASS if in_class else SPELLED)[e])
            elif spell_out and in_class and e in "DWS":
                raise ValueError("cannot spell out \\%s in a class: %r" % (e, pattern))
            else:
                out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            if c == "]" and i > class_start:
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            if i < len(pattern) and pattern[i] == "^":
                out.append("^")
                i += 1
            class_start = i  # a ']' right here is a literal
            continue
        out.append("\\Z" if c == "$" else c)
        i += 1
    return "".join(out)


def oracle(pattern, flags, text):
    icase = "i" in flags or pattern.startswith("(?i)")
    non_ascii = any(ord(ch) > 127 for ch in pattern + text)
    if icase and non_ascii:
        py = translate(pattern, True)
        return re.search(py, text, re.IGNORECASE) is not None
    py = translate(pattern, False)
    fl = re.ASCII | (re.IGNORECASE if "i" in flags else 0)
    return re.search(py, text, fl) is not None


CASES = []


def add(pattern, texts, flags=""):
    for t in texts:
        CASES.append({"pattern": pattern, "flags": flags, "text": t,
                      "expected": oracle(pattern, flags, t)})


def handwritten():
    # literals and concatenation
    add("abc", ["abc", "xabcx", "ab", "acb", "", "ABC"])
    add("", ["", "x"])
    add("a", ["", "a", "b", "ba"])
    add("héllo", ["héllo", "hello", "say héllo!", "HÉLLO"])
    add("日本", ["日本語", "日", "本日本"])
    add("😀x", ["a😀x", "😀", "x😀"])
    add("]", ["]", "a"])
    add("}", ["}", "{"])
    add("a]b}", ["a]b}", "ab"])
    # dot
    add("a.c", ["abc", "a.c", "ac", "a\nc", "aéc", "a😀c", "a日c"])
    add("^.$", ["é", "😀", "ab", "", "\n", "\t"])
    add("^...$", ["日本語", "abc", "ab", "a😀b"])
    add("a.*b", ["ab", "axxxb", "a\nb", "ba"])
    # classes
    add("[abc]", ["a", "b", "d", "", "xxc"])
    add("^[a-z]+$", ["hello", "Hello", "", "abc1"])
    add("[^abc]", ["abc", "abcd", "", "é"])
    add("^[^a-z]*$", ["ABC123", "ABc", ""])
    add("[]a]", ["]", "a", "b"])
    add("[^]a]", ["]", "a", "b", "]a"])
    add("[a-]", ["-", "a", "b"])
    add("[-a]", ["-", "b"])
    add("[a-c-e]", ["-", "b", "d", "e"])
    add("[\\]]", ["]", "["])
    add("[\\[]", ["[", "]"])
    add("[\\\\]", ["\\", "a"])
    add("[.]", [".", "a"])
    add("[*+?{}()|^$]", ["*", "(", "$", "^", "a"])
    add("[\\^a]", ["^", "b"])
    add("[é-ü]", ["é", "ü", "ö", "e", "ÿ"])
    add("[日本]", ["本", "語"])
    add("[😀-😂]", ["😁", "😃", "a"])
    add("^[\\d]+$", ["123", "12a", "١٢٣"])
    add("[\\w.-]+@[\\w.-]+", ["me@example.com", "no at", "a@b"])
    add("[\\s,]+", ["a, b", "ab", "a\tb"])
    add("[^\\d]", ["123", "12a", ""])
    add("[^\\s]", ["   ", " a "])
    add("[\\D]", ["1", "a"])
    add("[\\W]", ["abc", "a-b"])
    add("[\\S]", [" ", " x"])
    add("[\\d\\s]", ["a", "1", " "])
    add("[a-f0-9]{4}", ["beef", "BEEF", "12g4", "x0a1bz"])
    add("[\\t\\n]", ["\t", "\n", " "])
    add("[\\x41-\\x43]", ["B", "D"])
    # escapes
    add("\\d+", ["abc", "a1", "٣"])
    add("^\\D+$", ["abc", "a1"])
    add("\\w+", ["!!", "a_1", "é"])
    add("^\\W+$", ["!!", "é!", "a!"])
    add("\\s", ["a b", "ab", "a\tb", "a\nb", "a\u00a0b", "a\x0bb", "a\x0cb", "a\rb"])
    add("^\\S+$", ["abc", "a c", "é"])
    add("a\\.b", ["a.b", "axb"])
    add("\\\\", ["\\", "/"])
    add("\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$", ["*+?()[]{}|^$", "*+?"])
    add("a\\tb", ["a\tb", "a b"])
    add("a\\nb", ["a\nb", "anb"])
    add("a\\rb", ["a\rb"])
    add("a\\fb\\vc", ["a\fb\vc", "afbvc"])
    add("\\x41\\x62", ["Ab", "ab"])
    add("\\xe9", ["é", "e"])
    add("\\-\\ \\#\\&\\~\\@\\%\\!\\:\\;\\<\\>\\=\\,\\'\\\"\\`\\/",
        ["- #&~@%!:;<>=,'\"`/", "-"])
    # word boundaries
    add("\\bcat\\b", ["cat", "a cat!", "concat", "cats", "cat_", "écat", "caté"])
    add("\\Bcat", ["concat", "cat", " cat"])
    add("cat\\B", ["cats", "cat", "cat "])
    add("\\b", ["", " ", "a", "é"])
    add("\\B", ["", "a", "ab", " "])
    add("^\\b", ["a", " a"])
    add("\\b$", ["a", "a ", ""])
    add("\\b\\d+\\b", ["room 42", "r42", "42a", "x 7 y"])
    # anchors
    add("^abc", ["abc", "xabc", "abcx"])
    add("abc$", ["abc", "abcx", "xabc", "abc\n"])
    add("^abc$", ["abc", "abc\n", "\nabc", "abcabc"])
    add("^$", ["", "\n", "a"])
    add("^", ["", "a"])
    add("$", ["", "a"])
    add("a^b", ["ab", "a^b"])
    add("a$b", ["ab", "a$b"])
    add("(^a|b)c", ["ac", "bc", "xac", "xbc"])
    add("a(b$|c)", ["ab", "abx", "acx"])
    add("(?:^)+a", ["a", "ba"])
    # groups and alternation
    add("(abc)", ["abc", "ab"])
    add("(?:ab)+", ["ab", "abab", "a", "ba"])
    add("^(?:ab)+$", ["ababab", "ababa", ""])
    add("cat|dog", ["cat", "dog", "cow", "hotdog"])
    add("^(cat|dog)s?$", ["cats", "dog", "dogss", "cattle"])
    add("a|", ["", "b"])
    add("|a", ["", "b"])
    add("^(|a)$", ["", "a", "aa"])
    add("()", ["", "x"])
    add("^()*$", ["", "x"])
    add("^(?:)+$", ["", "x"])
    add("a(b|c|d)e", ["abe", "ace", "ade", "aee"])
    add("^(a|ab)(c|bcd)(d*)$", ["abcd", "abcdd", "abc", "acd"])
    add("((a)|b)+c", ["aabac", "c", "bbc"])
    add("^(((((a)))))$", ["a", "aa"])
    add("x(?:y|z(?:w|v))", ["xy", "xzw", "xzv", "xz"])
    # quantifiers
    add("ab*c", ["ac", "abc", "abbbc", "abxc"])
    add("ab+c", ["ac", "abc", "abbbc"])
    add("ab?c", ["ac", "abc", "abbc"])
    add("^a{3}$", ["aa", "aaa", "aaaa"])
    add("^a{2,}$", ["a", "aa", "aaaaaa"])
    add("^a{2,4}$", ["a", "aa", "aaaa", "aaaaa"])
    add("^a{0}$", ["", "a"])
    add("^a{0,0}b$", ["b", "ab"])
    add("^a{0,1}$", ["", "a", "aa"])
    add("^a{1,1}$", ["a", "aa"])
    add("^(?:ab){2,3}$", ["ab", "abab", "ababab", "abababab"])
    add("^(a|bc){2}$", ["aa", "abc", "bcbc", "bca", "a"])
    add("^[0-9]{3}-[0-9]{4}$", ["555-1234", "555-123", "5555-1234"])
    add("^\\d{1,3}(?:\\.\\d{1,3}){3}$", ["192.168.0.1", "1.2.3", "1.2.3.4.5", "1234.1.1.1"])
    add("ab*?c", ["ac", "abbc"])
    add("ab+?c", ["ac", "abbc"])
    add("ab??c", ["ac", "abc", "abbc"])
    add("^a{2,3}?$", ["aa", "aaa", "aaaa"])
    add("^a{2,}?$", ["a", "aaaaa"])
    add("^a{2}?$", ["aa", "aaa"])
    add("(a*)*b", ["aaab", "aaa", "b"])
    add("(a+)+b", ["aaab", "aaa"])
    add("(a|a)*b", ["aab", "aa"])
    add("(a?){5}a{5}", ["aaaaa", "aaaa"])
    add("^(a*)+$", ["", "aaa", "aab"])
    add("(x+x+)+y", ["xxxxy", "xxxx"])
    add("^(\\w+\\s?)*$", ["hello world foo", "hello world!"])
    add("^.{0,5}$", ["", "12345", "123456", "日本語日本"])
    add("^[😀-🙏]{2}$", ["😀😃", "😀", "😀a"])
    add("é+", ["ééé", "e"])
    add("^日+本?$", ["日日", "日本", "本"])
    # (?i) and the icase flag
    add("(?i)abc", ["ABC", "aBc", "abd"])
    add("(?i)^[a-z]+$", ["HeLLo", "hello1"])
    add("(?i)[^a]", ["a", "A", "b"])
    add("(?i)[^a-z]", ["Q", "q", "1"])
    add("(?i)\\bhello\\b", ["say HELLO!", "HELLOS"])
    add("(?i)é", ["É", "é", "e"])
    add("(?i)ÿ", ["Ÿ", "ÿ", "y"])
    add("(?i)Ā", ["ā", "Ā", "a"])
    add("(?i)ł", ["Ł", "l"])
    add("(?i)ő", ["Ő"])
    add("(?i)ž", ["Ž", "z"])
    add("(?i)s", ["ſ", "S", "x"])
    add("(?i)ſ", ["s", "S"])
    add("(?i)µ", ["μ", "µ", "m"])
    add("(?i)μ", ["µ"])
    add("(?i)ß", ["ß", "ss", "SS"])
    add("(?i)[à-þ]+", ["ÀÉÎÕÜ", "àéîõü", "abc"])
    add("(?i)[À-Þ]", ["é", "÷", "×"])
    add("(?i)[ā-ž]", ["Ł", "Ž", "ſ"])
    add("(?i)^[a-zß]+$", ["StraSSe", "Straße"])
    add("(?i)straße", ["STRAßE", "STRASSE"])
    add("(?i)x|Y", ["y", "X", "z"])
    add("(?i)a{3}", ["aAa", "aa"])
    add("(?i)\\d+", ["123"])
    add("(?i)Ÿ", ["ÿ"])
    add("(?i)日本", ["日本"])
    add("abc", ["ABC", "abc", "AbC", "abd"], flags="i")
    add("[a-c]+", ["CAB", "xyz"], flags="i")
    add("^ÉTÉ$", ["été", "Été", "ete"], flags="i")
    add("[^é]", ["É", "é", "e"], flags="i")
    add("(?i)x", ["X"], flags="i")
    add("\\bfoo\\b", ["a FOO b", "FOOD"], flags="i")


def rand_pattern(rng, depth=0):
    """A random pattern in the common subset."""
    n = rng.randint(1, 4)
    parts = []
    for _ in range(n):
        r = rng.random()
        if r < 0.35:
            atom = rng.choice("abcab")
        elif r < 0.45:
            atom = "."
        elif r < 0.55:
            atom = rng.choice(["[ab]", "[^a]", "[a-c]", "[^bc]", "[\\d]", "[a\\s]", "[b-dx]"])
        elif r < 0.62:
            atom = rng.choice(["\\d", "\\w", "\\s", "\\D", "\\W", "\\S"])
        elif r < 0.66:
            atom = rng.choice(["\\b", "\\B", "^", "$"])
            parts.append(atom)
            continue
        elif r < 0.8 and depth < 3:
            branches = [rand_pattern(rng, depth + 1) for _ in range(rng.randint(1, 3))]
            atom = rng.choice(["(", "(?:"]) + "|".join(branches) + ")"
        else:
            atom = rng.choice(["a", "b", " ", "1", "é"])
        q = rng.random()
        if q < 0.15:
            atom += "*"
        elif q < 0.25:
            atom += "+"
        elif q < 0.33:
            atom += "?"
        elif q < 0.40:
            lo = rng.randint(0, 3)
            hi = lo + rng.randint(0, 3)
            atom += rng.choice(["{%d}" % lo, "{%d,}" % lo, "{%d,%d}" % (lo, hi)])
        if q < 0.40 and rng.random() < 0.2:
            atom += "?"
        parts.append(atom)
    return "".join(parts)


def rand_text(rng):
    alphabet = "aaabbbcc  1_-é\n"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))


def generated():
    rng = random.Random(20240607)
    seen = set()
    count = 0
    while count < 220:
        p = rand_pattern(rng)
        if p in seen:
            continue
        seen.add(p)
        try:
            re.compile(translate(p, False), re.ASCII)
        except re.error:
            continue
        texts = [rand_text(rng) for _ in range(3)]
        add(p, texts)
        count += 1
    # case-insensitive random cases (ASCII and Latin letters)
    letters = "aAbBéÉžŽ"
    for _ in range(40):
        p = "".join(rng.choice(["a", "B", "é", "Ž", "[a-b]", "[é-ë]", "[^a]", ".", "x?"])
                    for _ in range(rng.randint(1, 3)))
        texts = ["".join(rng.choice(letters) for _ in range(rng.randint(0, 4)))
                 for _ in range(2)]
        add(p, texts, flags="i")


def main():
    handwritten()
    generated()
    # balance check: both outcomes must be well represented
    yes = sum(1 for c in CASES if c["expected"])
    assert len(CASES) >= 300 and yes > len(CASES) // 4 and len(CASES) - yes > len(CASES) // 4
    json.dump({"generator": "tests/data/regex/generate.py",
               "oracle": "Python %d.%d re.search" % sys.version_info[:2],
               "cases": CASES}, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
