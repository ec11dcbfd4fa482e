/* Built-in word lists of the content analyzer: the English sentiment lexicon
 * (written for libomni: common words scored -3..+3), negators, intensifiers,
 * diminishers, common English and romanized-Hindi words, the intents'
 * keywords, URL shorteners and risky top-level domains; and the word hash
 * table they are compiled into. */
#include <stdlib.h>
#include <string.h>

#include "analyze_internal.h"

/* ---- sentiment ------------------------------------------------------------- */

const ana_lexentry omni__ana_lexicon_en[] = {
    {"excellent", 3}, {"amazing", 3}, {"awesome", 3}, {"fantastic", 3}, {"outstanding", 3},
    {"superb", 3}, {"wonderful", 3}, {"brilliant", 3}, {"perfect", 3}, {"perfectly", 3},
    {"exceptional", 3}, {"phenomenal", 3}, {"incredible", 3}, {"marvelous", 3}, {"marvellous", 3},
    {"magnificent", 3}, {"terrific", 3}, {"love", 3}, {"loved", 3}, {"loves", 3}, {"loving", 3},
    {"adore", 3}, {"adored", 3}, {"thrilled", 3}, {"ecstatic", 3}, {"delighted", 3},
    {"delightful", 3}, {"flawless", 3}, {"stellar", 3}, {"spectacular", 3}, {"extraordinary", 3},
    {"best", 3}, {"lifesaver", 3}, {"good", 2}, {"great", 2}, {"nice", 2}, {"happy", 2},
    {"glad", 2}, {"pleased", 2}, {"satisfied", 2}, {"satisfying", 2}, {"helpful", 2},
    {"useful", 2}, {"friendly", 2}, {"kind", 2}, {"lovely", 2}, {"beautiful", 2}, {"cool", 2},
    {"fast", 2}, {"quick", 2}, {"easy", 2}, {"smooth", 2}, {"reliable", 2}, {"recommend", 2},
    {"recommended", 2}, {"enjoy", 2}, {"enjoyed", 2}, {"enjoying", 2}, {"fun", 2},
    {"impressive", 2}, {"impressed", 2}, {"liked", 2}, {"likes", 2}, {"appreciate", 2},
    {"appreciated", 2}, {"grateful", 2}, {"thankful", 2}, {"thanks", 2}, {"thank", 2}, {"thx", 2},
    {"win", 2}, {"won", 2}, {"winner", 2}, {"excited", 2}, {"exciting", 2}, {"pleasant", 2},
    {"pleasure", 2}, {"fabulous", 2}, {"gorgeous", 2}, {"yay", 2}, {"hooray", 2}, {"congrats", 2},
    {"congratulations", 2}, {"super", 2}, {"resolved", 2}, {"solved", 2}, {"reasonable", 2},
    {"affordable", 2}, {"convenient", 2}, {"efficient", 2}, {"courteous", 2}, {"polite", 2},
    {"professional", 2}, {"responsive", 2}, {"quality", 2}, {"valuable", 2}, {"worth", 2},
    {"wow", 2}, {"cheers", 2}, {"better", 2}, {"improved", 2}, {"improvement", 2},
    {"works", 1}, {"worked", 1}, {"working", 1}, {"ok", 1}, {"okay", 1}, {"fine", 1},
    {"decent", 1}, {"fair", 1}, {"alright", 1}, {"acceptable", 1}, {"sure", 1}, {"yes", 1},
    {"correct", 1}, {"clean", 1}, {"safe", 1}, {"simple", 1}, {"clear", 1}, {"calm", 1},
    {"hope", 1}, {"hopefully", 1}, {"interested", 1}, {"interesting", 1}, {"free", 1},
    {"bonus", 1}, {"save", 1}, {"saved", 1}, {"saving", 1}, {"welcome", 1}, {"agree", 1},
    {"agreed", 1}, {"positive", 1}, {"accurate", 1}, {"fresh", 1}, {"proper", 1}, {"quickly", 1},
    {"promptly", 1}, {"soon", 1}, {"slow", -1}, {"slowly", -1}, {"late", -1}, {"delay", -1},
    {"delayed", -1}, {"delays", -1}, {"wait", -1}, {"waiting", -1}, {"waited", -1},
    {"confusing", -1}, {"confused", -1}, {"unclear", -1}, {"unsure", -1}, {"difficult", -1},
    {"hard", -1}, {"problem", -1}, {"problems", -1}, {"issue", -1}, {"issues", -1},
    {"complicated", -1}, {"expensive", -1}, {"pricey", -1}, {"costly", -1}, {"meh", -1},
    {"mediocre", -1}, {"boring", -1}, {"bored", -1}, {"tired", -1}, {"odd", -1}, {"weird", -1},
    {"strange", -1}, {"missing", -1}, {"lost", -1}, {"wrong", -1}, {"mistake", -1},
    {"mistakes", -1}, {"error", -1}, {"errors", -1}, {"bug", -1}, {"bugs", -1}, {"glitch", -1},
    {"fail", -1}, {"fails", -1}, {"unfortunately", -1}, {"sadly", -1}, {"sorry", -1},
    {"concern", -1}, {"concerned", -1}, {"worry", -1}, {"worried", -1}, {"nervous", -1},
    {"doubt", -1}, {"doubtful", -1}, {"lack", -1}, {"lacking", -1}, {"limited", -1},
    {"average", -1}, {"inconvenient", -1}, {"inconvenience", -1}, {"annoy", -1}, {"bad", -2},
    {"poor", -2}, {"sad", -2}, {"unhappy", -2}, {"upset", -2}, {"annoyed", -2}, {"annoying", -2},
    {"angry", -2}, {"mad", -2}, {"frustrated", -2}, {"frustrating", -2}, {"frustration", -2},
    {"disappointed", -2}, {"disappointing", -2}, {"disappointment", -2}, {"unacceptable", -2},
    {"useless", -2}, {"broken", -2}, {"failed", -2}, {"failure", -2}, {"refuse", -2},
    {"refused", -2}, {"rude", -2}, {"unhelpful", -2}, {"ignored", -2}, {"ignore", -2},
    {"ignoring", -2}, {"complain", -2}, {"complaint", -2}, {"complaints", -2}, {"crap", -2},
    {"sucks", -2}, {"sucked", -2}, {"dislike", -2}, {"hate", -2}, {"hated", -2}, {"hates", -2},
    {"awful", -2}, {"ugly", -2}, {"stupid", -2}, {"dumb", -2}, {"overcharged", -2},
    {"overpriced", -2}, {"rip", -2}, {"ripoff", -2}, {"ridiculous", -2}, {"nonsense", -2},
    {"damaged", -2}, {"defective", -2}, {"faulty", -2}, {"hurt", -2}, {"pain", -2},
    {"painful", -2}, {"sick", -2}, {"worse", -2}, {"fraud", -2}, {"fake", -2}, {"spam", -2},
    {"spammy", -2}, {"scam", -2}, {"liar", -2}, {"lied", -2}, {"lying", -2}, {"cheated", -2},
    {"cheat", -2}, {"stolen", -2}, {"steal", -2}, {"stealing", -2}, {"unreliable", -2},
    {"incompetent", -2}, {"careless", -2}, {"nightmare", -2}, {"mess", -2}, {"messy", -2},
    {"hassle", -2}, {"dirty", -2}, {"wasted", -2}, {"waste", -2}, {"unfair", -2}, {"threat", -2},
    {"threaten", -2}, {"harass", -2}, {"harassed", -2}, {"harassment", -2}, {"shame", -2},
    {"shameful", -2}, {"regret", -2}, {"terrible", -3}, {"horrible", -3}, {"worst", -3},
    {"disgusting", -3}, {"disgusted", -3}, {"pathetic", -3}, {"atrocious", -3}, {"appalling", -3},
    {"dreadful", -3}, {"furious", -3}, {"outraged", -3}, {"outrageous", -3}, {"scammer", -3},
    {"scammed", -3}, {"scammers", -3}, {"hatred", -3}, {"abysmal", -3}, {"despise", -3},
    {"loathe", -3}, {"livid", -3}, {"garbage", -3}, {"trash", -3}, {"rubbish", -3},
    {"horrendous", -3}, {"shameless", -3}, {"criminal", -3},
};
const size_t omni__ana_lexicon_en_n =
    sizeof(omni__ana_lexicon_en) / sizeof(omni__ana_lexicon_en[0]);

/* "don't" is normalized to "don t": the lone "t" of n't is a negator. */
const char *const omni__ana_negators[] = {
    "not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without", "cannot",
    "cant", "dont", "doesnt", "didnt", "isnt", "wasnt", "arent", "werent", "wont", "wouldnt",
    "shouldnt", "couldnt", "hasnt", "havent", "hadnt", "aint", "t", "nahi", "nahin", "mat",
    "नहीं", "नही", "मत", "ना", "ಇಲ್ಲ", "ಬೇಡ", NULL};
const char *const omni__ana_intensifiers[] = {
    "very", "really", "so", "extremely", "super", "too", "totally", "absolutely", "completely",
    "incredibly", "highly", "truly", "utterly", "especially", "exceptionally", "most", "much",
    "deeply", "seriously", "bahut", "bohot", "ekdum", "बहुत", "काफी", "ತುಂಬಾ", NULL};
const char *const omni__ana_diminishers[] = {
    "slightly", "somewhat", "kinda", "barely", "hardly", "marginally", "partly", "partially",
    "mildly", NULL};

/* ---- language: common words ("me", "to", "do" are also Hindi: en only) ------- */

const char *const omni__ana_common_en[] = {
    "the", "a", "an", "and", "or", "but", "is", "are", "was", "were", "be", "been", "being", "i",
    "you", "he", "she", "it", "we", "they", "my", "your", "his", "its", "our", "their", "this",
    "that", "these", "those", "of", "in", "on", "at", "for", "with", "from", "by", "about", "as",
    "not", "no", "yes", "does", "did", "have", "has", "had", "can", "could", "will", "would",
    "should", "what", "when", "where", "why", "how", "who", "which", "please", "thanks", "thank",
    "hello", "want", "need", "get", "got", "just", "so", "if", "there", "here", "him", "them",
    "us", "am", "all", "any", "some", "more", "very", "too", "also", "only", "now", "then",
    "than", "out", "up", "again", "know", "really", "still", "because", "after", "before",
    "since", "much", "many", "one", "time", "today", "tomorrow", "yesterday", "sorry", "okay",
    "ok", "good", "bad", "wrong", "right", "me", "to", "do", NULL};
const char *const omni__ana_common_hi[] = {
    "hai", "hain", "tha", "thi", "ho", "hoga", "hogi", "kya", "kyu", "kyun", "kyon", "kaise",
    "kaisa", "kaisi", "kab", "kahan", "kaha", "kaun", "kitna", "kitne", "mera", "meri", "mere",
    "mujhe", "mujhko", "main", "hum", "humein", "hamara", "hamari", "aap", "aapka", "aapki",
    "aapke", "tum", "tumhara", "tumhe", "yeh", "ye", "woh", "wo", "vo", "iska", "uska", "unka",
    "kuch", "koi", "sab", "bahut", "bohot", "accha", "acha", "achha", "theek", "thik", "haan",
    "nahi", "nahin", "na", "mat", "ji", "ka", "ki", "ke", "ko", "se", "mein", "par", "pe",
    "bhi", "toh", "aur", "lekin", "phir", "abhi", "kal", "aaj", "jaldi", "karo", "karna",
    "karein", "karen", "kar", "kiya", "kiye", "diya", "dijiye", "chahiye", "chahte", "chahta",
    "chahti", "raha", "rahi", "rahe", "sakta", "sakte", "sakti", "paisa", "paise", "wapas",
    "bhai", "yaar", "dhanyavad", "dhanyawad", "shukriya", "namaste", "batao", "bataiye", "samajh",
    "pata", "hua", "hui", "gaya", "gayi", NULL};

/* ---- intents (header order; "a b" entries are phrases) ----------------------- */

static const char *const kw_billing[] = {
    "bill", "bills", "billing", "billed", "invoice", "invoices", "charge", "charges", "charged",
    "overcharged", "payment", "payments", "pay", "paid", "refund", "refunds", "refunded",
    "receipt", "receipts", "credit card", "charged twice", "double charged", "money back",
    "paisa wapas", "रिफंड", NULL};
static const char *const kw_cancel[] = {
    "cancel", "cancellation", "cancelled", "canceled", "cancelling", "canceling", "unsubscribe",
    "terminate", "close my account", "delete my account", "end my subscription",
    "stop my subscription", "stop my service", NULL};
static const char *const kw_support[] = {
    "help", "issue", "problem", "problems", "error", "broken", "bug", "crash", "crashes",
    "crashed", "fix", "troubleshoot", "login", "password", "not working", "doesn t work",
    "does not work", "can t login", "cannot login", "reset my password", "madad", "sahayata",
    "मदद", "सहायता", "ಸಹಾಯ", NULL};
static const char *const kw_sales[] = {
    "buy", "purchase", "pricing", "price", "prices", "quote", "demo", "discount", "discounts",
    "offer", "offers", "deal", "deals", "upgrade", "plans", "trial", "how much", NULL};
static const char *const kw_order_status[] = {
    "tracking", "track", "shipped", "shipping", "delivery", "delivered", "package", "parcel",
    "shipment", "dispatched", "eta", "where is my order", "order status", "my order",
    "when will it arrive", NULL};
static const char *const kw_complaint[] = {
    "complaint", "complain", "complaining", "unacceptable", "terrible", "awful", "worst",
    "disappointed", "angry", "frustrated", "ridiculous", "horrible", "rude", "not happy",
    "very bad", NULL};
static const char *const kw_greeting[] = {
    "hello", "hey", "hi", "hiya", "greetings", "namaste", "namaskar", "नमस्ते", "नमस्कार",
    "ನಮಸ್ಕಾರ", "good morning", "good afternoon", "good evening", NULL};
static const char *const kw_human_agent[] = {
    "agent", "human", "representative", "operator", "manager", "supervisor", "real person",
    "live agent", "speak to someone", "talk to someone", "customer service", "call me", NULL};

const ana_builtin_intent omni__ana_builtin_intents[] = {
    {"billing", kw_billing},
    {"cancel", kw_cancel},
    {"support", kw_support},
    {"sales", kw_sales},
    {"order_status", kw_order_status},
    {"complaint", kw_complaint},
    {"greeting", kw_greeting},
    {"human_agent", kw_human_agent},
};
const size_t omni__ana_builtin_intents_n =
    sizeof(omni__ana_builtin_intents) / sizeof(omni__ana_builtin_intents[0]);

/* ---- links ----------------------------------------------------------------------- */

const char *const omni__ana_shorteners[] = {
    "bit.ly", "bitly.com", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "v.gd", "buff.ly",
    "rebrand.ly", "cutt.ly", "shorturl.at", "tiny.cc", "rb.gy", "t.ly", "bl.ink", "s.id",
    "lnkd.in", "trib.al", "soo.gd", "clck.ru", "x.co", "qr.ae", "adf.ly", "shorte.st", "bc.vc",
    "po.st", "tny.im", "u.to", "y2u.be", NULL};
const char *const omni__ana_risky_tlds[] = {
    "zip", "mov", "xyz", "top", "click", "link", "work", "loan", "win", "bid", "gq", "tk", "ml",
    "cf", "ga", "icu", "cam", "rest", "country", "kim", "men", "review", "stream", "download",
    "racing", "date", "faith", "party", "science", "accountant", "cricket", "buzz", "fit", NULL};

/* ---- the word table ------------------------------------------------------------- */

static int table_grow(ana_table *t)
{
    uint32_t cap = t->slots ? (t->mask + 1) * 2 : 256;
    ana_word *ns = calloc(cap, sizeof(ana_word));
    if (!ns)
        return -1;
    if (t->slots) {
        for (uint32_t i = 0; i <= t->mask; i++) {
            const ana_word *w = &t->slots[i];
            if (!w->h)
                continue;
            uint32_t j = (uint32_t)(w->h ^ (w->h >> 32)) & (cap - 1);
            while (ns[j].h)
                j = (j + 1) & (cap - 1);
            ns[j] = *w;
        }
        free(t->slots);
    }
    t->slots = ns;
    t->mask = cap - 1;
    return 0;
}

ana_word *omni__ana_insert(ana_table *t, uint64_t h)
{
    if ((!t->slots || (t->n + 1) * 2 > t->mask + 1) && table_grow(t))
        return NULL;
    uint32_t i = (uint32_t)(h ^ (h >> 32)) & t->mask;
    while (t->slots[i].h && t->slots[i].h != h)
        i = (i + 1) & t->mask;
    ana_word *w = &t->slots[i];
    if (!w->h) {
        memset(w, 0, sizeof(*w));
        w->h = h;
        w->phrase = -1;
        t->n++;
    }
    return w;
}

void omni__ana_table_free(ana_table *t)
{
    free(t->slots);
    t->slots = NULL;
    t->mask = 0;
    t->n = 0;
}
