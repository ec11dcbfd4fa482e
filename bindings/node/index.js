'use strict';
/*
 * omni: Node.js bindings for libomni (N-API addon, see src/addon.c).
 *
 * The addon is looked up in this order: env OMNI_NODE_ADDON (a path to
 * omni_node.node); $OMNI_BUILD_DIR/bindings/node/omni_node.node; the build
 * tree ../../build/bindings/node/omni_node.node relative to this folder;
 * ./omni_node.node next to this file.
 *
 * Every failing call throws an OmniError with code, message, status,
 * retryable and details (from the library's last error). Store versions are
 * uint64: they are numbers while <= Number.MAX_SAFE_INTEGER (always, in
 * practice) and BigInts above; ANY_VERSION is the BigInt 2^64 - 1.
 *
 * Templates: new Template(source, {partials, helpers, ...}).render(data);
 * helpers are JavaScript functions called the way handlebars.js calls them
 * (see the Template class below).
 */

const fs = require('node:fs');
const path = require('node:path');

function addonCandidates() {
  const list = [];
  if (process.env.OMNI_NODE_ADDON) list.push(process.env.OMNI_NODE_ADDON);
  if (process.env.OMNI_BUILD_DIR) {
    list.push(path.join(process.env.OMNI_BUILD_DIR, 'bindings', 'node', 'omni_node.node'));
  }
  list.push(path.join(__dirname, '..', '..', 'build', 'bindings', 'node', 'omni_node.node'));
  list.push(path.join(__dirname, 'omni_node.node'));
  return list;
}

function loadAddon() {
  const tried = [];
  for (const candidate of addonCandidates()) {
    const file = path.resolve(candidate);
    if (!fs.existsSync(file)) {
      if (candidate === process.env.OMNI_NODE_ADDON) {
        throw new Error(`OMNI_NODE_ADDON=${candidate} does not exist`);
      }
      tried.push(file);
      continue;
    }
    // A file that exists but fails to load is a real error: report it.
    const addon = require(file);
    addon.path = file;
    return addon;
  }
  throw new Error(
    'libomni Node addon not found (set OMNI_NODE_ADDON or OMNI_BUILD_DIR); tried: ' +
      tried.join(', '),
  );
}

const native = loadAddon();

/** A libomni call failed. */
class OmniError extends Error {
  constructor(message, fields = {}) {
    super(message);
    this.name = 'OmniError';
    this.code = fields.code ?? 'UNKNOWN_ERROR';
    this.status = fields.status ?? 0;
    this.retryable = fields.retryable ?? false;
    this.details = fields.details ?? null;
  }

  /** The seed's WorkflowError form. */
  toJSON() {
    const out = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.details !== null && this.details !== undefined) out.details = this.details;
    return out;
  }
}

native.setErrorClass(OmniError);

/** Status codes (omni/common.h); the numbers are part of the ABI. */
const Status = Object.freeze({
  OK: 0,
  EINVAL: -1,
  ENOMEM: -2,
  EJSON: -3,
  ETOOLARGE: -4,
  ETOODEEP: -5,
  ENOTFOUND: -6,
  ECONFLICT: -7,
  EEXISTS: -8,
  ESTORAGE: -9,
  ETRANSPORT: -10,
  ETIMEOUT: -11,
  ECONNECT: -12,
  ETLS: -13,
  EHOOK: -14,
  EVERSION: -15,
  EENCODING: -16,
  ESIGNATURE: -17,
  EEXPIRED: -18,
  ENOTYET: -19,
  EKEY: -20,
  ECRYPTO: -21,
  ETIME: -22,
  ECONFIG: -23,
  EUNSUPPORTED: -24,
  ERESPONSE: -25,
  EEXHAUSTED: -26,
  EINTERNAL: -27,
  ESYNTAX: -28,
  EMISSING: -29,
  EHELPER: -30,
  ECARRIER: -31,
  EWEBHOOK: -32,
  EIDENTIFIER: -33,
  EIDENTITY: -34,
  EROUTING: -35,
  ETRANSITION: -36,
  EWINDOW: -37,
  ECANCELED: -38,
});

/** Ids of limit() (omni/omni.h). */
const Limit = Object.freeze({
  JSON_BYTES: 1,
  JSON_DEPTH: 2,
  CONFIG_BYTES: 3,
  STORE_NS: 4,
  STORE_KEY: 5,
  STORE_VALUE: 6,
  HTTP_BODY: 7,
  HTTP_HEADERS: 8,
  JWT_BYTES: 9,
  CODEC_BYTES: 10,
});

const NAMESPACE_DNS = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
const NAMESPACE_URL = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';
const NAMESPACE_OID = '6ba7b812-9dad-11d1-80b4-00c04fd430c8';
const NAMESPACE_X500 = '6ba7b814-9dad-11d1-80b4-00c04fd430c8';

/** put()'s expectedVersion: create only. */
const CREATE = native.CREATE;
/** put()'s / delete()'s expectedVersion: whatever the current version is (BigInt 2^64 - 1). */
const ANY_VERSION = native.ANY_VERSION;

const HASHES = { sha1: 1, sha256: 2, sha512: 3 };

function hashId(name) {
  if (typeof name === 'number') return name;
  if (typeof name !== 'string') throw new TypeError('hash name must be a string');
  // Unknown names become 0, which the library rejects with INVALID_ARGUMENT.
  return HASHES[name.toLowerCase().replace('-', '')] ?? 0;
}

function toJson(value, what) {
  if (typeof value === 'string') return value;
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`${what} is not JSON-serializable`);
  return text;
}

// A JSON document argument: JSON text (a string or bytes) as it is, else serialized.
function docJson(value, what) {
  return isBytes(value) ? value : toJson(value, what);
}

// An optional JSON document argument: null for undefined / null.
function optJson(value, what) {
  return value === undefined || value === null ? null : docJson(value, what);
}

function timeArg(t) {
  return t instanceof Date ? t.getTime() : t;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

// ---- version, limits, statuses -------------------------------------------

/** The library's version string, e.g. "0.1.0". */
function version() {
  return native.version();
}

/** major * 10000 + minor * 100 + patch. */
function versionNumber() {
  return native.versionNumber();
}

/** The value of an input limit by id or name (see Limit); 0 when unknown. */
function limit(id) {
  if (typeof id === 'string') {
    const n = Limit[id.toUpperCase()];
    if (n === undefined) return 0;
    id = n;
  }
  return native.limit(id);
}

const LIMITS = Object.freeze(
  Object.fromEntries(Object.entries(Limit).map(([name, id]) => [name, native.limit(id)])),
);

function strerror(status) {
  return native.strerror(status);
}

function statusCode(status) {
  return native.statusCode(status);
}

// ---- encodings ----------------------------------------------------------------

const base64Encode = (data) => native.base64Encode(data);
const base64Decode = (text) => native.base64Decode(text);
const base64urlEncode = (data) => native.base64urlEncode(data);
const base64urlDecode = (text) => native.base64urlDecode(text);
const urlEncode = (text) => native.urlEncode(text);
const urlDecodeBuffer = (text) => native.urlDecode(text);

/** Decodes %XX sequences; the result must be UTF-8 (else a TypeError). */
function urlDecode(text) {
  return strictUtf8.decode(native.urlDecode(text));
}

/** application/x-www-form-urlencoded from [[name, value], ...], an object, a Map or URLSearchParams. */
function formEncode(pairs) {
  let doc = pairs;
  if (pairs instanceof Map || pairs instanceof URLSearchParams) doc = [...pairs.entries()];
  return native.formEncode(JSON.stringify(doc));
}

/** Decodes a form body into [[name, value], ...], in order, repeated names kept. */
function formDecode(body) {
  return JSON.parse(native.formDecode(body));
}

/** Throws OmniError INVALID_ENCODING (with .offset) unless data is valid UTF-8. */
function utf8Validate(data) {
  native.utf8Validate(data);
}

// ---- hashes, HMAC, JWT ------------------------------------------------------------

function hashSize(name) {
  return native.hashSize(hashId(name));
}

/** Digest of data with 'sha1', 'sha256' or 'sha512'. */
function hashDigest(name, data) {
  return native.hashDigest(hashId(name), data);
}

/** HMAC (RFC 2104). */
function hmac(name, key, data) {
  return native.hmac(hashId(name), key, data);
}

/** Constant-time equality (false for different lengths). */
function ctEqual(a, b) {
  return native.ctEqual(a, b);
}

/** Signs claims into a compact JWT: HS256 (raw secret), RS256 / ES256 (PEM key). */
function jwtSign({ alg, key, claims, header } = {}) {
  const headerJson = header === undefined || header === null ? null : toJson(header, 'header');
  return native.jwtSign(alg, key, headerJson, toJson(claims ?? {}, 'claims'));
}

/** Verifies a token signed with `alg` and returns its claims ("exp"/"nbf" checked
 * against the engine's clock, or the system clock, with `leeway` seconds). */
function jwtVerify(token, { alg, key, leeway = 0, engine = null } = {}) {
  const handle = engine ? handleOf(engine) : null;
  return JSON.parse(native.jwtVerify(token, alg, key, leeway, handle));
}

// ---- time ------------------------------------------------------------------------

/** RFC 3339 date-time -> Unix milliseconds. */
function timeParse(text) {
  return native.timeParse(text);
}

/** Unix milliseconds (or a Date) -> "YYYY-MM-DDTHH:MM:SS.mmmZ". */
function timeFormat(ms) {
  return native.timeFormat(ms instanceof Date ? ms.getTime() : ms);
}

// ---- UUIDs --------------------------------------------------------------------------

function uuid5(namespace, name) {
  return native.uuid5(namespace, name);
}

function uuid7(engine = null) {
  return native.uuid7(engine ? handleOf(engine) : null);
}

function uuidParse(text) {
  return native.uuidParse(text);
}

function uuidFormat(bytes) {
  return native.uuidFormat(bytes);
}

// ---- engine, store, transport ----------------------------------------------------------

const kHandle = Symbol('omni.handle');

function handleOf(obj) {
  const h = obj && obj[kHandle];
  if (!h) throw new TypeError('expected an omni Engine, Store or Transport');
  return h;
}

function defineDispose(cls) {
  if (typeof Symbol.dispose === 'symbol') {
    Object.defineProperty(cls.prototype, Symbol.dispose, {
      value() {
        this.close();
      },
    });
  }
}

/** The JSON form of a request object (omni/http.h); a Buffer body goes as bodyBase64. */
function requestJson(request) {
  let req = request;
  if (req && typeof req === 'object' && req.body !== undefined && typeof req.body !== 'string') {
    if (!(req.body instanceof Uint8Array)) throw new TypeError('body must be a string or a Buffer');
    const { body, ...rest } = req;
    req = { ...rest, bodyBase64: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64') };
  }
  return toJson(req, 'request');
}

/** An engine: configuration plus hooks. Release with close() (or let the GC do it). */
class Engine {
  #store = null;
  #transport;

  /**
   * @param config an object (serialized to JSON), a JSON string, or undefined for
   *   defaults; e.g. {clock: {fixed: '2026-01-01T00:00:00Z'}, random: {seed: 1}}.
   * @param options {analyzer: (request, builtin) => object | null}: a host content
   *   analyzer called by preroute after the built-in one; the members it returns
   *   replace the built-in result's (null keeps it). A throw fails the run with
   *   HOOK_FAILED.
   */
  constructor(config, options = {}) {
    const json = config === undefined || config === null ? null : toJson(config, 'config');
    const { analyzer } = options ?? {};
    let hook = null;
    if (analyzer !== undefined && analyzer !== null) {
      if (typeof analyzer !== 'function') throw new TypeError('analyzer must be a function');
      hook = (request, builtin) => {
        const r = analyzer(JSON.parse(request), JSON.parse(builtin));
        return r === undefined || r === null ? null : JSON.stringify(r);
      };
    }
    this[kHandle] = native.engineNew(json, hook);
  }

  get closed() {
    return native.isClosed(this[kHandle]);
  }

  /** The engine's clock, Unix milliseconds. */
  nowMs() {
    return native.engineNowMs(this[kHandle]);
  }

  /** n bytes from the engine's random hook. */
  random(n) {
    return native.engineRandom(this[kHandle], n);
  }

  /** The engine's store (borrowed: it keeps the engine alive). */
  get store() {
    if (!this.#store || this.#store.closed) {
      this.#store = new Store(kHandle, native.engineStore(this[kHandle]), this);
    }
    return this.#store;
  }

  /** The engine's transport (borrowed), or null when it has none. */
  get transport() {
    if (this.#transport === undefined || (this.#transport && this.#transport.closed)) {
      const h = native.engineTransport(this[kHandle]);
      this.#transport = h ? new Transport(kHandle, h, this) : null;
    }
    return this.#transport;
  }

  // ---- the template store (omni/template_store.h) ----

  /** Creates a NotificationTemplate (version 1); returns the stored document. */
  templateCreate(doc) {
    return JSON.parse(native.templateCreate(this[kHandle], toJson(doc, 'template')));
  }

  /**
   * Replaces a template (by its templateId) with a new version; the previous one stays
   * readable. expectedVersion 0 (default): any; else VERSION_CONFLICT unless current.
   */
  templateUpdate(doc, { expectedVersion = 0 } = {}) {
    return JSON.parse(native.templateUpdate(this[kHandle], toJson(doc, 'template'), expectedVersion));
  }

  /** The current document (version 0) or a kept version. */
  templateGet(templateId, { version = 0 } = {}) {
    return JSON.parse(native.templateGet(this[kHandle], templateId, version));
  }

  /** Deletes a template and its kept versions. */
  templateDelete(templateId) {
    native.templateDelete(this[kHandle], templateId);
  }

  /** One page {items, next} in templateId order; filter: {category, channel, isActive}. */
  templateList({ filter = null, after = null, limit = 100 } = {}) {
    const f = filter === null || filter === undefined ? null : toJson(filter, 'filter');
    return JSON.parse(native.templateList(this[kHandle], f, after, limit));
  }

  /**
   * Renders a stored template for a locale, with the fallback chain locale -> its
   * language -> defaultLocale -> the template's defaultLocale -> en. Returns {templateId,
   * version, locale (the one used), subject?, body, htmlBody?, sms?}.
   */
  templateRender(templateId, { locale = null, defaultLocale = null, channel = 'sms', data = null } = {}) {
    const d = data === null || data === undefined ? null : toJson(data, 'data');
    return JSON.parse(
      native.templateRenderStored(this[kHandle], templateId, locale, defaultLocale, channel, d),
    );
  }

  // ---- routing, customers and identities (omni/identity.h) ----

  /**
   * Creates or replaces the routing of a recipient ('+E164', 'shortcode:<digits>',
   * 'mss:<sid>', 'waba:<id>', 'business:<id>'): {accountId, businessUnitId, tenantId,
   * createCustomers, defaultRegion, ...}.
   */
  routingSet(recipientKey, routing) {
    native.routingSet(this[kHandle], recipientKey, toJson(routing, 'routing'));
  }

  /** The stored routing document (NOT_FOUND when there is none). */
  routingGet(recipientKey) {
    return JSON.parse(native.routingGet(this[kHandle], recipientKey));
  }

  /** Removes a recipient's routing (NOT_FOUND when there is none). */
  routingDelete(recipientKey) {
    native.routingDelete(this[kHandle], recipientKey);
  }

  /** Creates (a customerId is made when absent) or replaces a customer; returns the record. */
  customerPut(customer) {
    return JSON.parse(native.customerPut(this[kHandle], toJson(customer, 'customer')));
  }

  /** The stored customer record (IDENTITY_NOT_FOUND when there is none). */
  customerGet(customerId) {
    return JSON.parse(native.customerGet(this[kHandle], customerId));
  }

  /** Creates or replaces a user's notification preferences (omni/orchestrator.h). */
  notifyPrefsPut(prefs) {
    return JSON.parse(native.notifyPrefsPut(this[kHandle], toJson(prefs, 'prefs')));
  }

  /** A user's stored notification preferences (NOT_FOUND when none). */
  notifyPrefsGet(userId) {
    return JSON.parse(native.notifyPrefsGet(this[kHandle], userId));
  }

  /** Removes a user's notification preferences. */
  notifyPrefsDelete(userId) {
    native.notifyPrefsDelete(this[kHandle], userId);
  }

  /** Links a normalized identifier ('+E164', 'wa:+E164', 'lc:<id>', ...) to a customer. */
  identityLink(customerId, identifier) {
    native.identityLink(this[kHandle], customerId, identifier);
  }

  /** Removes an identifier's link (NOT_FOUND when it has none). */
  identityUnlink(identifier) {
    native.identityUnlink(this[kHandle], identifier);
  }

  /**
   * An IdentityLookupEvent (e.g. a message event of Inbound.handle) -> IdentityLookupResult
   * {success, correlationId, identity {customerId, customerType known|anonymous|new, ...},
   * routing, enrichedMessage, nextStep}. options: {defaultRegion, brazilNinthDigit}.
   * ROUTING_RESOLUTION_FAILED (retryable) when the recipient has no routing.
   */
  identityLookup(event, options = null) {
    const opts = options === null || options === undefined ? null : toJson(options, 'options');
    return JSON.parse(native.identityLookup(this[kHandle], toJson(event, 'event'), opts));
  }

  // ---- conversations (omni/conversation.h) ----

  /**
   * Seed 001's workFlowBiDirectional: an IdentityLookupResult or BiDirectionalEvent
   * ({correlationId, identity: {customerId}, routing: {accountId, ...}, enrichedMessage,
   * direction?: 'inbound' | 'outbound', channel?}) -> BiDirectionalResult {success,
   * correlationId, duplicate, conversation, messageState, routing, events, nextStep}.
   * Finds, continues, reopens or creates the customer's conversation on the channel and
   * account and records the message exactly once (a message stepped again returns the
   * first result with duplicate: true). options: {inactivityTimeoutMs, dedupeWindowMs,
   * maxAttempts}. SERVICE_WINDOW_CLOSED for outbound free text on a WhatsApp
   * conversation whose 24-hour window is closed.
   */
  /** The opt-out record of (account, customer): {accountId, customerId, status, ...}. */
  optoutGet(accountId, customerId) {
    return JSON.parse(native.optoutGet(this[kHandle], accountId, customerId));
  }

  /** Sets the opt-out status by hand; returns whether it changed. */
  optoutSet(accountId, customerId, optedOut, { keyword = null, channel = null } = {}) {
    return native.optoutSet(this[kHandle], accountId, customerId, !!optedOut, keyword, channel);
  }

  conversationStep(event, options = null) {
    const opts = optJson(options, 'options');
    return JSON.parse(native.conversationStep(this[kHandle], docJson(event, 'event'), opts));
  }

  /** The conversation document (NOT_FOUND when there is none). */
  conversationGet(conversationId) {
    return JSON.parse(native.conversationGet(this[kHandle], conversationId));
  }

  /**
   * Applies an event ({event: 'agent_assigned' | 'escalate' | 'resolve' | ..., agentId?,
   * ...}; not a message event) to a stored conversation: {conversation, events}.
   * INVALID_TRANSITION when the table forbids it.
   */
  conversationTransition(conversationId, event) {
    const ev = docJson(event, 'event');
    return JSON.parse(native.conversationTransition(this[kHandle], conversationId, ev));
  }

  /**
   * One page {items, next} of a conversation's messages in sequence order. query: {limit,
   * cursor, direction, contentType, since, until}.
   */
  conversationHistory(conversationId, query = null) {
    const q = optJson(query, 'query');
    return JSON.parse(native.conversationHistory(this[kHandle], conversationId, q));
  }

  /** One page {items, next} of a customer's conversations. query: {limit, cursor, status}. */
  conversationList(customerId, query = null) {
    const q = optJson(query, 'query');
    return JSON.parse(native.conversationList(this[kHandle], customerId, q));
  }

  /**
   * Applies a delivery status ({conversationId, sequenceNumber, status, ...} or a status
   * event of Inbound.handle) to a recorded message: {changed, message, events}. Status
   * never moves backwards (an update that does not advance gives changed: false).
   */
  conversationDelivery(update) {
    return JSON.parse(native.conversationDelivery(this[kHandle], docJson(update, 'update')));
  }

  /** Deletes a conversation and its messages: {events: [conversation.deleted]}. */
  conversationDelete(conversationId) {
    return JSON.parse(native.conversationDelete(this[kHandle], conversationId));
  }

  /**
   * The WhatsApp customer service window at the engine's clock: {open, expiresAtMs}
   * (other channels: always open, expiresAtMs 0; 0 also when never opened).
   */
  conversationWindow(conversationId) {
    return native.conversationWindow(this[kHandle], conversationId);
  }

  /** Replaces an account's settings {inactivityTimeoutMs?, dedupeWindowMs?}. */
  conversationSettingsSet(accountId, settings) {
    native.conversationSettingsSet(this[kHandle], accountId, docJson(settings, 'settings'));
  }

  /** An account's stored settings (NOT_FOUND when none). */
  conversationSettingsGet(accountId) {
    return JSON.parse(native.conversationSettingsGet(this[kHandle], accountId));
  }

  // ---- the push device registry (omni/push.h) ----

  /**
   * Registers or refreshes a device {userId, deviceToken, platform: 'ios' | 'android' |
   * 'web', subscription? (web: PushSubscription.toJSON(), required), appId?, locale?,
   * timezone?, metadata?}: {device, created, events}. A token registered to another user
   * moves (event device.moved {previousUserId}).
   */
  deviceRegister(device) {
    return JSON.parse(native.deviceRegister(this[kHandle], docJson(device, 'device')));
  }

  /** The device record of (platform, token); NOT_FOUND when not registered. */
  deviceGet(platform, token) {
    return JSON.parse(native.deviceGet(this[kHandle], platform, token));
  }

  /**
   * Removes a device: {device, events} with device.unregistered, or with a reason (the
   * provider's, e.g. 'Unregistered', '410 Gone') device.invalidated {reason}.
   */
  deviceRemove(platform, token, reason = null) {
    return JSON.parse(native.deviceRemove(this[kHandle], platform, token, reason));
  }

  /**
   * One page {items, next} of a user's devices ({userId, platform?: only that platform})
   * or of a platform's devices ({platform}); limit 1..1000 (default 100), cursor: the
   * previous page's next.
   */
  deviceList({ userId = null, platform = null, limit = null, cursor = null } = {}) {
    const q = {};
    if (limit !== null && limit !== undefined) q.limit = limit;
    if (cursor !== null && cursor !== undefined) q.cursor = cursor;
    let user = userId;
    let plat = platform;
    if (user !== null && user !== undefined && plat !== null && plat !== undefined) {
      q.platform = plat;
      plat = null;
    }
    if (user === undefined) user = null;
    if (plat === undefined) plat = null;
    const query = Object.keys(q).length ? JSON.stringify(q) : null;
    return JSON.parse(native.deviceList(this[kHandle], user, plat, query));
  }

  /** Releases the engine (and its store and transport). Idempotent. */
  close() {
    native.close(this[kHandle]);
  }
}
defineDispose(Engine);

/**
 * A key/value store with compare-and-swap. Values are JSON documents; versions
 * are numbers (BigInt above 2^53 - 1). nowMs defaults to the engine's clock for
 * an engine's store and to Date.now() otherwise.
 */
class Store {
  #engine;

  /** Internal: use Store.open() or engine.store. */
  constructor(token, handle, engine = null) {
    if (token !== kHandle) throw new TypeError('use Store.open() or engine.store');
    this[kHandle] = handle;
    this.#engine = engine;
  }

  /** Opens a bundled backend by URI ("memory:"). */
  static open(uri = 'memory:') {
    return new Store(kHandle, native.storeOpen(uri));
  }

  static get CREATE() {
    return CREATE;
  }

  static get ANY_VERSION() {
    return ANY_VERSION;
  }

  get closed() {
    return native.isClosed(this[kHandle]);
  }

  #now(nowMs) {
    if (nowMs !== undefined && nowMs !== null) return nowMs instanceof Date ? nowMs.getTime() : nowMs;
    if (this.#engine && !this.#engine.closed) return this.#engine.nowMs();
    return Date.now();
  }

  /** {value, version, expiresAtMs}, or null when absent or expired. */
  get(ns, key, { nowMs } = {}) {
    const rec = native.storeGet(this[kHandle], ns, key, this.#now(nowMs));
    if (rec === null) return null;
    return { value: JSON.parse(rec.value), version: rec.version, expiresAtMs: rec.expiresAtMs };
  }

  /** Writes value if expectedVersion holds (CREATE, a version, ANY_VERSION); returns the new version. */
  put(ns, key, value, { expectedVersion = CREATE, expiresAtMs = 0, nowMs } = {}) {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError('value is not JSON-serializable');
    const expires = expiresAtMs instanceof Date ? expiresAtMs.getTime() : expiresAtMs;
    return native.storePut(this[kHandle], ns, key, json, expectedVersion, expires, this.#now(nowMs));
  }

  /** Deletes a record if expectedVersion (a version or ANY_VERSION) holds. */
  delete(ns, key, { expectedVersion = ANY_VERSION, nowMs } = {}) {
    native.storeDelete(this[kHandle], ns, key, expectedVersion, this.#now(nowMs));
  }

  /** One page: {items: [{key, value, version, expiresAt}], next: cursor | null}. */
  list(ns, { prefix = '', after = null, limit = 100, nowMs } = {}) {
    return JSON.parse(native.storeList(this[kHandle], ns, prefix, after, limit, this.#now(nowMs)));
  }

  /** Releases an owned store; detaches a borrowed one. Idempotent. */
  close() {
    native.close(this[kHandle]);
  }
}
defineDispose(Store);

/**
 * Executes HTTP requests in their JSON form: {method, url, headers, body |
 * bodyBase64, timeoutMs}; a Buffer body is sent as bodyBase64. Responses are
 * {status, headers, body | bodyBase64}.
 */
class Transport {
  #engine;

  /** Internal: use Transport.curl(), Transport.scripted() or engine.transport. */
  constructor(token, handle, engine = null) {
    if (token !== kHandle) throw new TypeError('use Transport.curl() or Transport.scripted()');
    this[kHandle] = handle;
    this.#engine = engine;
  }

  /** The libcurl transport (timeoutMs, connectTimeoutMs, maxResponseBytes, maxConnections, caFile, userAgent). */
  static curl(options) {
    const json = options === undefined || options === null ? null : toJson(options, 'options');
    return new Transport(kHandle, native.transportCurl(json));
  }

  /** Answers from canned responses in order and records the requests (see sent()). */
  static scripted(responses) {
    return new Transport(kHandle, native.transportScripted(toJson(responses, 'responses')));
  }

  get closed() {
    return native.isClosed(this[kHandle]);
  }

  /** Executes one request; an HTTP error status is a response, not an exception. */
  send(request) {
    return JSON.parse(native.transportSend(this[kHandle], requestJson(request)));
  }

  /** The requests a scripted transport was sent, in order. */
  sent() {
    return JSON.parse(native.transportSent(this[kHandle]));
  }

  /** Releases an owned transport; detaches a borrowed one. Idempotent. */
  close() {
    native.close(this[kHandle]);
  }
}
defineDispose(Transport);

/**
 * The asynchronous transport (omni/async.h) on Node's own event loop: many requests in
 * flight (HTTP/2 multiplexed over one connection per host, HTTP/1.1 connections kept
 * alive), never blocking the loop. send() returns a Promise of the response ({status,
 * headers, body | bodyBase64}, as Transport.send returns it); transport failures reject
 * with an OmniError (TIMEOUT, CONNECT_FAILED, TLS_ERROR, RESPONSE_TOO_LARGE,
 * TRANSPORT_ERROR; CANCELED once closed). An idle transport does not keep the process alive.
 */
/** The native handles of AsyncTransport objects, for Delivery.notifyAsync. */
const asyncHandles = new WeakMap();

class AsyncTransport {
  #h;
  #closing = null;

  /**
   * @param options {maxConcurrent, maxQueued, timeoutMs, connectTimeoutMs, maxResponseBytes,
   *   caFile, userAgent, httpVersion: 'auto' | '1.1' | '2', maxHostConnections,
   *   retryUnanswered} (see omni/async.h), its JSON text, or undefined for defaults.
   */
  constructor(options) {
    const json = options === undefined || options === null ? null : toJson(options, 'options');
    this.#h = native.asyncNew(json);
    asyncHandles.set(this, this.#h);
  }

  /** Sends one request; resolves with the response (an HTTP error status is a response). */
  send(request) {
    let json;
    try {
      json = requestJson(request);
    } catch (e) {
      return Promise.reject(e);
    }
    return native.asyncSend(this.#h, json).then((text) => JSON.parse(text));
  }

  /** Requests whose promise has not settled yet. */
  get pending() {
    return native.asyncPending(this.#h);
  }

  get closed() {
    return native.asyncIsClosed(this.#h);
  }

  /** {sent, succeeded, failed, canceled, retries, connections, inFlight, queued, peakInFlight} */
  stats() {
    return JSON.parse(native.asyncStats(this.#h));
  }

  /** Rejects what is outstanding with CANCELED, closes the connections; resolves once done. */
  close() {
    if (!this.#closing) this.#closing = native.asyncClose(this.#h);
    return this.#closing;
  }
}

// ---- templates ---------------------------------------------------------------------------

/**
 * A helper result that {{...}} inserts without escaping, as handlebars' SafeString
 * (any object with a toHTML() method is treated the same way, so Handlebars.SafeString
 * objects work too).
 */
class SafeString {
  constructor(string) {
    this.string = string;
  }

  toString() {
    return '' + this.string;
  }

  toHTML() {
    return this.toString();
  }
}

function isBytes(v) {
  return ArrayBuffer.isView(v) || v instanceof ArrayBuffer;
}

function lookupProperty(obj, name) {
  return obj !== null && obj !== undefined && Object.prototype.hasOwnProperty.call(obj, name)
    ? obj[name]
    : undefined;
}

// The helper's result as the native side takes it: a primitive, [1, text] (safe) or
// [2, json].
function helperResult(r) {
  switch (typeof r) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
      return r;
    case 'bigint':
      return Number(r);
    case 'object': {
      if (r === null) return null;
      if (typeof r.toHTML === 'function') return [1, String(r.toHTML())];
      const json = JSON.stringify(r);
      return json === undefined ? undefined : [2, json];
    }
    default:
      return undefined; // functions and symbols render as nothing
  }
}

// options.fn(ctx) / options.inverse(ctx): ctx undefined (or absent) is the current
// context; `this` and the helper's own arguments are passed back without copying;
// anything else goes over as JSON.
function renderBlock(id, inverse, given, context, self, args) {
  if (!given || context === undefined || (context === self && self !== undefined)) {
    return native.helperBlock(id, inverse, 0, null);
  }
  if (context !== null && typeof context === 'object') {
    const i = args.indexOf(context);
    if (i >= 0 && i < args.length - 1) return native.helperBlock(id, inverse, 2, i);
  }
  const json = JSON.stringify(context);
  if (json === undefined) return native.helperBlock(id, inverse, 0, null);
  return native.helperBlock(id, inverse, 1, json);
}

// Called by the addon for every host helper call.
function dispatchHelper(helper, self, args, hash, name, isBlock, id) {
  const options = { name, hash, data: undefined, lookupProperty };
  if (isBlock) {
    options.fn = function fn(context) {
      return renderBlock(id, false, arguments.length > 0, context, self, args);
    };
    options.inverse = function inverse(context) {
      return renderBlock(id, true, arguments.length > 0, context, self, args);
    };
  }
  args.push(options);
  return helperResult(helper.apply(self, args));
}

native.setHelperDispatch(dispatchHelper);

// Whether a helper reads `this` (the current context): converting the context for every
// call costs time, so it is only done for functions whose source mentions `this` (or
// whose source is not visible: native and bound functions).
function readsThis(fn) {
  let src;
  try {
    src = Function.prototype.toString.call(fn);
  } catch {
    return true;
  }
  return /\bthis\b/.test(src) || /\[native code\]\s*\}\s*$/.test(src);
}

function renderData(data) {
  if (data === undefined || data === null) return null;
  if (data instanceof Data) return data[kHandle];
  if (typeof data === 'string' || isBytes(data)) return data;
  return toJson(data, 'data');
}

/**
 * Render data parsed once (omni_data): reusable with any template. new Data(obj) serializes
 * a JSON-serializable value; new Data(text) parses JSON text (a string or bytes).
 */
class Data {
  constructor(objOrJson) {
    const json = typeof objOrJson === 'string' || isBytes(objOrJson) ? objOrJson : toJson(objOrJson, 'data');
    this[kHandle] = native.dataParse(json);
  }

  get closed() {
    return native.isClosed(this[kHandle]);
  }

  /** The document as JavaScript values. */
  value() {
    return JSON.parse(native.dataJson(this[kHandle]));
  }

  /** Releases the data (after the renders using it). Idempotent. */
  close() {
    native.close(this[kHandle]);
  }
}
defineDispose(Data);

/**
 * A compiled template: immutable, rendered many times.
 *
 * options: {partials: {name: source}, helpers: {name: function}, mode: 'handlebars' |
 * 'mustache', escape: 'html' | 'none' | 'json', strict: boolean, locale, timeZone,
 * includeZero: boolean}.
 *
 * Helpers are called as handlebars.js calls them: helper.call(context, ...args, options)
 * with options = {name, hash, fn, inverse, data, lookupProperty} (fn and inverse for block
 * calls only; data is undefined). Arguments, hash values and `this` are copies of the
 * template data. Return a string (escaped by {{ }}), a SafeString (not escaped), or any
 * other JSON value (numbers, booleans, null, objects, arrays: usable in #if and as
 * arguments of other helpers). A helper that throws fails the render with an OmniError
 * code HELPER_ERROR (the thrown value is its `cause`).
 */
class Template {
  #helpers = null;

  constructor(source, options = {}) {
    const { partials, helpers, mode, escape, strict, locale, timeZone, includeZero } = options ?? {};
    const opts = {};
    if (mode !== undefined) opts.mode = mode;
    if (escape !== undefined) opts.escape = escape;
    if (strict !== undefined) opts.strict = strict;
    if (includeZero !== undefined) opts.includeZero = includeZero;
    if (locale !== undefined && locale !== null) opts.locale = locale;
    if (timeZone !== undefined && timeZone !== null) opts.timeZone = timeZone;
    if (partials !== undefined && partials !== null) {
      opts.partials = partials instanceof Map ? Object.fromEntries(partials) : partials;
    }
    let names = null;
    let wantsThis = null;
    if (helpers !== undefined && helpers !== null) {
      const entries = helpers instanceof Map ? [...helpers.entries()] : Object.entries(helpers);
      names = [];
      wantsThis = [];
      const fns = [];
      for (const [name, fn] of entries) {
        if (typeof fn !== 'function') throw new TypeError(`helper "${name}" is not a function`);
        names.push(name);
        fns.push(fn);
        wantsThis.push(readsThis(fn));
      }
      this.#helpers = fns;
    }
    this[kHandle] = native.templateCompile(source, JSON.stringify(opts), names, wantsThis);
  }

  get closed() {
    return native.isClosed(this[kHandle]);
  }

  /** Renders with data: a Data, a JSON-serializable value, JSON text, or nothing ({}). */
  render(data) {
    return native.templateRender(this[kHandle], renderData(data), this.#helpers);
  }

  /** {variables, helpers, partials}: what the template reads. */
  inspect() {
    return JSON.parse(native.templateInspect(this[kHandle]));
  }

  /** Releases the template (after the renders in progress). Idempotent. */
  close() {
    native.close(this[kHandle]);
  }
}
defineDispose(Template);

// ---- pre-routing: rules, content analysis, workFlowPreRoute ------------------------------

function factsArg(facts) {
  if (facts instanceof Data) return facts[kHandle];
  return docJson(facts, 'facts');
}

function nowArg(now) {
  if (now === undefined || now === null) return null;
  if (typeof now === 'string') return timeParse(now);
  if (now instanceof Date) return now.getTime();
  return now;
}

/**
 * A compiled rule set (seed RoutingRule objects and/or json-rules-engine rules):
 * immutable, evaluated many times. options: {timeZone, format: 'auto' | 'routing' |
 * 'json-rules-engine'}. A bad document throws INVALID_CONFIG whose details.errors lists
 * every problem with its ruleId and JSON path.
 */
class Rules {
  constructor(rules, options = {}) {
    const { timeZone, format } = options ?? {};
    const opts = {};
    if (timeZone !== undefined && timeZone !== null) opts.timeZone = timeZone;
    if (format !== undefined && format !== null) opts.format = format;
    const src = typeof rules === 'string' || isBytes(rules) ? rules : toJson(rules, 'rules');
    this[kHandle] = native.rulesCompile(src, Object.keys(opts).length ? JSON.stringify(opts) : null);
  }

  get closed() {
    return native.isClosed(this[kHandle]);
  }

  /** The rule ids in document order. */
  get ids() {
    return native.rulesIds(this[kHandle]);
  }

  /**
   * {matched, actions, destination, tags, priority, block, escalate, autoRespond,
   * stoppedBy[, explain]} for one facts object (an object, JSON text or a Data).
   * options: {now: ms | Date | RFC 3339 (time.* facts), explain: boolean}.
   */
  eval(facts, { now = null, explain = false } = {}) {
    return JSON.parse(native.rulesEval(this[kHandle], factsArg(facts), nowArg(now), !!explain));
  }

  /** Only the ids of the matching rules, in match order. */
  match(facts, { now = null } = {}) {
    return native.rulesMatch(this[kHandle], factsArg(facts), nowArg(now));
  }

  close() {
    native.close(this[kHandle]);
  }
}
defineDispose(Rules);

/** The built-in content analyzer with a configuration (undefined: the defaults). */
class Analyzer {
  constructor(config) {
    const json = config === undefined || config === null ? null : toJson(config, 'config');
    this[kHandle] = native.analyzerCompile(json);
  }

  get closed() {
    return native.isClosed(this[kHandle]);
  }

  /**
   * Analyzes a text (options {language, sender}) or a request object {content,
   * contentType, language, sender}: {spam, spamScore, spamReasons, sentiment,
   * sentimentScore, intent, entities, language, languageConfidence}.
   */
  analyze(input, options = {}) {
    return analyzeWith(this[kHandle], input, options);
  }

  close() {
    native.close(this[kHandle]);
  }
}
defineDispose(Analyzer);

function analyzeWith(handle, input, { language = null, sender = null } = {}) {
  if (typeof input === 'string' || isBytes(input)) {
    return JSON.parse(native.analyzeText(handle, input, language, sender));
  }
  if (language !== null || sender !== null) {
    throw invalidArgument('language and sender go inside the request object');
  }
  return JSON.parse(native.analyze(handle, toJson(input, 'request')));
}

/** The built-in content analysis with the default configuration. */
function analyze(input, options = {}) {
  return analyzeWith(null, input, options);
}

/**
 * A compiled pre-route configuration (accounts, rules, business hours, auto-responses,
 * opt-out keywords, templates; see omni/preroute.h). run(engine, event) pre-routes one
 * PreRouteEvent and returns the PreRouteResult.
 */
class PreRoute {
  constructor(config) {
    const src = typeof config === 'string' || isBytes(config) ? config : toJson(config, 'config');
    this[kHandle] = native.prerouteCompile(src);
  }

  get closed() {
    return native.isClosed(this[kHandle]);
  }

  run(engine, event) {
    return JSON.parse(native.prerouteRun(engineHandle(engine), this[kHandle], docJson(event, 'event')));
  }

  close() {
    native.close(this[kHandle]);
  }
}
defineDispose(PreRoute);

// ---- AWS Signature Version 4 (omni/aws.h) ----------------------------------------------

const SIGV4_S3 = 1;
const SIGV4_UNSIGNED_PAYLOAD = 2;

function awsOptions(options) {
  const { accessKeyId, secretAccessKey, sessionToken = null, region, service, now = null } = options ?? {};
  const ms = now === null || now === undefined ? Date.now() : nowArg(now);
  return [accessKeyId, secretAccessKey, sessionToken, region, service, ms];
}

/**
 * Signs a request ({method, url, headers, body}) for an AWS service: returns it with
 * X-Amz-Date, Host, (X-Amz-Security-Token, X-Amz-Content-Sha256) and Authorization.
 * options: {accessKeyId, secretAccessKey, sessionToken, region, service, now, s3,
 * unsignedPayload}. Secrets never appear in errors.
 */
function awsSigv4Sign(request, options = {}) {
  const flags = (options.s3 ? SIGV4_S3 : 0) | (options.unsignedPayload ? SIGV4_UNSIGNED_PAYLOAD : 0);
  return JSON.parse(native.awsSigv4Sign(requestJson(request), ...awsOptions(options), flags));
}

/** {canonicalRequest, stringToSign} as awsSigv4Sign would compute them. */
function awsSigv4Canonical(request, options = {}) {
  const flags = (options.s3 ? SIGV4_S3 : 0) | (options.unsignedPayload ? SIGV4_UNSIGNED_PAYLOAD : 0);
  const [canonicalRequest, stringToSign] = native.awsSigv4Canonical(requestJson(request), ...awsOptions(options), flags);
  return { canonicalRequest, stringToSign };
}

/** A presigned URL for method and url, valid options.expires seconds (1..604800). */
function awsSigv4Presign(method, url, options = {}) {
  return native.awsSigv4Presign(method, url, ...awsOptions(options), options.expires);
}

/**
 * The outbound carrier adapters with a provider configuration (omni/outbound.h):
 * build(event) gives the exact HTTP request a provider's API takes (nothing is sent);
 * parse(carrier, response) reads the provider's answer into {success, carrierMessageId,
 * status, cost, error {code, message, retryable}, retryAfterMs}. Secrets may be
 * {env: 'NAME'}.
 */
class Outbound {
  constructor(config) {
    this[kHandle] = native.outboundNew(toJson(config, 'config'));
  }

  get closed() {
    return native.isClosed(this[kHandle]);
  }

  build(event, { carrier = null, now = null } = {}) {
    const ms = now === null || now === undefined ? Date.now() : nowArg(now);
    return JSON.parse(native.outboundBuild(this[kHandle], toJson(event, 'event'), carrier, ms));
  }

  parse(carrier, response, { now = null } = {}) {
    const ms = now === null || now === undefined ? Date.now() : nowArg(now);
    return JSON.parse(native.outboundParse(this[kHandle], carrier, requestJson(response), ms));
  }

  close() {
    native.close(this[kHandle]);
  }
}
defineDispose(Outbound);

// ---- push platform adapters (omni/push.h) ----------------------------------------------------

// A request's JSON text as an object; a binary body ("bodyBase64") becomes a Buffer "body".
function pushRequest(text) {
  const req = JSON.parse(text);
  if (req.bodyBase64 !== undefined) {
    req.body = Buffer.from(req.bodyBase64, 'base64');
    delete req.bodyBase64;
  }
  return req;
}

function pushNow(nowMs) {
  const ms = nowMs === null || nowMs === undefined ? Date.now() : nowArg(nowMs);
  return typeof ms === 'bigint' ? Number(ms) : ms;
}

// A JSON document argument for the push wrappers: text, or its bytes as a Uint8Array.
function pushDoc(value, what) {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value) && !(value instanceof Uint8Array)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  return docJson(value, what);
}

/**
 * The push platform adapters with a push configuration (omni/push.h, sans-I/O):
 * {apns?: {teamId, keyId, privateKey, topic, environment?}, fcm?: {serviceAccount,
 * projectId?}, webpush?: {vapidPrivateKey, subject, vapidExpiresSeconds?}}; secrets may be
 * {env: 'NAME'}. build(message) gives the request {method, url, headers, body} that sends
 * one device's message (body a Buffer when binary: Web Push); for FCM run the token
 * exchange first (tokenRequest() -> send it -> tokenResponse(answer)). parse(platform,
 * response) reads a platform's answer. Nothing is sent. Thread-safe; caches the APNs
 * provider token and FCM's access token.
 */
/** The native handles of Push objects, for a Delivery that sends through them. */
const pushHandles = new WeakMap();

class Push {
  #h;

  constructor(config) {
    this.#h = native.pushNew(pushDoc(config, 'config'));
    pushHandles.set(this, this.#h);
  }

  get closed() {
    return native.pushIsClosed(this.#h);
  }

  /** The request for one device's message; nowMs: Unix ms, Date, RFC 3339 text or null. */
  build(message, nowMs = null) {
    return pushRequest(native.pushBuild(this.#h, pushDoc(message, 'message'), pushNow(nowMs)));
  }

  /** The result of a platform's ('ios' | 'android' | 'web') response {status, headers?, body?}. */
  parse(platform, response, nowMs = null) {
    return JSON.parse(native.pushParse(this.#h, platform, requestJson(response), pushNow(nowMs)));
  }

  /** FCM's token request, or null while the cached access token is good. */
  tokenRequest(nowMs = null) {
    const text = native.pushTokenRequest(this.#h, pushNow(nowMs));
    return text === null ? null : pushRequest(text);
  }

  /** Reads the token endpoint's answer {status, headers?, body} into the cache. */
  tokenResponse(response, nowMs = null) {
    native.pushTokenResponse(this.#h, requestJson(response), pushNow(nowMs));
  }

  close() {
    native.pushClose(this.#h);
  }
}
defineDispose(Push);

// ---- the delivery engine (omni/delivery.h) ----------------------------------------------------

const DELIVERY_ACTIONS = [undefined, 'send', 'wait', 'done'];

// A time argument for the delivery engine: null for the engine's clock.
function deliveryNow(now) {
  const ms = nowArg(now);
  if (ms !== null && typeof ms !== 'number' && typeof ms !== 'bigint') {
    throw new TypeError('now must be Unix ms, a Date or RFC 3339 text');
  }
  return ms;
}

// The negative status of a transport failure: a number (Status.ETIMEOUT), an OmniError, or a
// code ('TIMEOUT', 'CONNECT_FAILED', ...) or Status name ('ETIMEOUT').
function transportStatusArg(error) {
  let status;
  if (error instanceof OmniError) status = error.status;
  else if (typeof error === 'number') status = error;
  else if (typeof error === 'string') {
    status = Status[error];
    if (status === undefined) {
      const hit = Object.values(Status).find((s) => s !== 0 && native.statusCode(s) === error);
      if (hit === undefined) {
        throw new OmniError(`unknown transport error code ${JSON.stringify(error)}`, {
          code: 'INVALID_ARGUMENT', status: Status.EINVAL,
        });
      }
      status = hit;
    }
  } else {
    throw new TypeError('transportError must be a status, an OmniError or a code');
  }
  if (!Number.isInteger(status) || status >= 0) {
    throw new OmniError('transportError must be a negative status (an error)', {
      code: 'INVALID_ARGUMENT', status: Status.EINVAL,
    });
  }
  return status;
}

/**
 * The delivery engine over an Engine (store, transport, clock, random) and an Outbound (the
 * providers' configuration): sends outbound messages with retries, fallback, a circuit breaker,
 * rate limits and a dead-letter queue, never losing or doubling one (omni/delivery.h). config:
 * {retryPolicy, fallback, circuitBreaker, rateLimits, leaseMs, inDoubt, retryTimeouts,
 * idempotencyTtlMs, deadLetterRetentionMs, webhookUrl}. The Delivery keeps its engine and
 * outbound alive; closing either makes it fail "... is closed".
 *
 * With a Push ({push}), it also sends to the push carriers 'apns', 'fcm' and 'webpush', and
 * notify() runs pushNotification (omni/push.h).
 *
 * send(), notify() and tick() run the HTTP requests synchronously (libcurl): the event loop is
 * blocked meanwhile. The sans-I/O job API (publish / resume -> DeliveryJob) lets you send them
 * yourself.
 */
class Delivery {
  #engine;
  #outbound;
  #push;

  constructor(engine, outbound, config = null, { push = null } = {}) {
    if (!(engine instanceof Engine)) throw new TypeError('engine must be an omni Engine');
    if (!(outbound instanceof Outbound)) throw new TypeError('outbound must be an omni Outbound');
    if (push !== null && push !== undefined && !(push instanceof Push)) {
      throw new TypeError('push must be an omni Push or null');
    }
    const ph = push ? pushHandles.get(push) : null;
    this[kHandle] = native.deliveryNew(engine[kHandle], outbound[kHandle], optJson(config, 'config'), ph);
    this.#engine = engine;
    this.#outbound = outbound;
    this.#push = push || null;
  }

  get push() {
    return this.#push;
  }

  /**
   * pushNotification: sends a PushNotificationEvent to every device of every recipient (the
   * registry's when deviceTokens is absent), after their preferences; returns the
   * PushNotificationResult {success, correlationId, deliveryResults, summary, events}.
   * options: {deadlineMs}.
   */
  notify(event, options = null) {
    return JSON.parse(native.deliveryNotify(this[kHandle], docJson(event, 'event'), optJson(options, 'options')));
  }

  /**
   * notify() on Node's event loop through an AsyncTransport: every device's send in flight at
   * once, the loop never blocked; resolves with the PushNotificationResult. Retries that are not
   * due at once stay 'pending' for tick().
   */
  notifyAsync(event, transport) {
    if (!(transport instanceof AsyncTransport)) {
      return Promise.reject(new TypeError('transport must be an omni AsyncTransport'));
    }
    try {
      const doc = docJson(event, 'event');
      return native.deliveryNotifyAsync(this[kHandle], asyncHandles.get(transport), doc).then(JSON.parse);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  get engine() {
    return this.#engine;
  }

  get outbound() {
    return this.#outbound;
  }

  get closed() {
    return native.isClosed(this[kHandle]) || this.#engine.closed || this.#outbound.closed ||
      (this.#push !== null && this.#push.closed);
  }

  /**
   * Publishes one PublishOutboundEvent and sends it through the engine's transport; returns the
   * PublishOutboundResult (also when it says 'pending' or 'failed'). options: overrides of the
   * event's options, plus deadlineMs (how long retries may be waited for inline; default 0).
   */
  send(event, options = null) {
    return JSON.parse(native.deliverySend(this[kHandle], docJson(event, 'event'), optJson(options, 'options')));
  }

  /** Sends the stored work due at `now` (default: the engine's clock), at most `limit` (1..1000). */
  tick({ now = null, limit = 100 } = {}) {
    return JSON.parse(native.deliveryTick(this[kHandle], deliveryNow(now), limit));
  }

  /** A stored message with its attempt history. */
  get(messageId) {
    return JSON.parse(native.deliveryGet(this[kHandle], messageId));
  }

  /** One page {items, next} of dead letters (limit 1..1000, default 50). */
  dlqList({ limit = null, cursor = null } = {}) {
    const query = {};
    if (limit !== null && limit !== undefined) query.limit = limit;
    if (cursor !== null && cursor !== undefined) {
      if (typeof cursor !== 'string') throw new TypeError('cursor must be a string');
      query.cursor = cursor;
    }
    return JSON.parse(native.deliveryDlqList(this[kHandle], JSON.stringify(query)));
  }

  /** One dead letter. */
  dlqGet(messageId) {
    return JSON.parse(native.deliveryDlqGet(this[kHandle], messageId));
  }

  /** Makes a dead letter due now with a fresh retry budget; tick() sends it. */
  dlqRedrive(messageId) {
    return JSON.parse(native.deliveryDlqRedrive(this[kHandle], messageId));
  }

  /** Removes one dead letter, or every one (no id); returns how many. */
  dlqPurge(messageId = null) {
    return native.deliveryDlqPurge(this[kHandle], messageId);
  }

  /** Stores one message (or finds it by its idempotency key) and returns its job. */
  publish(event, options = null, { now = null } = {}) {
    const h = native.deliveryPublish(
      this[kHandle], docJson(event, 'event'), optJson(options, 'options'), deliveryNow(now),
    );
    return new DeliveryJob(kHandle, h, this);
  }

  /** The job of a stored message, to drive a due message yourself. */
  resume(messageId, { now = null } = {}) {
    return new DeliveryJob(kHandle, native.deliveryResume(this[kHandle], messageId, deliveryNow(now)), this);
  }

  close() {
    native.close(this[kHandle]);
  }
}
defineDispose(Delivery);

/**
 * One message being driven (Delivery.publish / resume). next() says what to do: {action:
 * 'send', request} (send it, then feed() the outcome), {action: 'wait', waitUntilMs} (the
 * message is stored: tick() resumes it) or {action: 'done'}; result() is the
 * PublishOutboundResult. A job belongs to one caller at a time.
 */
class DeliveryJob {
  #delivery;

  constructor(key, handle, delivery) {
    if (key !== kHandle) throw new TypeError('use Delivery.publish() or Delivery.resume()');
    this[kHandle] = handle;
    this.#delivery = delivery;
  }

  get delivery() {
    return this.#delivery;
  }

  get closed() {
    return native.isClosed(this[kHandle]) || this.#delivery.closed;
  }

  /** {action: 'send' | 'wait' | 'done', request: HttpRequest | null, waitUntilMs: number | null}. */
  next(now = null) {
    const [action, request, waitUntilMs] = native.deliveryNext(this[kHandle], deliveryNow(now));
    return {
      action: DELIVERY_ACTIONS[action],
      request: request === null ? null : JSON.parse(request),
      waitUntilMs,
    };
  }

  /**
   * Feeds the outcome of the 'send': {response} (the provider's {status, headers, body}; an
   * HTTP error status is a response) or {transportError} (a Status, an OmniError thrown by
   * Transport.send, or a code such as 'TIMEOUT', 'CONNECT_FAILED', 'TRANSPORT_ERROR').
   */
  feed({ response = null, transportError = null, now = null } = {}) {
    const hasResponse = response !== null && response !== undefined;
    const hasError = transportError !== null && transportError !== undefined;
    if (hasResponse === hasError) throw new TypeError('feed() takes either response or transportError');
    if (hasResponse) {
      if (typeof response !== 'object') throw new TypeError('response must be an object');
      native.deliveryFeed(this[kHandle], requestJson(response), 0, deliveryNow(now));
    } else {
      native.deliveryFeed(this[kHandle], null, transportStatusArg(transportError), deliveryNow(now));
    }
  }

  /**
   * Drives the job through the engine's transport (synchronously), waiting for retries due by
   * deadlineMs (Unix ms on the engine's clock; 0: never waits); returns the result.
   */
  run(deadlineMs = 0) {
    native.deliveryRun(this[kHandle], deadlineMs);
    return this.result();
  }

  /** The job's current PublishOutboundResult. */
  result() {
    return JSON.parse(native.deliveryJobResult(this[kHandle]));
  }

  close() {
    native.close(this[kHandle]);
  }
}
defineDispose(DeliveryJob);

/**
 * The notification orchestrator (omni/orchestrator.h) over a Delivery: one NotificationRequest
 * {userId, messageType: 'urgent' | 'important' | 'informational', content, requestId?,
 * channels?, scheduledFor?, expiresAt?} to the user's channels (urgent: push and SMS together;
 * important: preferred, then the next on failure; informational: preferred only), after the
 * preferences of engine.notifyPrefsPut (opt-outs, do-not-disturb, quiet hours that defer).
 * config: {channels: {sms: {carrier, from?}, email: {carrier}, whatsapp: {...}, push: {}},
 * defaultLocale?, accountId?}. Calls block the event loop while they send (libcurl).
 */
class Orchestrator {
  #delivery;

  constructor(delivery, config) {
    if (!(delivery instanceof Delivery)) throw new TypeError('delivery must be an omni Delivery');
    this[kHandle] = native.orchestratorNew(delivery[kHandle], toJson(config, 'config'));
    this.#delivery = delivery;
  }

  get delivery() {
    return this.#delivery;
  }

  get closed() {
    return native.isClosed(this[kHandle]) || this.#delivery.closed;
  }

  /** {success, userId, messageType, channels: [{channel, status, reason?, deliveries}], ...} */
  send(request, options = null) {
    return JSON.parse(native.notifySend(this[kHandle], toJson(request, 'request'), optJson(options, 'options')));
  }

  /** {notifications: [...]} -> {results: [{index, result | error}], summary} */
  sendBulk(bulk, options = null) {
    return JSON.parse(native.notifySendBulk(this[kHandle], toJson(bulk, 'bulk'), optJson(options, 'options')));
  }

  close() {
    native.close(this[kHandle]);
  }
}
defineDispose(Orchestrator);

// ---- channel: SMS, validation, formatting ---------------------------------------------------

/** {encoding: 'GSM-7' | 'UCS-2', segments, units, parts: [...]} of an SMS body. */
function smsSegments(text) {
  return JSON.parse(native.smsSegments(text));
}

/** {encoding, segments, units} of an SMS body (no parts). */
function smsCount(text) {
  return native.smsCount(text);
}

/**
 * Validates a template for 'sms' | 'email' | 'whatsapp' | 'push'. template: a
 * NotificationTemplate object (or its JSON text) or a bare body. options: {data,
 * maxSmsSegments, whatsappParameters, locale}. Returns {valid, channel, findings, sms?, push?}.
 */
function templateValidate(template, channel, options = {}) {
  const doc = typeof template === 'string' || isBytes(template) ? template : toJson(template, 'template');
  const { data, maxSmsSegments, whatsappParameters, locale } = options ?? {};
  const opts = {};
  if (data !== undefined) opts.data = typeof data === 'string' ? JSON.parse(data) : data;
  if (maxSmsSegments !== undefined) opts.maxSmsSegments = maxSmsSegments;
  if (whatsappParameters !== undefined) opts.whatsappParameters = whatsappParameters;
  if (locale !== undefined) opts.locale = locale;
  const json = Object.keys(opts).length ? JSON.stringify(opts) : null;
  return JSON.parse(native.templateValidate(doc, channel, json));
}

function localeOption(options) {
  return typeof options === 'string' ? { locale: options } : options ?? {};
}

/**
 * Intl.NumberFormat(locale, {minimumFractionDigits, maximumFractionDigits}).format(value)
 * for the built-in locales. options: a locale, or {locale, minimumFractionDigits,
 * maximumFractionDigits}.
 */
function formatNumber(value, options) {
  const { locale = null, minimumFractionDigits = null, maximumFractionDigits = null } = localeOption(options);
  return native.formatNumber(value, locale, minimumFractionDigits, maximumFractionDigits);
}

/** Intl.NumberFormat(locale, {style: 'currency', currency}).format(value). options: a locale or {locale}. */
function formatCurrency(value, currency, options) {
  const { locale = null } = localeOption(options);
  return native.formatCurrency(value, currency, locale);
}

/**
 * Formats a time (RFC 3339 text, a Date, or Unix ms) with a style ('short', 'medium'
 * (default), 'long', 'full') or a pattern ('d MMM yyyy h:mm a'). options: a pattern, or
 * {pattern, timeZone, locale}.
 */
function formatDate(value, options) {
  const { pattern = null, timeZone = null, locale = null } =
    typeof options === 'string' ? { pattern: options } : options ?? {};
  let when = value;
  if (value instanceof Date) when = value.toISOString();
  else if (typeof value === 'number' || typeof value === 'bigint') when = native.timeFormat(value);
  return native.formatDate(when, pattern, timeZone, locale);
}

// ---- carriers' inbound webhooks and identities (omni/carrier.h, omni/identity.h) -------

/** The UUIDv5 namespace of every event's correlationId (carrier + ':' + message id). */
const CARRIER_MESSAGE_NAMESPACE = '0db08d7e-55c5-5152-9b91-0d896bfc46cf';
/** The UUIDv5 namespace of anonymous and new customer ids. */
const IDENTITY_NAMESPACE = 'ca92a1e2-b2fd-54d1-bf49-15373b45d00d';

const REQUEST_KEYS = new Set(['method', 'url', 'headers', 'body']);

function invalidArgument(message) {
  return new OmniError(message, {
    code: 'INVALID_ARGUMENT',
    status: Status.EINVAL,
    retryable: false,
  });
}

/** A request for the addon: its JSON text as it is, or {method, url, headers: pairs, body}. */
function webhookRequest(request) {
  if (typeof request === 'string' || request instanceof Uint8Array) return request;
  if (!request || typeof request !== 'object' || Array.isArray(request)) {
    throw new TypeError('request must be an object or its JSON text');
  }
  for (const key of Object.keys(request)) {
    if (!REQUEST_KEYS.has(key)) throw invalidArgument(`request: unknown member '${key}'`);
  }
  if (request.method === undefined || request.url === undefined) {
    throw invalidArgument('request: method and url are required');
  }
  const { headers, body } = request;
  let pairs = [];
  if (headers === undefined || headers === null) {
    pairs = [];
  } else if (Array.isArray(headers)) {
    pairs = headers;
  } else if (headers instanceof Map) {
    pairs = [...headers.entries()];
  } else if (typeof headers === 'object') {
    pairs = Object.entries(headers);
  } else {
    throw new TypeError('request headers must be an object or an array of [name, value] pairs');
  }
  if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw new TypeError('request body must be a string or a Buffer');
  }
  return { method: request.method, url: request.url, headers: pairs, body: body ?? null };
}

function engineHandle(engine) {
  if (engine === undefined || engine === null) return null;
  if (!(engine instanceof Engine)) throw new TypeError('engine must be an omni Engine');
  return engine[kHandle];
}

/**
 * A compiled inbound configuration (secrets are copied and never echoed): {publicBaseUrl,
 * trustForwardedHeaders, maxBodyBytes, defaultRegion, carriers: {twilio: {authToken},
 * whatsapp: {appSecret, verifyToken}, ...}}. Immutable; release with close().
 *
 * A request is {method, url, headers: {name: value} | [[name, value], ...] | Map, body:
 * string | Buffer} or its JSON text ({method, url, headers, body | bodyBase64}).
 */
class Inbound {
  constructor(config) {
    if (config === undefined || config === null) throw new TypeError('config is required');
    this[kHandle] = native.inboundNew(toJson(config, 'config'));
  }

  get closed() {
    return native.isClosed(this[kHandle]);
  }

  /**
   * Verifies and parses a request: {carrier, events: [...], response: {status, headers,
   * body}} (the response is what to answer the carrier). The third argument is {engine}
   * or the Engine itself (its clock: timestamps, MessageBird's JWT; default: the system).
   */
  handle(carrier, request, options = {}) {
    const engine = options instanceof Engine ? options : options?.engine;
    const req = webhookRequest(request);
    return JSON.parse(native.inboundHandle(this[kHandle], engineHandle(engine), carrier, req));
  }

  /** Verifies only (e.g. Meta's GET handshake); throws SIGNATURE_INVALID etc. */
  verify(carrier, request, options = {}) {
    const engine = options instanceof Engine ? options : options?.engine;
    const req = webhookRequest(request);
    native.inboundVerify(this[kHandle], engineHandle(engine), carrier, req);
  }

  /** Releases the configuration. Idempotent. */
  close() {
    native.close(this[kHandle]);
  }
}
defineDispose(Inbound);

/** A phone number as people and carriers write it -> E.164; region: ISO 3166-1 alpha-2. */
function phoneToE164(raw, region = null) {
  return native.phoneToE164(raw, region);
}

/** {input, e164, countryCode, region, nationalNumber, extension?}. */
function phoneParse(raw, region = null) {
  return JSON.parse(native.phoneParse(raw, region));
}

/** The identity-matching form of an E.164 number (Brazil's ninth digit on request). */
function phoneIdentityKey(e164, { brazilNinthDigit = false } = {}) {
  return native.phoneIdentityKey(e164, brazilNinthDigit ? 1 : 0);
}

/** Seed 001's normalizeIdentifier: senderIdentifier -> '+E164', 'wa:+E164', 'lc:<id>', ... */
function identityNormalize(carrier, sender, region = null) {
  return native.identityNormalize(carrier, toJson(sender, 'sender'), region);
}

// ---- conversations: the pure parts (omni/conversation.h) ------------------------------

/** The conversation statuses, by number: 'new', 'active', 'resolved', ... */
const CONVERSATION_STATUSES = Object.freeze(native.conversationNames(false));
/** The conversation events, by number: 'inbound_message', 'outbound_message', ... */
const CONVERSATION_EVENTS = Object.freeze(native.conversationNames(true));

/**
 * The transition table: the status after `event` in `status` (names or numbers), e.g.
 * conversationNextStatus('resolved', 'inbound_message') === 'reopened'. INVALID_TRANSITION
 * when the table forbids it, INVALID_ARGUMENT for an unknown name.
 */
function conversationNextStatus(status, event) {
  return native.conversationNextStatus(status, event);
}

/**
 * Pure transition of a conversation document by an event document: {conversation,
 * events}. nowMs (a number, BigInt or Date; default Date.now()) is the event's time
 * when it has no "at".
 */
function conversationApply(conversation, event, nowMs = Date.now()) {
  const doc = docJson(conversation, 'conversation');
  return JSON.parse(native.conversationApply(doc, docJson(event, 'event'), timeArg(nowMs)));
}

/**
 * A DynamoDB item ({name: AttributeValue}, e.g. a stream record's NewImage) -> plain JSON
 * (S string, N number, B base64 string, BOOL, NULL, M, L, SS/NS/BS arrays). N keeps its
 * digits in the JSON text ({raw: true} returns that text); JSON.parse rounds numbers
 * beyond 2^53 to doubles.
 */
function dynamodbUnmarshall(item, { raw = false } = {}) {
  const text = native.dynamodbUnmarshall(docJson(item, 'item'));
  return raw ? text : JSON.parse(text);
}

/**
 * A DynamoDB Streams event {Records: [...]} of the "conversations" and "messages" tables ->
 * {events: [change events], records: [{eventID, status: 'success' | 'skipped' | 'failed',
 * error?}]}. nowMs (default Date.now()) is the time of records without
 * ApproximateCreationDateTime.
 */
function dynamodbStreamEvents(event, nowMs = Date.now()) {
  return JSON.parse(native.dynamodbStreamEvents(docJson(event, 'event'), timeArg(nowMs)));
}

// ---- Web Push (RFC 8291 encryption, RFC 8292 VAPID) ------------------------------------

/**
 * The aes128gcm body (a Buffer) of a push message for a subscription: uaPublic = its
 * keys.p256dh (65 bytes), authSecret = keys.auth (16 bytes). options.salt (16 bytes) and
 * options.senderPrivate (32 bytes) only for reproducible output (RFC 8291 Appendix A);
 * options.recordSize 18..2147483647 (default 4096).
 */
function webpushEncrypt(plaintext, uaPublic, authSecret, options = {}) {
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  return native.webpushEncrypt(data, uaPublic, authSecret, options.salt ?? null,
    options.senderPrivate ?? null, options.recordSize ?? 0);
}

/** The user agent's side: the plaintext (a Buffer) of an aes128gcm push body. */
function webpushDecrypt(body, uaPrivate, authSecret) {
  return native.webpushDecrypt(body, uaPrivate, authSecret);
}

/** A new P-256 key pair {publicKey (65 bytes), privateKey (32 bytes)} from the engine's
 * random hook (default: OS random). */
function webpushKeypair(engine = null) {
  const [publicKey, privateKey] = native.webpushKeypair(engineHandle(engine));
  return { publicKey, privateKey };
}

/** The VAPID Authorization header value "vapid t=<JWT>, k=<public key>" for endpoint. */
function webpushVapid(endpoint, subject, privateKey, { nowMs = Date.now(), expires = 43200 } = {}) {
  return native.webpushVapid(endpoint, subject, privateKey, timeArg(nowMs), expires);
}

// ---- the engine configuration (omni/config.h) ------------------------------------------------

// A configuration document: an object (serialized), JSON text, or its bytes.
function configDoc(value) {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value) && !(value instanceof Uint8Array)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  if (value === undefined || value === null) throw new TypeError('config must be an object or JSON text');
  return docJson(value, 'config');
}

function parseOrNull(text) {
  return text === null ? null : JSON.parse(text);
}

// Config -> its native handle (for the wrappers that take one).
const configHandles = new WeakMap();

/**
 * The engine configuration (omni/config.h): one document for the whole inbound workflow --
 * {version: 1, storage, transport, inbound, defaults, accounts: [{accountId, addresses,
 * carriers, outbound, push, timeZone, locale, businessHours, rules, autoResponses, optOut,
 * ...}], templates, analyzer, delivery, workflow: {steps}}; secrets are strings or
 * {env: 'NAME'} and are never echoed. An invalid document throws OmniError INVALID_CONFIG
 * whose details.errors lists {path, message, code} for every error; Config.check(doc) reports
 * without throwing. apply(engine) writes the routing records, conversation settings and
 * templates into the engine's store (idempotent). Immutable: share it freely.
 */
class Config {
  #h;

  constructor(doc) {
    this.#h = native.configNew(configDoc(doc));
    configHandles.set(this, this.#h);
  }

  /** {valid, errors: [{path, message, code}], errorCount, accounts, addresses, templates,
   *  carriers, outbound, push, steps, storage?}; never throws for a bad document. */
  static check(doc) {
    return JSON.parse(native.configCheck(configDoc(doc)));
  }

  get closed() {
    return native.configIsClosed(this.#h);
  }

  /** Writes routing records, conversation settings and templates where they differ:
   *  {routing: {written, unchanged}, conversationSettings: {...}, templates: {...}}. */
  apply(engine) {
    return JSON.parse(native.configApply(this.#h, engineHandle(engine)));
  }

  /** The accountIds in document order. */
  get accountIds() {
    return native.configAccountIds(this.#h);
  }

  /** The accountId owning an address (+E.164, shortcode:N, mss:SID, waba:ID, business:ID),
   *  or null; a string that is no address throws INVALID_ARGUMENT. */
  accountId(address) {
    return native.configAccount(this.#h, address);
  }

  /** The settings (without secrets) of the account owning an address, or null. */
  account(address) {
    const id = this.accountId(address);
    return id === null ? null : this.accountSettings(id);
  }

  /** An account's settings by id (NOT_FOUND when it is not listed). */
  accountSettings(accountId) {
    return JSON.parse(native.configAccountJson(this.#h, accountId));
  }

  get summary() {
    return JSON.parse(native.configSummary(this.#h));
  }

  /** {storage, transport?}: the configuration for new Engine(...). */
  get engineConfig() {
    return JSON.parse(native.configEngineJson(this.#h));
  }

  get storage() {
    return native.configStorage(this.#h);
  }

  get transport() {
    return parseOrNull(native.configTransport(this.#h));
  }

  get delivery() {
    return JSON.parse(native.configDelivery(this.#h));
  }

  /** {steps: [...]} with every default filled in. */
  get workflow() {
    return JSON.parse(native.configWorkflow(this.#h));
  }

  get steps() {
    return this.workflow.steps;
  }

  /** A step by id, or null. */
  step(stepId) {
    return parseOrNull(native.configStep(this.#h, stepId));
  }

  /** A new Engine over the document's storage and transport, plus extra members
   *  (clock, random, log). */
  engine(extra = {}) {
    return new Engine({ ...this.engineConfig, ...extra });
  }

  close() {
    native.configClose(this.#h);
  }
}
defineDispose(Config);

module.exports = {
  OmniError,
  Status,
  Limit,
  LIMITS,
  NAMESPACE_DNS,
  NAMESPACE_URL,
  NAMESPACE_OID,
  NAMESPACE_X500,
  CREATE,
  ANY_VERSION,
  version,
  versionNumber,
  limit,
  strerror,
  statusCode,
  base64Encode,
  base64Decode,
  base64urlEncode,
  base64urlDecode,
  urlEncode,
  urlDecode,
  urlDecodeBuffer,
  formEncode,
  formDecode,
  utf8Validate,
  hashSize,
  hashDigest,
  hmac,
  ctEqual,
  jwtSign,
  jwtVerify,
  timeParse,
  timeFormat,
  uuid5,
  uuid7,
  uuidParse,
  uuidFormat,
  Engine,
  Store,
  Transport,
  AsyncTransport,
  Template,
  Data,
  SafeString,
  smsSegments,
  smsCount,
  templateValidate,
  formatNumber,
  formatCurrency,
  formatDate,
  CARRIER_MESSAGE_NAMESPACE,
  IDENTITY_NAMESPACE,
  Inbound,
  phoneToE164,
  phoneParse,
  phoneIdentityKey,
  identityNormalize,
  CONVERSATION_STATUSES,
  CONVERSATION_EVENTS,
  conversationNextStatus,
  conversationApply,
  dynamodbUnmarshall,
  dynamodbStreamEvents,
  Rules,
  Analyzer,
  PreRoute,
  analyze,
  awsSigv4Sign,
  awsSigv4Canonical,
  awsSigv4Presign,
  webpushEncrypt,
  webpushDecrypt,
  webpushKeypair,
  webpushVapid,
  Outbound,
  Push,
  Delivery,
  DeliveryJob,
  Orchestrator,
  Config,
  addonPath: native.path,
};
