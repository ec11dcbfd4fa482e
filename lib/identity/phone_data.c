/* The numbering table: every ITU-T E.164 country calling code in use, its
 * regions, national significant number (NSN) lengths, trunk and
 * international (IDD) prefixes, and the leading digits that tell the regions
 * of a shared code apart (+1 NANP area codes, +7 RU/KZ, +44 GB/GG/IM/JE, ...).
 *
 * Written from public facts: ITU-T E.164 assignments (the list of assigned
 * country codes, ITU Operational Bulletin annex) and the national numbering
 * plans that regulators publish. Lengths are those of numbers in service
 * (fixed, mobile, freephone, premium, shared cost, personal, VoIP); a number
 * that is only dialable locally (a NANP 7-digit number) is not usable as
 * E.164 and is not accepted. Not in the table: +379 (assigned to Vatican
 * City but not in use; the Vatican is reached through +39 06 698), +991
 * (a closed ITU trial), and codes not assigned. See identity_internal.h for
 * the pattern syntax. */
#include <string.h>

#include "identity_internal.h"

#define L OMNI__LEN
#define LS OMNI__LENS
#define NANP OMNI__PH_NANP
#define NONGEO OMNI__PH_NONGEO
#define ZERO OMNI__PH_ZERO_NSN

/* A main row (the code's facts) and a secondary region of a shared code. */
#define MAIN(iso, cc, flags, lengths, trunk, idd, rules) \
    {iso, cc, flags, lengths, trunk, idd, NULL, rules, NULL}
#define MAINL(iso, cc, flags, lengths, trunk, idd, rules, local) \
    {iso, cc, flags, lengths, trunk, idd, NULL, rules, local}
#define ALSO(iso, cc, flags, trunk, idd, leading) \
    {iso, cc, flags, 0, trunk, idd, leading, NULL, NULL}
#define ALSOL(iso, cc, flags, trunk, idd, leading, local) \
    {iso, cc, flags, 0, trunk, idd, leading, NULL, local}

/* NANP: area code (NPA) and exchange (NXX) both begin with 2-9. */
#define NANP_RULES "310=7,10;[2-9]xx[2-9]=10"
#define NANP_ROW(iso, npas) ALSO(iso, 1, NANP, "1", "011", npas)
/* A NANP region with one area code, where 7-digit local dialing is usual. */
#define NANP_ONE(iso, npa) ALSOL(iso, 1, NANP, "1", "011", npa, npa "/7")

const omni__phone_region omni__phone_regions[] = {
    /* ---- zone 1: the North American Numbering Plan ---- */
    MAIN("US", 1, NANP, L(7) | L(10), "1", "011", NANP_RULES),
    NANP_ONE("AG", "268"),
    NANP_ONE("AI", "264"),
    NANP_ONE("AS", "684"),
    NANP_ONE("BB", "246"),
    NANP_ONE("BM", "441"),
    NANP_ONE("BS", "242"),
    NANP_ROW("CA", "204|226|236|249|250|257|263|273|289|306|343|354|365|367|368|382|387|"
                   "403|416|418|428|431|437|438|450|460|468|474|506|514|519|548|579|581|"
                   "584|587|600|604|613|622|633|639|644|647|655|672|677|683|688|705|709|"
                   "742|753|778|780|782|807|819|825|867|873|879|902|905|942"),
    NANP_ONE("DM", "767"),
    NANP_ROW("DO", "809|829|849"),
    NANP_ONE("GD", "473"),
    NANP_ONE("GU", "671"),
    NANP_ROW("JM", "658|876"),
    NANP_ONE("KN", "869"),
    NANP_ONE("KY", "345"),
    NANP_ONE("LC", "758"),
    NANP_ONE("MP", "670"),
    NANP_ONE("MS", "664"),
    NANP_ROW("PR", "787|939"),
    NANP_ONE("SX", "721"),
    NANP_ONE("TC", "649"),
    NANP_ONE("TT", "868"),
    NANP_ONE("VC", "784"),
    NANP_ONE("VG", "284"),
    NANP_ONE("VI", "340"),

    /* ---- zone 7: Russia and Kazakhstan ---- */
    MAIN("RU", 7, 0, L(10), "8", "810", "[347-9]=10"),
    ALSO("KZ", 7, 0, "8", "810", "33622|7"),

    /* ---- two-digit codes: Africa, Europe, the Americas, Asia ---- */
    MAIN("EG", 20, 0, LS(8, 10), "0", "00", "1=10;[89]00=10;2=9;3=8;[4-9]=8-9"),
    MAIN("ZA", 27, 0, LS(8, 10), "0", "00", NULL),
    MAIN("GR", 30, 0, L(10), "", "00", NULL),
    MAIN("NL", 31, 0, L(5) | LS(7, 10), "0", "00", "14=5;x=7-10"),
    MAIN("BE", 32, 0, LS(8, 9), "0", "00", "4[5-9]=9;x=8"),
    MAIN("FR", 33, 0, L(9), "0", "00", NULL),
    MAIN("ES", 34, 0, L(9), "", "00", NULL),
    MAIN("HU", 36, 0, LS(8, 9), "06", "00", NULL),
    MAIN("IT", 39, ZERO, LS(6, 11), "", "00", NULL),
    ALSO("VA", 39, ZERO, "", "00", "06698"),
    MAIN("RO", 40, 0, L(9), "0", "00", NULL),
    MAIN("CH", 41, 0, L(9) | L(12), "0", "00", "860=12;x=9"),
    MAIN("AT", 43, 0, LS(4, 13), "0", "00", NULL),
    MAIN("GB", 44, 0, L(7) | LS(9, 10), "0", "00", "2=10;7=10;1=9-10;[3589]=9-10"),
    ALSOL("GG", 44, 0, "0", "00", "1481|7781|7839|7911", "1481/6"),
    ALSOL("IM", 44, 0, "0", "00", "1624|7524|7624|7924", "1624/6"),
    ALSOL("JE", 44, 0, "0", "00", "1534|7509|7700|7797|7829|7937",
          "1534/6"),
    MAIN("DK", 45, 0, L(8), "", "00", NULL),
    MAIN("SE", 46, 0, LS(7, 10) | L(12), "0", "00", NULL),
    MAIN("NO", 47, 0, L(5) | L(8), "", "00", "[01]=5;x=8"),
    ALSO("SJ", 47, 0, "", "00", "79"),
    MAIN("PL", 48, 0, L(9), "", "00", NULL),
    MAIN("DE", 49, 0, LS(5, 15), "0", "00", NULL),
    MAIN("PE", 51, 0, LS(8, 9), "0", "00", NULL),
    MAIN("MX", 52, 0, L(10), "044|045|01|02|1", "00|09", NULL),
    MAIN("CU", 53, 0, LS(6, 8) | L(10), "0", "119", NULL),
    MAIN("AR", 54, OMNI__PH_AR_MOBILE, LS(10, 11), "0", "00", "9=11;800=10-11;[1-8]=10"),
    /* Brazil: trunk 0 (or 90, collect) with an optional carrier selection
     * code (CSP); international 00 + CSP; DDD area codes; 8-digit
     * nationwide numbers (3003-, 4004-...); 0300/0500/0800/0900 */
    MAIN("BR", 55, 0, LS(8, 11),
         "012|014|015|021|023|025|031|041|043|9012|9014|9015|9021|9023|9025|9031|9041|9043|0",
         "0012|0014|0015|0021|0023|0025|0031|0041|0043",
         "1[1-9]=10-11;2[12478]=10-11;3[1-8]=10-11;4[1-9]=10-11;5[1345]=10-11;"
         "6[1-9]=10-11;7[134579]=10-11;8[1-9]=10-11;9[1-9]=10-11;"
         "[34]00=8-11;[589]00=9-11;[34]0=8"),
    MAIN("CL", 56, 0, LS(9, 11), "", "00", "1=10-11;60=10-11;[2-9]=9-10"),
    MAIN("CO", 57, 0, LS(10, 11), "0444|0456|0414|03|05|07|09|0",
         "005|007|009|00414|00444|00456", "1=11;[2-9]=10"),
    MAIN("VE", 58, 0, L(10), "0", "00", NULL),
    MAIN("MY", 60, 0, LS(8, 10), "0", "00", NULL),
    MAIN("AU", 61, 0, LS(5, 10) | L(12), "0", "0011|0014|0015|0016|0018|0019",
         "1=5-10,12;x=9"),
    ALSOL("CC", 61, 0, "0", "0011|0014|0015|0016|0018|0019", "89162", "8/8"),
    ALSOL("CX", 61, 0, "0", "0011|0014|0015|0016|0018|0019", "89164", "8/8"),
    MAIN("ID", 62, 0, LS(7, 12), "0", "001|007|008|009", NULL),
    MAIN("PH", 63, 0, LS(8, 10) | L(12), "0", "00", "1=12;x=8-10"),
    MAIN("NZ", 64, 0, LS(8, 10), "0", "00|0161", NULL),
    MAIN("SG", 65, 0, L(8) | LS(10, 11), "", "000|001|002|008|013|018|019", NULL),
    MAIN("TH", 66, 0, LS(8, 10), "0", "001|004|005|006|007|008|009", "1=10;x=8-9"),
    MAIN("JP", 81, 0, LS(9, 10), "0", "010", NULL),
    MAIN("KR", 82, 0, LS(8, 10), "0", "001|002|005|006|008|00700", NULL),
    MAIN("VN", 84, 0, LS(7, 10), "0", "00", "1=7-10;x=7,9-10"),
    MAIN("CN", 86, 0, LS(8, 12), "0", "00", "10=10;1[3-9]=8,11;1=11;x=9-12"),
    MAIN("TR", 90, 0, L(7) | L(10), "0", "00", "444=7;x=10"),
    MAIN("IN", 91, 0, LS(8, 13), "0", "00", "1=8-13;x=10"),
    MAIN("PK", 92, 0, LS(8, 11), "0", "00", NULL),
    MAIN("AF", 93, 0, L(9), "0", "00", NULL),
    MAIN("LK", 94, 0, L(9), "0", "00", NULL),
    MAIN("MM", 95, 0, LS(6, 10), "0", "00", NULL),
    MAIN("IR", 98, 0, L(4) | L(10), "0", "00", "96=4,10;x=10"),

    /* ---- zone 2, three-digit codes: Africa and islands ---- */
    MAIN("SS", 211, 0, L(9), "0", "00", NULL),
    MAIN("MA", 212, 0, L(9), "0", "00", NULL),
    ALSO("EH", 212, 0, "0", "00", "5288|5289"),
    MAIN("DZ", 213, 0, LS(8, 9), "0", "00", "[5-7]=9;9=8-9;[1-4]=8;8=9"),
    MAIN("TN", 216, 0, L(8), "", "00", NULL),
    MAIN("LY", 218, 0, L(9), "0", "00", NULL),
    MAIN("GM", 220, 0, L(7), "", "00", NULL),
    MAIN("SN", 221, 0, L(9), "", "00", NULL),
    MAIN("MR", 222, 0, L(8), "", "00", NULL),
    MAIN("ML", 223, 0, L(8), "", "00", NULL),
    MAIN("GN", 224, 0, LS(8, 9), "", "00", NULL),
    MAIN("CI", 225, ZERO, L(10), "", "00", NULL),
    MAIN("BF", 226, 0, L(8), "", "00", NULL),
    MAIN("NE", 227, 0, L(8), "", "00", NULL),
    MAIN("TG", 228, 0, L(8), "", "00", NULL),
    MAIN("BJ", 229, ZERO, L(8) | L(10), "", "00", "01=10;[2-9]=8"),
    MAIN("MU", 230, 0, LS(7, 8), "", "00|020", "5=8;[2-46-9]=7"),
    MAIN("LR", 231, 0, LS(7, 9), "0", "00", NULL),
    MAIN("SL", 232, 0, L(8), "0", "00", NULL),
    MAIN("GH", 233, 0, LS(8, 9), "0", "00", "800=8;x=9"),
    MAIN("NG", 234, 0, LS(7, 8) | LS(10, 11), "0", "009", "[7-9][01]=7-8,10-11;[1-9]=7-8"),
    MAIN("TD", 235, 0, L(8), "", "00|16", NULL),
    MAIN("CF", 236, 0, L(8), "", "00", NULL),
    MAIN("CM", 237, 0, LS(8, 9), "", "00", "8=8;x=9"),
    MAIN("CV", 238, 0, L(7), "", "0", NULL),
    MAIN("ST", 239, 0, L(7), "", "00", NULL),
    MAIN("GQ", 240, 0, L(9), "", "00", NULL),
    MAIN("GA", 241, ZERO, L(8), "0", "00", "0[1-7]=8;11=8;6[0-256]=8;7[467]=8"),
    MAIN("CG", 242, 0, L(9), "", "00", NULL),
    MAIN("CD", 243, 0, L(7) | L(9), "0", "00", NULL),
    MAIN("AO", 244, 0, L(9), "", "00", NULL),
    MAIN("GW", 245, 0, L(7) | L(9), "", "00", NULL),
    MAIN("IO", 246, 0, L(7), "", "00", NULL),
    MAIN("AC", 247, 0, LS(5, 6), "", "00", NULL),
    MAIN("SC", 248, 0, L(7), "", "00|010", NULL),
    MAIN("SD", 249, 0, L(9), "0", "00", NULL),
    MAIN("RW", 250, 0, L(9), "0", "00", NULL),
    MAIN("ET", 251, 0, L(9), "0", "00", NULL),
    MAIN("SO", 252, 0, LS(6, 9), "0", "00", NULL),
    MAIN("DJ", 253, 0, L(8), "", "00", NULL),
    MAIN("KE", 254, 0, LS(8, 10), "0", "000", NULL),
    MAIN("TZ", 255, 0, L(9), "0", "000|005|006", NULL),
    MAIN("UG", 256, 0, L(9), "0", "000|005|007", NULL),
    MAIN("BI", 257, 0, L(8), "", "00", NULL),
    MAIN("MZ", 258, 0, LS(8, 9), "", "00", "8=9;2=8"),
    MAIN("ZM", 260, 0, L(9), "0", "00", NULL),
    MAINL("MG", 261, 0, L(9), "0", "00", NULL, "20/7"),
    MAIN("RE", 262, 0, L(9), "0", "00", NULL),
    ALSO("YT", 262, 0, "0", "00", "269|639"),
    MAIN("ZW", 263, 0, LS(5, 10), "0", "00", NULL),
    MAIN("NA", 264, 0, LS(8, 9), "0", "00", NULL),
    MAIN("MW", 265, 0, L(7) | L(9), "0", "00", NULL),
    MAIN("LS", 266, 0, L(8), "", "00", NULL),
    MAIN("BW", 267, 0, LS(7, 8) | L(10), "", "00", NULL),
    MAIN("SZ", 268, 0, LS(8, 9), "", "00", NULL),
    MAIN("KM", 269, 0, L(7), "", "00", NULL),
    MAIN("SH", 290, 0, LS(4, 5), "", "00", NULL),
    ALSO("TA", 290, 0, "", "00", "8"),
    MAIN("ER", 291, 0, L(7), "0", "00", NULL),
    MAIN("AW", 297, 0, L(7), "", "00", NULL),
    MAIN("FO", 298, 0, L(6), "", "00", NULL),
    MAIN("GL", 299, 0, L(6), "", "00", NULL),

    /* ---- zones 3 and 4, three-digit codes: Europe ---- */
    MAIN("GI", 350, 0, L(8), "", "00", NULL),
    MAIN("PT", 351, 0, L(9), "", "00", NULL),
    MAIN("LU", 352, 0, LS(4, 11), "", "00", NULL),
    MAIN("IE", 353, 0, LS(7, 10), "0", "00", NULL),
    MAIN("IS", 354, 0, L(7) | L(9), "", "00", NULL),
    MAIN("AL", 355, 0, LS(6, 9), "0", "00", NULL),
    MAIN("MT", 356, 0, L(8), "", "00", NULL),
    MAIN("CY", 357, 0, L(8), "", "00", NULL),
    MAIN("FI", 358, 0, LS(5, 12), "0", "00|990|991|994|996|999|995xx", NULL),
    ALSO("AX", 358, 0, "0", "00|990|991|994|996|999|995xx", "18"),
    MAIN("BG", 359, 0, LS(6, 9), "0", "00", NULL),
    MAIN("LT", 370, 0, L(8), "8|0", "00", NULL),
    MAIN("LV", 371, 0, L(8), "", "00", NULL),
    MAIN("EE", 372, 0, LS(7, 8), "", "00", NULL),
    MAIN("MD", 373, 0, L(8), "0", "00", NULL),
    MAIN("AM", 374, 0, L(8), "0", "00", NULL),
    MAIN("BY", 375, 0, LS(9, 11), "80|8|0", "810", NULL),
    MAIN("AD", 376, 0, L(6) | LS(8, 9), "", "00", NULL),
    MAIN("MC", 377, 0, LS(8, 9), "0", "00", NULL),
    MAINL("SM", 378, ZERO, L(8) | L(10), "", "00", NULL, "0549/6"),
    MAIN("UA", 380, 0, L(9), "0", "00", NULL),
    MAIN("RS", 381, 0, LS(6, 12), "0", "00", NULL),
    MAIN("ME", 382, 0, L(8), "0", "00", NULL),
    MAIN("XK", 383, 0, LS(8, 9), "0", "00", NULL),
    MAIN("HR", 385, 0, LS(6, 9), "0", "00", NULL),
    MAIN("SI", 386, 0, LS(6, 8), "0", "00", "[89]0=6-8;x=8"),
    MAIN("BA", 387, 0, LS(8, 9), "0", "00", NULL),
    MAIN("MK", 389, 0, L(8), "0", "00", NULL),
    MAIN("CZ", 420, 0, L(9) | L(11), "", "00", NULL),
    MAIN("SK", 421, 0, L(7) | L(9), "0", "00", NULL),
    MAIN("LI", 423, 0, L(7) | L(9), "0", "00", NULL),

    /* ---- zone 5, three-digit codes: Central and South America, Caribbean ---- */
    MAIN("FK", 500, 0, L(5), "", "00", NULL),
    MAIN("BZ", 501, 0, L(7) | L(11), "", "00", NULL),
    MAIN("GT", 502, 0, L(8) | L(11), "", "00", NULL),
    MAIN("SV", 503, 0, LS(7, 8), "", "00", "[89]=7-8;x=8"),
    MAIN("HN", 504, 0, L(8) | L(11), "", "00", NULL),
    MAIN("NI", 505, 0, L(8), "", "00", NULL),
    MAIN("CR", 506, 0, L(8) | L(10), "", "00", NULL),
    MAIN("PA", 507, 0, LS(7, 8), "", "00", NULL),
    MAIN("PM", 508, 0, L(6) | L(9), "0", "00", NULL),
    MAIN("HT", 509, 0, L(8), "", "00", NULL),
    MAIN("GP", 590, 0, L(9), "0", "00", NULL),
    ALSO("BL", 590, 0, "0", "00", "59027"),
    ALSO("MF", 590, 0, "0", "00", "59087"),
    MAIN("BO", 591, 0, LS(8, 9), "0", "00", NULL),
    MAIN("GY", 592, 0, L(7), "", "001", NULL),
    MAIN("EC", 593, 0, LS(8, 9) | L(11), "0", "00", NULL),
    MAIN("GF", 594, 0, L(9), "0", "00", NULL),
    MAIN("PY", 595, 0, LS(6, 9) | L(11), "0", "00", NULL),
    MAIN("MQ", 596, 0, L(9), "0", "00", NULL),
    MAIN("SR", 597, 0, LS(6, 7), "", "00", NULL),
    MAIN("UY", 598, 0, LS(7, 8), "0", "00", NULL),
    MAIN("CW", 599, 0, LS(7, 8), "", "00", "9=7-8;[3-8]=7"),
    ALSO("BQ", 599, 0, "", "00", "3|4|7"),

    /* ---- zone 6, three-digit codes: Oceania ---- */
    MAIN("TL", 670, 0, LS(7, 8), "", "00", NULL),
    MAINL("NF", 672, 0, L(6), "", "00", NULL, "3/5"),
    MAIN("BN", 673, 0, L(7), "", "00", NULL),
    MAIN("NR", 674, 0, L(7), "", "00", NULL),
    MAIN("PG", 675, 0, LS(7, 8), "", "00|1401|1402|1403", NULL),
    MAIN("TO", 676, 0, L(5) | L(7), "", "00", NULL),
    MAIN("SB", 677, 0, L(5) | L(7), "", "00|01", NULL),
    MAIN("VU", 678, 0, L(5) | L(7), "", "00", NULL),
    MAIN("FJ", 679, 0, L(7) | L(11), "", "00|052", NULL),
    MAIN("PW", 680, 0, L(7), "", "011|012", NULL),
    MAIN("WF", 681, 0, L(6) | L(9), "", "00", NULL),
    MAIN("CK", 682, 0, L(5), "", "00", NULL),
    MAIN("NU", 683, 0, L(4) | L(7), "", "00", NULL),
    MAIN("WS", 685, 0, LS(5, 7), "", "0", NULL),
    MAIN("KI", 686, 0, L(5) | L(8), "0", "00", NULL),
    MAIN("NC", 687, 0, L(6), "", "00", NULL),
    MAIN("TV", 688, 0, LS(5, 7), "", "00", NULL),
    MAIN("PF", 689, 0, L(6) | LS(8, 9), "", "00", NULL),
    MAIN("TK", 690, 0, LS(4, 7), "", "00", NULL),
    MAIN("FM", 691, 0, L(7), "", "00", NULL),
    MAIN("MH", 692, 0, L(7), "1", "011", NULL),

    /* ---- zone 8, three-digit codes: East Asia and international services ---- */
    MAIN("001", 800, NONGEO, L(8), "", "", NULL),
    MAIN("001", 808, NONGEO, L(8), "", "", NULL),
    MAIN("KP", 850, 0, L(8) | L(10), "0", "00|99", NULL),
    MAIN("HK", 852, 0, LS(8, 9) | L(11), "", "001|0080|0082|009|00", NULL),
    MAIN("MO", 853, 0, LS(7, 8), "", "00", NULL),
    MAIN("KH", 855, 0, LS(8, 10), "0", "001|007|008", NULL),
    MAIN("LA", 856, 0, LS(8, 10), "0", "00", NULL),
    MAIN("001", 870, NONGEO, L(9), "", "", NULL),
    MAIN("001", 878, NONGEO, L(12), "", "", NULL),
    MAIN("BD", 880, 0, LS(6, 10), "0", "00", NULL),
    MAIN("001", 881, NONGEO, L(9), "", "", NULL),
    MAIN("001", 882, NONGEO, LS(7, 12), "", "", NULL),
    MAIN("001", 883, NONGEO, LS(9, 10) | L(12), "", "", NULL),
    MAIN("TW", 886, 0, LS(8, 10), "0", "002|005|006|007|009|019", NULL),
    MAIN("001", 888, NONGEO, L(11), "", "", NULL),

    /* ---- zone 9, three-digit codes: West and Central Asia ---- */
    MAIN("MV", 960, 0, L(7) | L(10), "", "00", NULL),
    MAIN("LB", 961, 0, LS(7, 8), "0", "00", NULL),
    MAIN("JO", 962, 0, LS(8, 9), "0", "00", NULL),
    MAIN("SY", 963, 0, LS(8, 9), "0", "00", NULL),
    MAIN("IQ", 964, 0, LS(8, 10), "0", "00", NULL),
    MAIN("KW", 965, 0, LS(7, 8), "", "00", NULL),
    MAIN("SA", 966, 0, LS(9, 10), "0", "00", NULL),
    MAIN("YE", 967, 0, LS(7, 9), "0", "00", NULL),
    MAIN("OM", 968, 0, LS(7, 9), "", "00", NULL),
    MAIN("PS", 970, 0, LS(8, 10), "0", "00", NULL),
    MAIN("AE", 971, 0, LS(8, 9), "0", "00", NULL),
    MAIN("IL", 972, 0, LS(8, 11), "0", "00|012|013|014|015|016|017|018|019",
         "1=8-11;x=8-9"),
    MAIN("BH", 973, 0, L(8), "", "00", NULL),
    MAIN("QA", 974, 0, LS(7, 8), "", "00", NULL),
    MAIN("BT", 975, 0, LS(7, 8), "", "00", NULL),
    MAIN("MN", 976, 0, L(8), "0", "001|002", NULL),
    MAIN("NP", 977, 0, L(8) | LS(10, 11), "0", "00", NULL),
    MAIN("001", 979, NONGEO, L(9), "", "", NULL),
    MAIN("TJ", 992, 0, L(9), "", "810", NULL),
    MAIN("TM", 993, 0, L(8), "8", "810", NULL),
    MAIN("AZ", 994, 0, L(9), "0", "00", NULL),
    MAIN("GE", 995, 0, L(9), "0", "00", NULL),
    MAIN("KG", 996, 0, L(9), "0", "00", NULL),
    MAIN("UZ", 998, 0, L(9), "8", "810", NULL),
};

const size_t omni__phone_region_count =
    sizeof(omni__phone_regions) / sizeof(omni__phone_regions[0]);

const omni__phone_region *omni__phone_cc_main(unsigned cc)
{
    size_t lo = 0, hi = omni__phone_region_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (omni__phone_regions[mid].cc < cc)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* lo: the first row with a code >= cc, which is the main row of cc */
    if (lo < omni__phone_region_count && omni__phone_regions[lo].cc == cc)
        return &omni__phone_regions[lo];
    return NULL;
}

const omni__phone_region *omni__phone_region_find(const char *iso)
{
    if (!iso || !iso[0] || !iso[1] || iso[2])
        return NULL;
    char a = iso[0], b = iso[1];
    if (a >= 'a' && a <= 'z')
        a = (char)(a - 'a' + 'A');
    if (b >= 'a' && b <= 'z')
        b = (char)(b - 'a' + 'A');
    if (a < 'A' || a > 'Z' || b < 'A' || b > 'Z')
        return NULL;
    for (size_t i = 0; i < omni__phone_region_count; i++) {
        const omni__phone_region *r = &omni__phone_regions[i];
        if (r->iso[0] == a && r->iso[1] == b && r->iso[2] == '\0')
            return r;
    }
    return NULL;
}

/* Matches one alternative (p .. pend) against the start of s; returns the
 * number of digits matched, or 0 when it does not match. */
static size_t match_one(const char *p, const char *pend, const char *s, size_t n)
{
    size_t k = 0;
    while (p < pend) {
        if (k >= n)
            return 0;
        char c = s[k];
        if (*p == 'x') {
            p++;
        } else if (*p == '[') {
            int ok = 0;
            p++;
            while (p < pend && *p != ']') {
                if (p + 2 < pend && p[1] == '-') {
                    if (c >= p[0] && c <= p[2])
                        ok = 1;
                    p += 3;
                } else {
                    if (c == *p)
                        ok = 1;
                    p++;
                }
            }
            if (p < pend)
                p++; /* ']' */
            if (!ok)
                return 0;
        } else {
            if (c != *p)
                return 0;
            p++;
        }
        k++;
    }
    return k;
}

int omni__phone_prefix_match(const char *patterns, const char *s, size_t n, size_t *match_len)
{
    if (!patterns)
        return 0;
    const char *p = patterns;
    while (*p) {
        const char *end = p;
        while (*end && *end != '|')
            end++;
        if (end > p) {
            size_t k = match_one(p, end, s, n);
            if (k) {
                if (match_len)
                    *match_len = k;
                return 1;
            }
        }
        p = *end ? end + 1 : end;
    }
    return 0;
}
