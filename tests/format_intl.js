// Prints what JavaScript's Intl gives for a generated table of formatting
// cases, as one JSON array on stdout. tests/format_intl.c runs this with node
// and compares libomni's omni_format_number / _currency / _date byte for byte.
//
// Each case: {"fn": "number"|"currency"|"date", ..., "expect": "..."}.
// Numbers travel as strings (String(x), plus "-0", "NaN", "Infinity") so
// that C's strtod reads back the same double.
//
// formatDate patterns are mapped to Intl token by token, as omni/channel.h
// defines them: y yy yyyy M MM d dd H HH h hh m mm s ss come from the
// numeric fields of formatToParts (the calendar conversion in the zone is
// Intl's), MMMM MMM EEEE EEE from {month|weekday: long|short}, a from the
// dayPeriod of {hour, hourCycle: 'h12'}, z from {timeZoneName: 'shortOffset'};
// the styles are Intl.DateTimeFormat(locale, {dateStyle, timeZone}).
'use strict';

const LOCALES = ['en', 'en-US', 'en-GB', 'en-IN', 'hi', 'hi-IN', 'kn', 'kn-IN'];

function numStr(x) {
  if (Object.is(x, -0)) return '-0';
  return String(x);
}

const cases = [];

// ---- numbers ---------------------------------------------------------------
const NUMBERS = [0, -0, 1, -1, 0.5, -0.5, 1.005, 2.675, 1.45, 0.125, 0.0015, 4.35, 10.235,
  9.995, 999.9995, 99999.9999, 0.999, 0.1 + 0.2, 1234.5, -1234.5, 1234567.891, -1234567.891,
  12345678.9, 100000, 1000, 999, 123456789012345680000, 2 ** 53, 1e21, 1.5e300,
  1.7976931348623157e308, 5e-324, 1e-7, -0.0001, -0.001, 0.000123456, 3.14159265358979,
  NaN, Infinity, -Infinity];
const FRACTIONS = [[-1, -1], [2, 2], [0, 0], [0, 5], [3, -1], [-1, 1], [5, -1], [0, 20],
  [20, 20], [1, 2]];

for (const locale of LOCALES) {
  for (const [min, max] of FRACTIONS) {
    const opt = {};
    if (min >= 0) opt.minimumFractionDigits = min;
    if (max >= 0) opt.maximumFractionDigits = max;
    const f = new Intl.NumberFormat(locale, opt);
    for (const v of NUMBERS) {
      cases.push({fn: 'number', value: numStr(v), locale, min, max, expect: f.format(v)});
    }
  }
}

// ---- currencies ------------------------------------------------------------
const CURRENCIES = ['INR', 'USD', 'EUR', 'GBP', 'JPY', 'KRW', 'AUD', 'CAD', 'CNY', 'AED',
  'SGD', 'KWD', 'BHD', 'IDR', 'PHP', 'THB', 'XOF', 'XAF', 'CHF', 'inr'];
const MONEY = [0, -0, 1, 0.5, 1.005, 2.675, 0.125, 1234.5, -1234.5, 1234567.891, -0.001,
  99.995, 123456789.5, 1e21, NaN, Infinity, -Infinity];
for (const locale of LOCALES) {
  for (const currency of CURRENCIES) {
    const f = new Intl.NumberFormat(locale, {style: 'currency', currency});
    for (const v of MONEY) {
      cases.push({fn: 'currency', value: numStr(v), code: currency, locale, expect: f.format(v)});
    }
  }
}

// ---- dates -----------------------------------------------------------------
const INSTANTS = [
  '2026-03-08T06:59:59Z', '2026-03-08T07:00:00Z',   // New York DST starts
  '2026-11-01T05:59:59Z', '2026-11-01T06:00:00Z',   // New York DST ends
  '2026-03-29T00:59:59Z', '2026-03-29T01:00:00Z',   // London
  '2026-10-25T01:00:00Z',
  '2026-04-04T14:59:59Z', '2026-04-04T15:00:00Z',   // Lord Howe
  '2026-10-03T15:30:00Z',
  '2026-01-01T00:00:00Z', '2026-06-15T12:00:00Z', '2026-12-31T18:29:59.999Z',
  '2026-07-04T23:45:30+05:30', '2026-02-28T23:59:59-08:00',
  '2000-02-29T12:34:56Z', '1999-12-31T23:59:59Z', '1970-01-01T00:00:00Z',
  '2038-01-19T03:14:08Z', '2200-07-01T00:00:00Z', '2200-01-15T12:00:00Z',
  '2026-09-05T00:30:00Z', '2026-05-10T11:59:59Z', '2026-08-20T12:00:00Z',
  '0999-06-15T12:00:00Z', '1000-01-01T12:00:00Z', '1883-11-18T16:59:59Z',
  '1883-11-18T17:00:00Z',
];
const ZONES = ['UTC', 'America/New_York', 'Europe/London', 'Asia/Kolkata', 'Asia/Kathmandu',
  'Australia/Lord_Howe', 'Australia/Sydney', 'America/Nuuk', 'America/Los_Angeles',
  'Asia/Tokyo'];
const PATTERNS = ['short', 'medium', 'long', 'full', 'yyyy-MM-dd HH:mm:ss',
  'y yy M d H h m s', "EEEE, d MMMM yyyy 'at' h:mm a z", 'EEE, MMM d', 'hh:mm a',
  "'it''s' dd/MM EEEE MMMM", 'z'];

function dtf(locale, zone, opt) {
  return new Intl.DateTimeFormat(locale, {timeZone: zone, ...opt});
}

function part(locale, zone, opt, date, type) {
  const p = dtf(locale, zone, opt).formatToParts(date).find((x) => x.type === type);
  if (!p) throw new Error('no ' + type);
  return p.value;
}

function expand(pattern, locale, zone, date) {
  const num = {};
  for (const p of dtf('en-US', zone, {year: 'numeric', month: 'numeric', day: 'numeric',
    hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23'})
    .formatToParts(date)) {
    if (p.type !== 'literal') num[p.type] = parseInt(p.value, 10);
  }
  const pad = (v, w) => String(v).padStart(w, '0');
  const h12 = num.hour % 12 === 0 ? 12 : num.hour % 12;
  let out = '';
  for (let i = 0; i < pattern.length;) {
    const ch = pattern[i];
    if (ch === "'") {
      i++;
      if (pattern[i] === "'") { out += "'"; i++; continue; }
      while (i < pattern.length) {
        if (pattern[i] === "'") {
          if (pattern[i + 1] === "'") { out += "'"; i += 2; continue; }
          i++;
          break;
        }
        out += pattern[i++];
      }
      continue;
    }
    if (!/[A-Za-z]/.test(ch)) { out += ch; i++; continue; }
    let n = 1;
    while (pattern[i + n] === ch) n++;
    i += n;
    const tok = ch.repeat(n);
    switch (tok) {
      case 'y': out += part(locale, zone, {year: 'numeric'}, date, 'year'); break;
      case 'yy': out += part(locale, zone, {year: '2-digit'}, date, 'year'); break;
      case 'yyyy': out += pad(num.year, 4); break;
      case 'M': out += num.month; break;
      case 'MM': out += pad(num.month, 2); break;
      case 'MMM': out += part(locale, zone, {month: 'short'}, date, 'month'); break;
      case 'MMMM': out += part(locale, zone, {month: 'long'}, date, 'month'); break;
      case 'd': out += num.day; break;
      case 'dd': out += pad(num.day, 2); break;
      case 'EEE': out += part(locale, zone, {weekday: 'short'}, date, 'weekday'); break;
      case 'EEEE': out += part(locale, zone, {weekday: 'long'}, date, 'weekday'); break;
      case 'H': out += num.hour; break;
      case 'HH': out += pad(num.hour, 2); break;
      case 'h': out += h12; break;
      case 'hh': out += pad(h12, 2); break;
      case 'm': out += num.minute; break;
      case 'mm': out += pad(num.minute, 2); break;
      case 's': out += num.second; break;
      case 'ss': out += pad(num.second, 2); break;
      case 'a': out += part(locale, zone, {hour: 'numeric', hourCycle: 'h12'}, date,
        'dayPeriod'); break;
      case 'z': out += part(locale, zone, {timeZoneName: 'shortOffset'}, date,
        'timeZoneName'); break;
      default: throw new Error('token ' + tok);
    }
  }
  return out;
}

const STYLES = ['short', 'medium', 'long', 'full'];
for (const locale of LOCALES) {
  for (const zone of ZONES) {
    for (const iso of INSTANTS) {
      const date = new Date(iso);
      for (const pattern of PATTERNS) {
        const expect = STYLES.includes(pattern)
          ? dtf(locale, zone, {dateStyle: pattern}).format(date)
          : expand(pattern, locale, zone, date);
        cases.push({fn: 'date', value: iso, pattern, zone, locale, expect});
      }
    }
  }
}

process.stdout.write(JSON.stringify({icu: process.versions.icu, tz: process.versions.tz,
  cases}));
