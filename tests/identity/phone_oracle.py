#!/usr/bin/env python3
"""libomni's phone numbers against Google libphonenumber (python3-phonenumbers)
used as a test oracle, never at run time.

Generates a large corpus from the oracle's own numbering data: valid numbers
of every region and non-geographic code (its example number of every type,
plus random variations of them that it still calls valid), each written in
many real-world forms (E.164, international and national format, with
dashes, dots, parentheses, no separators, the trunk prefix, "(0)", the IDD
prefixes 00, 011 and each region's own, tel: / whatsapp: / wa: prefixes, bare
wa_id digits, extensions, full-width and Arabic-Indic digits), plus garbage
(random digits, wrong lengths, unassigned codes, letters, punctuation). Every
input goes through libomni (the phone_driver program: omni_phone_parse) and
through phonenumbers.parse, and the results are compared:

  valid      phonenumbers parses the input to a valid number: libomni must
             give the same E.164 (and the same extension). Gate: agreement
             >= --min-agreement percent (default 99.5).
  impossible phonenumbers rejects the input or calls the number impossible
             (is_possible_number false): libomni must reject it too. Gate: no
             such input accepted, except the documented deliberate
             differences below.
  possible   phonenumbers calls it possible but not valid: reported only
             (libomni checks lengths and leading digits, not every range).

Deliberate differences (counted apart, not failures; see identity.h):
  - digits without '+' and without a region are international (a wa_id,
    "00"/"011" + code) and "whatsapp:"/"wa:" prefixes are understood: the
    oracle cannot read those without a region, so it is asked "+" + digits;
  - lenient-00: "00" + country code in a region whose own IDD prefix is
    different (a US host receiving "0044 20 ..."): libomni reads it as
    international when it cannot be a national number; libphonenumber
    calls it impossible;
  - idd-variant: a region's IDD prefix followed by a valid number where the
    oracle read a longer variant of the prefix (Hong Kong's 00 vs 008:
    "00 852 800 ..." is +852 800 ..., the oracle reads 008 + 52 ...);
  - own-code: a national number that begins with the digits of its own
    country code is kept national when it is valid so (the oracle strips
    the code and is left with an impossible number);
  - newer-plan: numbering changes after the oracle's data (NEWER lists
    them: Benin's 10-digit numbers of 2024).

The gate: every written form of every valid number the oracle knows, in every
region, must agree at --min-agreement percent (99.5: one disagreement in 200
is allowed for ranges that libomni's length-and-prefix table describes less
precisely than the oracle's per-range patterns; in practice the default corpus
agrees 100%), and no input the oracle calls impossible may be accepted except
in the classes above. Numbers that the oracle calls possible but not valid
(right length, unassigned range) are reported, not gated: libomni checks
lengths and leading digits, not every allocated range.

Exit status: 0 pass, 1 fail, 77 skipped (no phonenumbers).
"""
import argparse
import collections
import json
import os
import random
import subprocess
import sys


def import_oracle():
    try:
        import phonenumbers  # noqa: F401
        return phonenumbers
    except ImportError:
        pass
    # Debian's python3-phonenumbers lives in /usr/bin/python3's dist-packages;
    # the python3 on PATH may be another build (pyenv) that does not see it.
    sysp = "/usr/bin/python3"
    if (os.path.exists(sysp) and not os.environ.get("OMNI_ORACLE_REEXEC")
            and os.path.realpath(sys.executable) != os.path.realpath(sysp)):
        os.environ["OMNI_ORACLE_REEXEC"] = "1"
        os.execv(sysp, [sysp, os.path.abspath(__file__)] + sys.argv[1:])
    print("phone_oracle: python3-phonenumbers is not installed "
          "(apt-get install python3-phonenumbers); skipped")
    sys.exit(77)


pn = import_oracle()
from phonenumbers import PhoneNumberFormat as F  # noqa: E402
from phonenumbers import PhoneNumberType as T  # noqa: E402

TYPES = [T.FIXED_LINE, T.MOBILE, T.TOLL_FREE, T.PREMIUM_RATE, T.SHARED_COST, T.VOIP,
         T.PERSONAL_NUMBER, T.PAGER, T.UAN, T.VOICEMAIL]
# Regions whose IDD prefix is used to write other regions' numbers.
IDD_REGIONS = ["US", "GB", "DE", "FR", "AU", "JP", "RU", "KR", "IN", "BR", "SG", "KE", "IL"]
# Numbering changes newer than the oracle's data: (country code, NSN length).
NEWER = {(229, 10)}

FULLWIDTH = {ord(str(d)): chr(0xFF10 + d) for d in range(10)}
ARABIC = {ord(str(d)): chr(0x0660 + d) for d in range(10)}


def idd_of(region):
    md = pn.PhoneMetadata.metadata_for_region(region)
    if md is None:
        return None
    if md.preferred_international_prefix:
        p = md.preferred_international_prefix
    else:
        p = md.international_prefix
    if p and p.isdigit():
        return p
    return None


def national_prefix(region):
    md = pn.PhoneMetadata.metadata_for_region(region)
    return md.national_prefix if md is not None else None


def valid_numbers(rng, region, cc, count):
    """Valid numbers of a region (or a non-geographic code when region is
    None): the example numbers and random variations still valid."""
    if region is None:
        base = [pn.example_number_for_non_geo_entity(cc)]
    else:
        base = [pn.example_number_for_type(region, t) for t in TYPES]
    base = [b for b in base if b is not None and pn.is_valid_number(b)]
    out = {}
    for b in base:
        out[pn.format_number(b, F.E164)] = b
    tries = 0
    while base and len(out) < count and tries < count * 40:
        tries += 1
        b = rng.choice(base)
        nsn = pn.national_significant_number(b)
        if rng.random() < 0.5:
            # the last digits: the same range
            k = rng.randint(1, min(5, max(1, len(nsn) - 2)))
            cand = nsn[:-k] + "".join(rng.choice("0123456789") for _ in range(k))
        else:
            # any digits: other ranges and area codes of the same length
            cand = list(nsn)
            for _ in range(rng.randint(1, 3)):
                cand[rng.randrange(len(cand))] = rng.choice("0123456789")
            cand = "".join(cand)
        try:
            num = pn.parse("+%d%s" % (b.country_code, cand), None)
        except pn.NumberParseException:
            continue
        if not pn.is_valid_number(num):
            continue
        if region is not None and pn.region_code_for_number(num) != region:
            continue
        out[pn.format_number(num, F.E164)] = num
    return list(out.values())


def forms(rng, num, region):
    """Written forms: (input, region for libomni, oracle input, oracle region, kind)."""
    e164 = pn.format_number(num, F.E164)
    intl = pn.format_number(num, F.INTERNATIONAL)
    digits = e164[1:]
    cc = str(num.country_code)
    nsn = pn.national_significant_number(num)
    out = [
        (e164, None, e164, None, "e164"),
        (intl, None, intl, None, "intl"),
        (intl.replace(" ", "-"), None, intl.replace(" ", "-"), None, "intl-dash"),
        (intl.replace(" ", "."), None, intl.replace(" ", "."), None, "intl-dot"),
        (pn.format_number(num, F.RFC3966), None, pn.format_number(num, F.RFC3966), None, "tel"),
        ("whatsapp:" + e164, None, e164, None, "whatsapp"),
        ("wa:" + digits, None, e164, None, "wa"),
        (digits, None, e164, None, "wa_id"),
        ("00 %s %s" % (cc, nsn), None, e164, None, "00-noregion"),
        (intl.translate(FULLWIDTH), None, intl.translate(FULLWIDTH), None, "fullwidth"),
        (intl.translate(ARABIC), None, intl.translate(ARABIC), None, "arabic-indic"),
    ]
    ext = str(rng.randint(1, 99999))
    out += [
        (intl + " ext. " + ext, None, intl + " ext. " + ext, None, "ext"),
        (intl + " x" + ext, None, intl + " x" + ext, None, "ext-x"),
        (pn.format_number(num, F.RFC3966) + ";ext=" + ext, None,
         pn.format_number(num, F.RFC3966) + ";ext=" + ext, None, "tel-ext"),
    ]
    if region is not None:
        natl = pn.format_number(num, F.NATIONAL)
        out += [
            (intl, region, intl, region, "intl+region"),
            (natl, region, natl, region, "national"),
            (natl.replace(" ", ""), region, natl.replace(" ", ""), region, "national-tight"),
            (natl.replace(" ", "-"), region, natl.replace(" ", "-"), region, "national-dash"),
            (nsn, region, nsn, region, "nsn"),
            (natl + " extension " + ext, region, natl + " extension " + ext, region,
             "national-ext"),
        ]
        np_ = national_prefix(region)
        natl_digits = "".join(ch for ch in natl if ch.isdigit())
        if np_ and not natl_digits.startswith(np_):
            # the trunk prefix in front of a national format without one:
            # only where the oracle reads it as the same number
            f = np_ + " " + natl
            try:
                same = pn.format_number(pn.parse(f, region), F.E164) == e164
            except pn.NumberParseException:
                same = False
            if same:
                out.append((f, region, f, region, "national-trunk"))
        if np_ and natl.startswith(np_) and np_ == "0":
            rest = natl[len(np_):].lstrip()
            f = "+%s (0)%s" % (cc, rest)
            out.append((f, None, f, None, "paren-zero"))
        for x in [region] + rng.sample(IDD_REGIONS, 3):
            idd = idd_of(x)
            if idd:
                f = "%s %s %s" % (idd, cc, nsn)
                out.append((f, x, f, x, "idd-" + ("own" if x == region else "other")))
    else:
        for x in rng.sample(IDD_REGIONS, 2):
            idd = idd_of(x)
            if idd:
                f = "%s %s %s" % (idd, cc, nsn)
                out.append((f, x, f, x, "idd-other"))
    return out


def garbage(rng, regions, valid_e164):
    """Inputs that are mostly not phone numbers."""
    out = []
    regs = regions + [None] * 20
    for _ in range(6000):
        n = rng.randint(1, 19)
        d = "".join(rng.choice("0123456789") for _ in range(n))
        r = rng.choice(regs)
        plus = rng.random() < 0.5
        s = ("+" if plus else "") + d
        out.append((s, r, s, r, "random-digits"))
    for e in rng.sample(valid_e164, min(6000, len(valid_e164))):
        r = rng.choice(regs)
        cut = e[:-rng.randint(1, 3)]
        longer = e + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 3)))
        out.append((cut, None, cut, None, "shorter"))
        out.append((longer, None, longer, None, "longer"))
        out.append((cut[1:], r, cut[1:], r, "shorter-noplus"))
    for cc in ["28", "21", "80", "83", "89", "0", "384", "422", "671", "693", "969", "990",
               "997", "999", "259", "210", "379", "991"]:
        for _ in range(20):
            d = "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 12)))
            s = "+" + cc + d
            out.append((s, None, s, None, "unassigned-cc"))
    junk = ["", " ", "+", "++", "abc", "hello world", "+1 415 CALL NOW", "1-800-FLOWERS",
            "tel:", "whatsapp:", "wa:", "+0", "()", "---", "+()", "x123", "ext 5", "#",
            "+44 20 7946 0958 ext", "+1 (415) 555-0100 x", "+49 30 12345678 nope",
            "12", "+1", "+12", "0", "00", "000000000000", "+1 415 555 0100 555 0100 1",
            "+1\u00a0415\u00a0555\u00a00100zz", "\u202e+1 415 555 0100", "+1 41\u0000",
            "+44 7911 123456 / +44 7911 654321", "+1-415-555-0100, +1-415-555-0101"]
    for j in junk:
        out.append((j, None, j, None, "junk"))
        out.append((j, "US", j, "US", "junk"))
    chars = "0123456789+-(). x#;/e"
    for _ in range(3000):
        s = "".join(rng.choice(chars) for _ in range(rng.randint(1, 25)))
        r = rng.choice(regs)
        out.append((s, r, s, r, "soup"))
    return out


def oracle_form(inp, region):
    """What to ask the oracle: libomni reads digits without '+' and without a
    region as international (a wa_id; "00"/"011" + code), which the oracle
    cannot do without a region, so it is asked "+" + digits."""
    if region is not None:
        return inp
    s = inp.strip().lstrip(" .-()/[]")
    low = s.lower()
    for scheme in ("whatsapp:", "wa:"):
        if low.startswith(scheme):
            s = s[len(scheme):].strip()
            break
    if s.startswith("+") or not s or not s[0].isdigit():
        return inp
    digits = s
    if digits.startswith("00"):
        return "+" + digits[2:]
    if digits.startswith("011"):
        return "+" + digits[3:]
    return "+" + digits


def oracle(inp, region):
    """(status, e164, extension): status valid|possible|impossible."""
    inp = oracle_form(inp, region)
    try:
        num = pn.parse(inp, region)
    except pn.NumberParseException:
        return ("impossible", None, None)
    except Exception:  # noqa: BLE001 - the oracle itself failing is "rejects"
        return ("impossible", None, None)
    e = pn.format_number(num, F.E164)
    if pn.is_valid_number(num):
        return ("valid", e, num.extension or None)
    if pn.is_possible_number(num):
        return ("possible", e, num.extension or None)
    return ("impossible", e, None)


def run_driver(driver, items):
    lines = []
    for inp, region, *_ in items:
        if "\n" in inp or "\t" in inp or "\x00" in inp:
            lines.append("%s\t%s" % (region or "-", inp.replace("\x00", "")))
        else:
            lines.append("%s\t%s" % (region or "-", inp))
    data = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    proc = subprocess.run([driver], input=data, capture_output=True, check=True)
    res = [json.loads(x) for x in proc.stdout.decode("utf-8").splitlines()]
    if len(res) != len(items):
        raise SystemExit("phone_oracle: driver answered %d lines for %d inputs"
                         % (len(res), len(items)))
    return res


def lenient_00(inp, region):
    """'00' + code in a region whose own IDD prefix is not 00."""
    s = "".join(ch for ch in inp if ch.isdigit())
    return region is not None and s.startswith("00") and idd_of(region) != "00"


def idd_variant(inp, region, got):
    """The region's preferred IDD prefix followed by a valid number, where
    the oracle read a longer variant of the prefix (Hong Kong's 00 / 008:
    "00 852 800..." is +852 800..., not 008 + 52 ...)."""
    idd = idd_of(region) if region else None
    s = "".join(ch for ch in inp if ch.isdigit())
    if not idd or not s.startswith(idd):
        return False
    st, e, _ = oracle("+" + s[len(idd):], None)
    return st == "valid" and e == got


def own_code(inp, region, want, got):
    """A national number that begins with the digits of its own country
    code: libomni reads it as national when it is valid so; the oracle
    sometimes strips the code and is left with an impossible number."""
    if region is None or want is None:
        return False
    cc = str(pn.country_code_for_region(region))
    s = "".join(ch for ch in inp if ch.isdigit())
    return (s.startswith(cc) and want == "+" + s and got == "+" + cc + s
            and oracle(got, None)[0] == "valid")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("driver", help="path of the phone_driver program")
    ap.add_argument("--seed", type=int, default=20240607)
    ap.add_argument("--per-region", type=int, default=24,
                    help="valid numbers generated per region")
    ap.add_argument("--min-agreement", type=float, default=99.5)
    ap.add_argument("--examples", type=int, default=3)
    ap.add_argument("--dump", help="write every disagreement to this JSON-lines file")
    args = ap.parse_args()
    rng = random.Random(args.seed)

    regions = sorted(pn.SUPPORTED_REGIONS)
    items = []
    valid_e164 = []
    for region in regions:
        for num in valid_numbers(rng, region, None, args.per_region):
            valid_e164.append(pn.format_number(num, F.E164))
            items += forms(rng, num, region)
    for cc in sorted(pn.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        for num in valid_numbers(rng, None, cc, args.per_region):
            valid_e164.append(pn.format_number(num, F.E164))
            items += forms(rng, num, None)
    n_forms = len(items)
    items += garbage(rng, regions, valid_e164)

    results = run_driver(args.driver, items)

    counts = collections.Counter()
    classes = collections.defaultdict(list)
    dump = open(args.dump, "w") if args.dump else None
    for i, ((inp, region, oinp, oregion, kind), got) in enumerate(zip(items, results)):
        status, want, want_ext = oracle(oinp, oregion)
        corpus = "forms" if i < n_forms else "garbage"
        ok_omni = "e164" in got
        if not (status == "valid" and corpus == "garbage"):
            counts[(status, "total")] += 1
        problem = None
        if status == "valid" and corpus == "garbage":
            # letters read as digits, trailing text ignored, open-ended
            # ranges: the oracle is lenient where libomni is strict
            counts[("garbage-valid", "accepted" if ok_omni else "rejected")] += 1
            if ok_omni and got["e164"] != want:
                counts[("garbage-valid", "different")] += 1
        elif status == "valid":
            if not ok_omni:
                problem = "rejected-valid"
            elif got["e164"] != want:
                problem = "different-e164"
            elif (got.get("extension") or None) != want_ext:
                problem = "different-extension"
        elif status == "impossible":
            if ok_omni:
                digits = got["e164"][1:]
                cc = int(got.get("countryCode", 0))
                nsn_len = len(got.get("nationalNumber", ""))
                if (cc, nsn_len) in NEWER:
                    counts[("impossible", "newer-plan")] += 1
                elif lenient_00(inp, region) and oracle("+" + digits, None)[0] != "impossible":
                    counts[("impossible", "lenient-00")] += 1
                elif idd_variant(inp, region, got["e164"]):
                    counts[("impossible", "idd-variant")] += 1
                elif own_code(inp, region, want, got["e164"]):
                    counts[("impossible", "own-code")] += 1
                else:
                    problem = "accepted-impossible"
        else:  # possible
            counts[("possible", "accepted" if ok_omni else "rejected")] += 1
            if ok_omni and got["e164"] != want:
                counts[("possible", "accepted-different")] += 1
        if problem:
            counts[(status, problem)] += 1
            key = (problem, kind, (got.get("region") if ok_omni else None) or region
                   or (want and pn.region_code_for_number(pn.parse(want, None))) or "-")
            classes[key].append((inp, region, want, got))
            if dump:
                dump.write(json.dumps({"problem": problem, "kind": kind, "corpus": corpus,
                                       "input": inp, "region": region, "oracle": want,
                                       "oracleExtension": want_ext, "libomni": got}) + "\n")
    if dump:
        dump.close()

    valid = counts[("valid", "total")]
    bad_valid = sum(counts[("valid", p)] for p in
                    ("rejected-valid", "different-e164", "different-extension"))
    agreement = 100.0 * (valid - bad_valid) / valid if valid else 0.0
    impossible = counts[("impossible", "total")]
    accepted_impossible = counts[("impossible", "accepted-impossible")]

    print("phone_oracle: phonenumbers %s, %d inputs (%d written forms of %d valid numbers, "
          "%d garbage)" % (pn.__version__, len(items), n_forms, len(valid_e164),
                           len(items) - n_forms))
    print("  valid (oracle, written forms): %6d  agreement %.3f%%  (rejected %d, "
          "different E.164 %d, different extension %d)"
          % (valid, agreement, counts[("valid", "rejected-valid")],
             counts[("valid", "different-e164")], counts[("valid", "different-extension")]))
    print("  impossible (oracle): %6d  accepted by libomni %d  (deliberate: lenient-00 %d, "
          "idd-variant %d, own-code %d, newer-plan %d)"
          % (impossible, accepted_impossible, counts[("impossible", "lenient-00")],
             counts[("impossible", "idd-variant")], counts[("impossible", "own-code")],
             counts[("impossible", "newer-plan")]))
    print("  possible, not valid: %6d  accepted %d (different E.164 %d), rejected %d"
          % (counts[("possible", "total")], counts[("possible", "accepted")],
             counts[("possible", "accepted-different")], counts[("possible", "rejected")]))
    print("  garbage the oracle calls valid: accepted %d (different E.164 %d), rejected %d"
          % (counts[("garbage-valid", "accepted")], counts[("garbage-valid", "different")],
             counts[("garbage-valid", "rejected")]))
    if classes:
        print("disagreement classes (problem, form, region): count, examples")
        for key in sorted(classes, key=lambda k: (-len(classes[k]), k)):
            ex = classes[key][:args.examples]
            print("  %-22s %-16s %-4s %5d  %s" % (key[0], key[1], key[2], len(classes[key]),
                  "; ".join("%r[%s] -> oracle %s, libomni %s" % (
                      i, r or "-", w, g.get("e164", g.get("error"))) for i, r, w, g in ex)))
    failed = agreement < args.min_agreement or accepted_impossible > 0
    print("phone_oracle: %s (gate: agreement >= %.1f%% on valid numbers, no impossible input "
          "accepted)" % ("FAIL" if failed else "PASS", args.min_agreement))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
