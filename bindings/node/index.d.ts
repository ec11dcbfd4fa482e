/// <reference types="node" />
/**
 * omni: Node.js bindings for libomni, the message-processing core of an
 * omnichannel messaging platform.
 *
 * Store versions are uint64 values: they are numbers while they fit
 * Number.MAX_SAFE_INTEGER (2^53 - 1, always the case in practice) and BigInts
 * above that. Arguments that take a version or a time accept a number or a
 * BigInt.
 */

/** Bytes: a Buffer / Uint8Array / other TypedArray / DataView / ArrayBuffer, or a string (UTF-8). */
export type BytesLike = string | ArrayBufferView | ArrayBuffer;

/** A uint64 value: number when <= 2^53 - 1, else bigint. */
export type Version = number | bigint;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A libomni call failed. */
export class OmniError extends Error {
  constructor(
    message: string,
    fields?: { code?: string; status?: number; retryable?: boolean; details?: unknown },
  );
  readonly name: 'OmniError';
  /** Upper-case code such as "VERSION_CONFLICT". */
  code: string;
  /** The negative status (see Status). */
  status: number;
  /** True when retrying the same call later may succeed. */
  retryable: boolean;
  /** Structured details (parsed JSON) or null. */
  details: unknown;
  /** utf8Validate(): the offset of the first invalid byte. */
  offset?: number;
  /** The seed's WorkflowError form. */
  toJSON(): { code: string; message: string; retryable: boolean; details?: unknown };
}

export const Status: Readonly<{
  OK: 0;
  EINVAL: -1;
  ENOMEM: -2;
  EJSON: -3;
  ETOOLARGE: -4;
  ETOODEEP: -5;
  ENOTFOUND: -6;
  ECONFLICT: -7;
  EEXISTS: -8;
  ESTORAGE: -9;
  ETRANSPORT: -10;
  ETIMEOUT: -11;
  ECONNECT: -12;
  ETLS: -13;
  EHOOK: -14;
  EVERSION: -15;
  EENCODING: -16;
  ESIGNATURE: -17;
  EEXPIRED: -18;
  ENOTYET: -19;
  EKEY: -20;
  ECRYPTO: -21;
  ETIME: -22;
  ECONFIG: -23;
  EUNSUPPORTED: -24;
  ERESPONSE: -25;
  EEXHAUSTED: -26;
  EINTERNAL: -27;
  ESYNTAX: -28;
  EMISSING: -29;
  EHELPER: -30;
  ECARRIER: -31;
  EWEBHOOK: -32;
  EIDENTIFIER: -33;
  EIDENTITY: -34;
  EROUTING: -35;
  ETRANSITION: -36;
  EWINDOW: -37;
  ECANCELED: -38;
}>;

export type LimitName =
  | 'JSON_BYTES'
  | 'JSON_DEPTH'
  | 'CONFIG_BYTES'
  | 'STORE_NS'
  | 'STORE_KEY'
  | 'STORE_VALUE'
  | 'HTTP_BODY'
  | 'HTTP_HEADERS'
  | 'JWT_BYTES'
  | 'CODEC_BYTES';

export const Limit: Readonly<Record<LimitName, number>>;
/** Every input limit by name. */
export const LIMITS: Readonly<Record<LimitName, number>>;

export const NAMESPACE_DNS: '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
export const NAMESPACE_URL: '6ba7b811-9dad-11d1-80b4-00c04fd430c8';
export const NAMESPACE_OID: '6ba7b812-9dad-11d1-80b4-00c04fd430c8';
export const NAMESPACE_X500: '6ba7b814-9dad-11d1-80b4-00c04fd430c8';

/** put()'s expectedVersion: create only (ALREADY_EXISTS when present). */
export const CREATE: 0;
/** put()'s / delete()'s expectedVersion: any current version (2^64 - 1). */
export const ANY_VERSION: bigint;

/** The path the addon was loaded from. */
export const addonPath: string;

/** The library's version string, e.g. "0.1.0". */
export function version(): string;
/** major * 10000 + minor * 100 + patch. */
export function versionNumber(): number;
/** The value of an input limit by id or name; 0 for an unknown one. */
export function limit(id: number | LimitName | Lowercase<LimitName>): number;
/** Static description of a status. */
export function strerror(status: number): string;
/** Upper-case code of a status ("UNKNOWN_ERROR" for unknown numbers). */
export function statusCode(status: number): string;

/** Standard base64 with padding (RFC 4648 section 4). */
export function base64Encode(data: BytesLike): string;
/** Strict standard base64. */
export function base64Decode(text: BytesLike): Buffer;
/** URL-safe base64 without padding (RFC 4648 section 5). */
export function base64urlEncode(data: BytesLike): string;
/** URL-safe base64; padding optional. */
export function base64urlDecode(text: BytesLike): Buffer;
/** RFC 3986 percent-encoding with upper-case hex. */
export function urlEncode(text: BytesLike): string;
/** Decodes %XX sequences; the result must be UTF-8 (TypeError otherwise). */
export function urlDecode(text: BytesLike): string;
/** Decodes %XX sequences into bytes. */
export function urlDecodeBuffer(text: BytesLike): Buffer;
/** application/x-www-form-urlencoded. */
export function formEncode(
  pairs:
    | ReadonlyArray<readonly [string, string]>
    | Readonly<Record<string, string>>
    | Map<string, string>
    | URLSearchParams,
): string;
/** [[name, value], ...] in order, repeated names kept. */
export function formDecode(body: BytesLike): Array<[string, string]>;
/** Throws OmniError INVALID_ENCODING (with .offset) unless data is valid UTF-8. */
export function utf8Validate(data: BytesLike): void;

export type HashName = 'sha1' | 'sha256' | 'sha512' | 'SHA-1' | 'SHA-256' | 'SHA-512';

/** Output size in bytes (20, 32, 64); 0 for an unknown hash. */
export function hashSize(name: HashName | string): number;
export function hashDigest(name: HashName | string, data: BytesLike): Buffer;
/** HMAC (RFC 2104). */
export function hmac(name: HashName | string, key: BytesLike, data: BytesLike): Buffer;
/** Constant-time equality; false for different lengths. */
export function ctEqual(a: BytesLike, b: BytesLike): boolean;

export type JwtAlg = 'HS256' | 'RS256' | 'ES256';

export interface JwtSignOptions {
  alg: JwtAlg;
  /** HS256: the raw secret; RS256 / ES256: a PEM private key. */
  key: BytesLike;
  claims: Record<string, unknown> | string;
  /** Extra header fields, e.g. {kid: 'ABC123'}; alg and typ are always set. */
  header?: Record<string, unknown> | string | null;
}

export interface JwtVerifyOptions {
  alg: JwtAlg;
  /** HS256: the raw secret; RS256 / ES256: a PEM public key, private key or certificate. */
  key: BytesLike;
  /** Seconds of tolerance for exp / nbf. */
  leeway?: number | bigint;
  /** exp / nbf are checked against this engine's clock (system clock when absent). */
  engine?: Engine | null;
}

export function jwtSign(options: JwtSignOptions): string;
export function jwtVerify(token: BytesLike, options: JwtVerifyOptions): Record<string, unknown>;

/** RFC 3339 date-time -> Unix milliseconds. */
export function timeParse(text: BytesLike): number;
/** Unix milliseconds (or a Date) -> "YYYY-MM-DDTHH:MM:SS.mmmZ". */
export function timeFormat(ms: number | bigint | Date): string;

/** Name-based UUIDv5 (RFC 9562). */
export function uuid5(namespace: string, name: BytesLike): string;
/** Time-ordered UUIDv7 from the engine's clock and random hook (system when absent). */
export function uuid7(engine?: Engine | null): string;
/** The 16 bytes of a UUID string. */
export function uuidParse(text: BytesLike): Buffer;
/** The canonical lower-case form of 16 bytes. */
export function uuidFormat(bytes: BytesLike): string;

export interface EngineConfig {
  storage?: string;
  transport?:
    | ({ type: 'curl' } & CurlOptions)
    | { type: 'scripted'; responses: ScriptedResponse[] }
    | { type: 'none' };
  clock?: { fixed: string };
  random?: { seed: number };
  log?: { level: 'debug' | 'info' | 'warn' | 'error' | 'off' };
}

/** An engine: configuration plus hooks. */
export class Engine {
  constructor(config?: EngineConfig | string | null, options?: EngineOptions);
  readonly closed: boolean;
  /** The engine's clock, Unix milliseconds. */
  nowMs(): number;
  /** n bytes from the engine's random hook. */
  random(n: number): Buffer;
  /** The engine's store (borrowed; keeps the engine alive). */
  readonly store: Store;
  /** The engine's transport (borrowed), or null. */
  readonly transport: Transport | null;
  /** Creates a NotificationTemplate (version 1); returns the stored document. */
  templateCreate(doc: NotificationTemplateInput | string): NotificationTemplate;
  /**
   * Replaces a template (by its templateId) with a new version; the previous one stays
   * readable. expectedVersion 0 (default): any; else VERSION_CONFLICT unless current.
   */
  templateUpdate(
    doc: NotificationTemplateInput | string,
    options?: { expectedVersion?: number | bigint },
  ): NotificationTemplate;
  /** The current document (version 0, default) or a kept version. */
  templateGet(templateId: string, options?: { version?: number | bigint }): NotificationTemplate;
  /** Deletes a template and its kept versions. */
  templateDelete(templateId: string): void;
  /** One page in templateId order (limit 1..1000, default 100). */
  templateList(options?: {
    filter?: { category?: TemplateCategory; channel?: Channel; isActive?: boolean } | string | null;
    after?: string | null;
    limit?: number;
  }): { items: NotificationTemplate[]; next: string | null };
  /**
   * Renders a stored template for a locale with the fallback chain locale -> its language
   * -> defaultLocale -> the template's defaultLocale -> 'en'.
   */
  templateRender(
    templateId: string,
    options?: {
      locale?: string | null;
      defaultLocale?: string | null;
      /** Default 'sms'. */
      channel?: Channel;
      data?: unknown;
    },
  ): StoredRenderResult;

  // ---- routing, customers and identities (omni/identity.h) ----

  /**
   * Creates or replaces the routing of a recipient ('+E164', 'shortcode:<digits>',
   * 'mss:<sid>', 'waba:<id>', 'business:<id>').
   */
  routingSet(recipientKey: string, routing: Routing | string): void;
  /** The stored routing (NOT_FOUND when there is none). */
  routingGet(recipientKey: string): Routing;
  /** Removes a recipient's routing (NOT_FOUND when there is none). */
  routingDelete(recipientKey: string): void;
  /** Creates (a customerId is made when absent) or replaces a customer; returns the record. */
  customerPut(customer: Customer | string): Customer & { customerId: string };
  /** The stored customer record (IDENTITY_NOT_FOUND when there is none). */
  customerGet(customerId: string): Customer & { customerId: string };
  notifyPrefsPut(prefs: Record<string, unknown> | string): Record<string, unknown>;
  notifyPrefsGet(userId: string): Record<string, unknown>;
  notifyPrefsDelete(userId: string): void;
  /** Links a normalized identifier ('+E164', 'wa:+E164', 'lc:<id>', ...) to a customer. */
  identityLink(customerId: string, identifier: string): void;
  /** Removes an identifier's link (NOT_FOUND when it has none). */
  identityUnlink(identifier: string): void;
  /**
   * IdentityLookupEvent -> IdentityLookupResult. ROUTING_RESOLUTION_FAILED (retryable)
   * when the recipient has no routing.
   */
  identityLookup(
    event: InboundMessageEvent | Record<string, unknown> | string,
    options?: { defaultRegion?: string; brazilNinthDigit?: boolean } | string | null,
  ): IdentityLookupResult;

  // ---- conversations (omni/conversation.h) ----

  /**
   * Seed 001's workFlowBiDirectional: finds, continues, reopens or creates the customer's
   * conversation on the channel and account and records the message exactly once (the
   * same message again returns the first result with duplicate: true and no events).
   * SERVICE_WINDOW_CLOSED: outbound free text on a WhatsApp conversation whose 24-hour
   * window is closed. VERSION_CONFLICT (retryable) after maxAttempts lost races.
   */
  /** The opt-out record of (account, customer). */
  optoutGet(accountId: string, customerId: string): OptOutRecord;
  /** Sets the opt-out status by hand; returns whether it changed. */
  optoutSet(
    accountId: string,
    customerId: string,
    optedOut: boolean,
    options?: { keyword?: string | null; channel?: string | null },
  ): boolean;
  conversationStep(
    event: BiDirectionalEvent | IdentityLookupResult | string | Uint8Array,
    options?: ConversationStepOptions | string | null,
  ): BiDirectionalResult;
  /** The conversation document (NOT_FOUND when there is none). */
  conversationGet(conversationId: string): Conversation;
  /**
   * Applies an event (not a message event: those go through conversationStep) to a stored
   * conversation. INVALID_TRANSITION when the table or a precondition forbids it.
   */
  conversationTransition(
    conversationId: string,
    event: ConversationEventInput | string | Uint8Array,
  ): ConversationApplyResult;
  /** One page of a conversation's messages in sequence order (may come back short with next set). */
  conversationHistory(
    conversationId: string,
    query?: ConversationHistoryQuery | string | null,
  ): Page<MessageRecord>;
  /** One page of a customer's conversations (every channel and account). */
  conversationList(customerId: string, query?: ConversationListQuery | string | null): Page<Conversation>;
  /** Applies a delivery status to a recorded message; status never moves backwards. */
  conversationDelivery(update: DeliveryUpdate | InboundStatusEvent | string | Uint8Array): DeliveryResult;
  /** Deletes a conversation, its messages and its index entry. */
  conversationDelete(conversationId: string): { events: ChangeEvent[] };
  /**
   * The WhatsApp customer service window at the engine's clock (other channels: always
   * open, expiresAtMs 0; expiresAtMs is 0 as well when it never opened).
   */
  conversationWindow(conversationId: string): { open: boolean; expiresAtMs: number };
  /** Replaces an account's settings. */
  conversationSettingsSet(accountId: string, settings: ConversationSettings | string | Uint8Array): void;
  /** An account's stored settings (NOT_FOUND when none). */
  conversationSettingsGet(accountId: string): ConversationSettings;
  /** Registers or refreshes a push device; a token registered to another user moves. */
  deviceRegister(device: DeviceInput | string | Uint8Array): DeviceRegisterResult;
  /** The device record of (platform, token); NOT_FOUND when not registered. */
  deviceGet(platform: DevicePlatform, token: string): DeviceRecord;
  /** Removes a device; with a reason the event is device.invalidated. */
  deviceRemove(
    platform: DevicePlatform,
    token: string,
    reason?: string | null,
  ): { device: DeviceRecord; events: DeviceEvent[] };
  /** One page of a user's devices (userId, optionally one platform) or a platform's devices. */
  deviceList(query: DeviceListQuery): Page<DeviceRecord>;
  /** Releases the engine (and its store and transport); idempotent. */
  close(): void;
}

export interface StoreRecord<T = Json> {
  value: T;
  version: Version;
  /** Absolute expiry in Unix ms; 0 for never. */
  expiresAtMs: number;
}

export interface StoreListPage<T = Json> {
  items: Array<{ key: string; value: T; version: number; expiresAt: string | null }>;
  /** Pass as `after` to get the next page; null when complete. */
  next: string | null;
}

export type TimeArg = number | bigint | Date;

/** A key/value store with compare-and-swap. */
export class Store {
  private constructor();
  /** Opens a bundled backend by URI ("memory:"). */
  static open(uri?: string): Store;
  static readonly CREATE: 0;
  static readonly ANY_VERSION: bigint;
  readonly closed: boolean;
  get<T = Json>(ns: string, key: string, options?: { nowMs?: TimeArg }): StoreRecord<T> | null;
  put(
    ns: string,
    key: string,
    value: unknown,
    options?: { expectedVersion?: Version; expiresAtMs?: TimeArg; nowMs?: TimeArg },
  ): Version;
  delete(ns: string, key: string, options?: { expectedVersion?: Version; nowMs?: TimeArg }): void;
  list<T = Json>(
    ns: string,
    options?: { prefix?: string; after?: string | null; limit?: number; nowMs?: TimeArg },
  ): StoreListPage<T>;
  /** Releases an owned store; detaches a borrowed one; idempotent. */
  close(): void;
}

export type Headers = Record<string, string> | Array<[string, string]>;

export interface HttpRequest {
  method: string;
  url: string;
  headers?: Headers;
  /** Text, or bytes (sent as bodyBase64). */
  body?: string | Uint8Array;
  bodyBase64?: string;
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body?: string;
  bodyBase64?: string;
}

export interface SentRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  bodyBase64?: string;
  timeoutMs?: number;
}

export interface CurlOptions {
  timeoutMs?: number;
  connectTimeoutMs?: number;
  maxResponseBytes?: number;
  maxConnections?: number;
  caFile?: string;
  userAgent?: string;
}

export type ScriptedResponse =
  | { status: number; headers?: Headers; body?: string; bodyBase64?: string }
  | { error: 'TIMEOUT' | 'CONNECT_FAILED' | 'TLS_ERROR' | 'TRANSPORT_ERROR'; message?: string };

/** Executes HTTP requests. */
export class Transport {
  private constructor();
  static curl(options?: CurlOptions | string | null): Transport;
  static scripted(responses: ScriptedResponse[] | string): Transport;
  readonly closed: boolean;
  /** An HTTP error status is a response, not an exception. */
  send(request: HttpRequest): HttpResponse;
  /** The requests a scripted transport was sent. */
  sent(): SentRequest[];
  /** Releases an owned transport; detaches a borrowed one; idempotent. */
  close(): void;
}

/** Options of the asynchronous transport (omni/async.h). */
export interface AsyncTransportOptions {
  /** Requests in flight at once, 1..10000 (256); more wait in order. */
  maxConcurrent?: number;
  /** Requests waiting at most, 1..10000000 (100000). */
  maxQueued?: number;
  timeoutMs?: number;
  connectTimeoutMs?: number;
  maxResponseBytes?: number;
  caFile?: string;
  userAgent?: string;
  /** 'auto': HTTP/2 over TLS when offered; '2': HTTP/2 (h2c only to loopback); '1.1'. */
  httpVersion?: 'auto' | '1.1' | '2';
  /** 0..1024; 0: one per host with httpVersion '2', else no limit. */
  maxHostConnections?: number;
  /** 0..5 (2): sends again a request refused by GOAWAY or lost with its connection before any answer byte. */
  retryUnanswered?: number;
}

export interface AsyncTransportStats {
  sent: number;
  succeeded: number;
  failed: number;
  canceled: number;
  retries: number;
  connections: number;
  inFlight: number;
  queued: number;
  peakInFlight: number;
}

/**
 * Many HTTP requests in flight on Node's event loop (libcurl multi on libuv): HTTP/2
 * multiplexed over one connection per host, HTTP/1.1 kept alive. Never blocks the loop; an
 * idle transport does not keep the process alive.
 */
export class AsyncTransport {
  constructor(options?: AsyncTransportOptions | string | null);
  /** Resolves with the response (an HTTP error status is a response); transport failures
   * reject with an OmniError (CANCELED once closed). */
  send(request: HttpRequest): Promise<HttpResponse>;
  readonly pending: number;
  readonly closed: boolean;
  stats(): AsyncTransportStats;
  /** Rejects the outstanding sends with CANCELED and closes the connections. */
  close(): Promise<void>;
}

// ---- templates ------------------------------------------------------------------------

/** A helper result that {{...}} inserts without escaping (as handlebars' SafeString). */
export class SafeString {
  constructor(string: string);
  string: string;
  toString(): string;
  toHTML(): string;
}

/**
 * handlebars' helper options. fn and inverse exist for block calls only; data is always
 * undefined (no @root / @index frames).
 */
export interface HelperOptions {
  /** The helper's name as written in the template. */
  name: string;
  /** The hash arguments (key=value). */
  hash: Record<string, Json | undefined>;
  /**
   * Renders the block body with a context (omitted or undefined: the current one) and
   * returns the text.
   */
  fn?: (context?: unknown) => string;
  /** Renders the {{else}} part with a context (omitted or undefined: the current one). */
  inverse?: (context?: unknown) => string;
  data: undefined;
  lookupProperty(obj: unknown, name: string): unknown;
}

/**
 * A helper: called as helper.call(context, ...args, options). Returns a string (escaped
 * by {{ }}), a SafeString (or anything with toHTML()), or any other JSON value.
 */
export type HelperFunction = (this: any, ...args: any[]) => unknown;

export interface TemplateOptions {
  partials?: Record<string, string> | Map<string, string>;
  helpers?: Record<string, HelperFunction> | Map<string, HelperFunction>;
  /** Default 'handlebars'. */
  mode?: 'handlebars' | 'mustache';
  /** What {{x}} does; default 'html'. */
  escape?: 'html' | 'none' | 'json';
  /** A missing variable fails the render with MISSING_VARIABLE (details.missing). */
  strict?: boolean;
  /** Default locale of formatNumber / formatCurrency / formatDate. */
  locale?: string;
  /** Default time zone of formatDate (IANA name). */
  timeZone?: string;
  /** handlebars' includeZero: #if treats 0 as true. */
  includeZero?: boolean;
}

/** Render data parsed once, reusable with any template. */
export class Data {
  constructor(objOrJson: unknown);
  readonly closed: boolean;
  /** The document as JavaScript values. */
  value(): Json;
  /** Releases the data (after the renders using it); idempotent. */
  close(): void;
}

/** A compiled template (immutable; compile once, render many times). */
export class Template {
  constructor(source: BytesLike, options?: TemplateOptions);
  readonly closed: boolean;
  /** data: a Data, a JSON-serializable value, JSON text (string or bytes), or nothing ({}). */
  render(data?: Data | BytesLike | unknown): string;
  /** What the template reads. */
  inspect(): { variables: string[]; helpers: string[]; partials: string[] };
  /** Releases the template (after the renders in progress); idempotent. */
  close(): void;
}

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsCount {
  encoding: SmsEncoding;
  segments: number;
  /** Septets for GSM-7, UTF-16 units for UCS-2. */
  units: number;
}

/** Encoding, segments, units and the text of each part of an SMS body. */
export function smsSegments(text: BytesLike): SmsCount & { parts: string[] };
/** Encoding, segments and units of an SMS body. */
export function smsCount(text: BytesLike): SmsCount;

export type Channel = 'sms' | 'email' | 'whatsapp' | 'push';
export type TemplateCategory = 'payment' | 'order' | 'system' | 'promotional';

export interface TemplateContent {
  subject?: string;
  body: string;
  htmlBody?: string;
  [extra: string]: unknown;
}

export interface NotificationTemplateInput {
  templateId: string;
  name: string;
  description?: string;
  category: TemplateCategory;
  channels: Channel[];
  content: TemplateContent;
  variables?: Array<{ name: string; required?: boolean; type?: string; description?: string; [extra: string]: unknown }>;
  isActive?: boolean;
  defaultLocale?: string;
  localizations?: Record<string, TemplateContent>;
}

export interface NotificationTemplate extends NotificationTemplateInput {
  version: number;
  isActive: boolean;
  defaultLocale: string;
  createdAt: string;
  updatedAt: string;
}

export interface StoredRenderResult {
  templateId: string;
  version: number;
  /** The locale used. */
  locale: string;
  subject?: string;
  body: string;
  htmlBody?: string;
  /** Channel sms: the body's segments. */
  sms?: SmsCount & { parts: string[] };
}

export interface ValidationFinding {
  severity: 'error' | 'warning';
  code: string;
  message: string;
  field: string;
}

export interface ValidationResult {
  valid: boolean;
  channel: Channel;
  findings: ValidationFinding[];
  sms?: SmsCount & { parts: string[] };
  push?: { apnsBytes: number; fcmBytes: number };
}

/** Validates a template (a NotificationTemplate, its JSON text, or a bare body) for a channel. */
export function templateValidate(
  template: NotificationTemplateInput | BytesLike,
  channel: Channel,
  options?: { data?: unknown; maxSmsSegments?: number; whatsappParameters?: number; locale?: string },
): ValidationResult;

/** Intl.NumberFormat(locale, {minimumFractionDigits, maximumFractionDigits}).format(value). */
export function formatNumber(
  value: number,
  options?:
    | string
    | { locale?: string | null; minimumFractionDigits?: number | null; maximumFractionDigits?: number | null },
): string;
/** Intl.NumberFormat(locale, {style: 'currency', currency}).format(value). */
export function formatCurrency(value: number, currency: string, options?: string | { locale?: string | null }): string;
/**
 * A time (RFC 3339 text, a Date or Unix ms) with a style ('short', 'medium' (default),
 * 'long', 'full') or a pattern, in a time zone (default UTC) and locale.
 */
export function formatDate(
  value: string | Date | number | bigint,
  options?: string | { pattern?: string | null; timeZone?: string | null; locale?: string | null },
): string;

// ---- carriers' inbound webhooks and identities (omni/carrier.h, omni/identity.h) -------

/** The UUIDv5 namespace of every event's correlationId (carrier + ':' + message id). */
export const CARRIER_MESSAGE_NAMESPACE: '0db08d7e-55c5-5152-9b91-0d896bfc46cf';
/** The UUIDv5 namespace of anonymous and new customer ids. */
export const IDENTITY_NAMESPACE: 'ca92a1e2-b2fd-54d1-bf49-15373b45d00d';

export interface InboundConfig {
  publicBaseUrl?: string;
  trustForwardedHeaders?: boolean;
  maxBodyBytes?: number;
  defaultRegion?: string;
  carriers?: Record<string, Record<string, unknown>>;
}

/** A received webhook request (or its JSON text: {method, url, headers, body | bodyBase64}). */
export interface WebhookRequest {
  method: string;
  url: string;
  headers?: Record<string, string> | Array<[string, string]> | Map<string, string>;
  body?: string | Uint8Array | null;
}

export interface Identifier {
  phoneNumber?: string;
  userId?: string;
  sessionId?: string;
  email?: string;
  shortCode?: string;
  businessId?: string;
}

export interface InboundMessageEvent {
  kind: 'message';
  correlationId: string;
  carrier: string;
  channelType: string;
  senderIdentifier: Identifier;
  recipientIdentifier: Identifier;
  message: {
    id: string;
    content?: string;
    contentType?: string;
    mediaUrls?: string[];
    timestamp: string;
  };
  rawPayload?: unknown;
  [member: string]: unknown;
}

export interface InboundStatusEvent {
  kind: 'status';
  correlationId: string;
  carrier: string;
  carrierMessageId: string;
  status: 'queued' | 'sent' | 'delivered' | 'read' | 'failed' | 'undelivered';
  errorCode?: string | number;
  errorMessage?: string;
  timestamp: string;
  recipient?: string;
  [member: string]: unknown;
}

export interface InboundResult {
  carrier: string;
  events: Array<InboundMessageEvent | InboundStatusEvent>;
  /** What to answer the carrier. */
  response: { status: number; headers: Record<string, string>; body: string };
}

/** A compiled inbound configuration (immutable; release with close()). */
export class Inbound {
  constructor(config: InboundConfig | string);
  readonly closed: boolean;
  /** Verifies and parses a request. */
  handle(carrier: string, request: WebhookRequest | string | Uint8Array, options?: { engine?: Engine | null } | Engine): InboundResult;
  /** Verifies only (e.g. Meta's GET handshake); throws SIGNATURE_INVALID etc. */
  verify(carrier: string, request: WebhookRequest | string | Uint8Array, options?: { engine?: Engine | null } | Engine): void;
  close(): void;
}

export interface PhoneParseResult {
  input: string;
  e164: string;
  countryCode: number;
  region: string;
  nationalNumber: string;
  extension?: string;
}

/** A phone number as written by people and carriers -> E.164. */
export function phoneToE164(raw: BytesLike, region?: string | null): string;
export function phoneParse(raw: BytesLike, region?: string | null): PhoneParseResult;
/** The identity-matching form of an E.164 number. */
export function phoneIdentityKey(e164: string, options?: { brazilNinthDigit?: boolean }): string;
/** Seed 001's normalizeIdentifier: '+E164', 'wa:+E164', 'wa:id:<userId>', 'lc:<sessionId>', ... */
export function identityNormalize(carrier: string, sender: Identifier | string, region?: string | null): string;

export interface Routing {
  accountId: string;
  businessUnitId?: string;
  tenantId?: string;
  createCustomers?: boolean;
  defaultRegion?: string;
  [member: string]: unknown;
}

export interface Customer {
  customerId?: string;
  profile?: Record<string, unknown>;
  preferences?: Record<string, unknown>;
  [member: string]: unknown;
}

export interface IdentityLookupResult {
  success: boolean;
  correlationId: string;
  identity: {
    customerId: string;
    customerType: 'known' | 'anonymous' | 'new';
    profile?: Record<string, unknown>;
    preferences?: Record<string, unknown>;
    conversationHistory?: unknown[];
  };
  routing: { accountId: string; businessUnitId: string; tenantId: string };
  enrichedMessage: Record<string, unknown>;
  nextStep: 'workFlowBiDirectional';
}

// ---- conversations (omni/conversation.h) ------------------------------------------------

export type ConversationStatus = 'new' | 'active' | 'resolved' | 'escalated' | 'expired' | 'reopened';

export type ConversationEventName =
  | 'inbound_message'
  | 'outbound_message'
  | 'agent_assigned'
  | 'agent_transferred'
  | 'agent_left'
  | 'bot_handover'
  | 'escalate'
  | 'resolve'
  | 'inactivity_timeout'
  | 'reopen'
  | 'set_metadata';

export type DeliveryStatus =
  | 'pending'
  | 'processing'
  | 'queued'
  | 'sent'
  | 'delivered'
  | 'read'
  | 'failed'
  | 'undelivered';

/** The statuses by number (frozen). */
export const CONVERSATION_STATUSES: readonly ConversationStatus[];
/** The events by number (frozen). */
export const CONVERSATION_EVENTS: readonly ConversationEventName[];

export type Sentiment = 'positive' | 'neutral' | 'negative';
export type Priority = 'low' | 'normal' | 'high' | 'urgent';

export interface ConversationParticipant {
  id: string;
  type: 'customer' | 'agent' | 'bot';
  joinedAt: string;
  status: 'active' | 'left' | 'transferred';
}

export interface ConversationMetadata {
  startedAt: string;
  lastActivityAt: string;
  messageCount: number;
  sentiment?: Sentiment;
  topics: string[];
  priority: Priority;
}

/** The WhatsApp 24-hour customer service window (WhatsApp conversations only). */
export interface ServiceWindow {
  open: boolean;
  expiresAt: string | null;
}

/** A conversation document; times are RFC 3339 UTC with milliseconds. */
export interface Conversation {
  conversationId: string;
  customerId: string;
  accountId: string;
  businessUnitId: string;
  tenantId: string;
  channel: { type: string; carrier: string };
  status: ConversationStatus;
  assignedTo: string | null;
  participants: ConversationParticipant[];
  metadata: ConversationMetadata;
  lastInboundAt: string | null;
  serviceWindow?: ServiceWindow;
  createdAt: string;
  updatedAt: string;
}

/** An event document of conversationApply() / conversationTransition(). */
export interface ConversationEventInput {
  event: ConversationEventName;
  /** RFC 3339; default: now. */
  at?: string;
  /** agent_assigned, agent_transferred: required; escalate: optional. */
  agentId?: string;
  /** bot_handover: required. */
  botId?: string;
  reason?: string;
  sentiment?: Sentiment;
  topics?: string[];
  priority?: Priority;
  /** inactivity_timeout: default 24 h (the account's setting for conversationTransition). */
  inactivityTimeoutMs?: number;
}

/** Change events, for the host to publish (EventBridge PutEvents maps one to one). */
export type ChangeEvent =
  | ChangeEventOf<'conversation.created', {
      conversationId: string;
      customerId: string;
      accountId: string;
      channel: unknown;
      status: ConversationStatus;
      createdAt: string;
    }>
  | ChangeEventOf<'conversation.status_changed', {
      conversationId: string;
      previousStatus: ConversationStatus;
      newStatus: ConversationStatus;
      changedAt: string;
    }>
  | ChangeEventOf<'conversation.assigned', {
      conversationId: string;
      previousAssignee: string | null;
      newAssignee: string | null;
      assignedAt: string;
    }>
  | ChangeEventOf<'conversation.deleted', { conversationId: string; deletedAt: string }>
  | ChangeEventOf<'message.created', {
      messageId: string;
      conversationId: string;
      sequenceNumber: number;
      direction: 'inbound' | 'outbound';
      createdAt: string;
    }>
  | ChangeEventOf<'message.delivery_updated', {
      messageId: string;
      conversationId: string;
      previousStatus: DeliveryStatus;
      newStatus: DeliveryStatus;
      updatedAt: string;
    }>;

export interface ChangeEventOf<T extends string, D> {
  source: 'omni.workflow';
  detailType: T;
  detail: D;
}

export interface ConversationApplyResult {
  conversation: Conversation;
  events: ChangeEvent[];
}

/** The input of conversationStep() (an IdentityLookupResult works as well). */
export interface BiDirectionalEvent {
  correlationId: string;
  identity: { customerId: string; [member: string]: unknown };
  routing: {
    accountId: string;
    businessUnitId?: string;
    tenantId?: string;
    channelType?: string;
    [member: string]: unknown;
  };
  enrichedMessage: {
    /** The carrier's message id; for outbound the host's idempotency id. */
    id: string;
    carrier: string;
    channelType?: string;
    content?: string;
    /** 'template' is allowed outside the WhatsApp service window. */
    contentType?: string;
    mediaUrls?: string[];
    timestamp?: string;
    [member: string]: unknown;
  };
  /** Default 'inbound'. */
  direction?: 'inbound' | 'outbound';
  /** Overrides the derived channel (1..32 of [a-z0-9_-]). */
  channel?: string;
  [member: string]: unknown;
}

export interface ConversationStepOptions {
  /** 1..2^40; default: the account's setting, else 24 h. */
  inactivityTimeoutMs?: number;
  /** 0 (forever) or 1..2^40; default: the account's setting, else 7 days. */
  dedupeWindowMs?: number;
  /** Compare-and-swap attempts, 1..64 (default 16). */
  maxAttempts?: number;
}

export interface BiDirectionalResult {
  success: true;
  correlationId: string;
  duplicate: boolean;
  conversation: Pick<
    Conversation,
    'conversationId' | 'participants' | 'channel' | 'metadata' | 'assignedTo' | 'serviceWindow'
  > & { status: 'new' | 'active' | 'reopened' | 'escalated' };
  messageState: {
    messageId: string;
    sequenceNumber: number;
    deliveryStatus: 'processing' | 'pending';
    direction: 'inbound' | 'outbound';
  };
  routing: {
    accountId: string;
    businessUnitId: string;
    tenantId: string;
    conversationId: string;
    customerId: string;
    channel: string;
    assignedTo: string | null;
    priority: Priority;
  };
  events: ChangeEvent[];
  nextStep: 'workFlowPreRoute';
}

/** A recorded message. */
export interface MessageRecord {
  messageId: string;
  conversationId: string;
  sequenceNumber: number;
  direction: 'inbound' | 'outbound';
  carrier: string;
  carrierMessageId: string;
  contentType: string;
  deliveryStatus: DeliveryStatus;
  createdAt: string;
  updatedAt: string;
  correlationId: string;
  /** The enrichedMessage as stepped. */
  message: Record<string, unknown>;
  errorCode?: string | number;
  errorMessage?: string;
  /** After the provider's id was attached: the carrier and id it was stepped with. */
  steppedCarrier?: string;
  steppedMessageId?: string;
  /** Every provider id attached to it, oldest first. */
  carrierMessageIds?: { carrier: string; carrierMessageId: string; attachedAt: string }[];
}

export interface Page<T> {
  items: T[];
  /** The cursor of the next page, or null at the end. */
  next: string | null;
}

export interface ConversationHistoryQuery {
  /** 1..1000, default 50. */
  limit?: number;
  cursor?: string;
  direction?: 'inbound' | 'outbound';
  contentType?: string;
  /** createdAt >= since (RFC 3339). */
  since?: string;
  /** createdAt < until (RFC 3339). */
  until?: string;
}

export interface ConversationListQuery {
  /** 1..1000, default 50. */
  limit?: number;
  cursor?: string;
  status?: ConversationStatus;
}

/** A delivery status by conversation and sequence number, or by carrier message id. */
export type DeliveryUpdate =
  | {
      conversationId: string;
      sequenceNumber: number;
      status: DeliveryStatus;
      timestamp?: string;
      errorCode?: string | number;
      errorMessage?: string;
      /** Attaches the provider's message id (outbound messages; the delivery engine does this). */
      carrierMessageId?: string;
      carrier?: string;
    }
  | {
      carrier: string;
      carrierMessageId: string;
      status: DeliveryStatus;
      timestamp?: string;
      errorCode?: string | number;
      errorMessage?: string;
      [member: string]: unknown;
    };

export interface DeliveryResult {
  /** false when the update changes nothing (not an error). */
  changed: boolean;
  /** true when the message is not known yet: the status is kept and applied once the
   * provider's id is attached to a message. */
  parked: boolean;
  message: MessageRecord | null;
  events: ChangeEvent[];
}

export interface ConversationSettings {
  /** 1..2^40. */
  inactivityTimeoutMs?: number;
  /** 0..2^40 (0: forever). */
  dedupeWindowMs?: number;
}

/**
 * The transition table: the status after `event` in `status` (names or numbers).
 * INVALID_TRANSITION when the table forbids it.
 */
export function conversationNextStatus(
  status: ConversationStatus | number,
  event: ConversationEventName | number,
): ConversationStatus;

/** Pure transition of a conversation document; nowMs default Date.now(). */
export function conversationApply(
  conversation: Conversation | string | Uint8Array,
  event: ConversationEventInput | string | Uint8Array,
  nowMs?: TimeArg,
): ConversationApplyResult;

/** A DynamoDB AttributeValue (exactly one member). */
export type AttributeValue =
  | { S: string }
  | { N: string }
  | { B: string }
  | { BOOL: boolean }
  | { NULL: true }
  | { M: Record<string, AttributeValue> }
  | { L: AttributeValue[] }
  | { SS: string[] }
  | { NS: string[] }
  | { BS: string[] };

export type DynamoItem = Record<string, AttributeValue>;

/**
 * A DynamoDB item -> plain JSON. N keeps its digits in the JSON text ({raw: true} returns
 * that text); JSON.parse rounds numbers beyond 2^53.
 */
export function dynamodbUnmarshall(item: DynamoItem | string | Uint8Array, options?: { raw?: false }): Record<string, Json>;
export function dynamodbUnmarshall(item: DynamoItem | string | Uint8Array, options: { raw: true }): string;

export interface DynamoStreamRecord {
  eventID?: string;
  eventName?: 'INSERT' | 'MODIFY' | 'REMOVE';
  /** "arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>" */
  eventSourceARN?: string;
  dynamodb?: {
    /** Unix seconds. */
    ApproximateCreationDateTime?: number;
    Keys?: DynamoItem;
    NewImage?: DynamoItem;
    OldImage?: DynamoItem;
    StreamViewType?: 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';
    [member: string]: unknown;
  };
  [member: string]: unknown;
}

export interface DynamoStreamResult {
  events: ChangeEvent[];
  records: Array<{ eventID: string | null; status: 'success' | 'skipped' | 'failed'; error?: string }>;
}

/**
 * A DynamoStreamEvent of the "conversations" and "messages" tables -> change events. A
 * malformed record is "failed" and does not stop the others. nowMs (default Date.now()):
 * the time of records without ApproximateCreationDateTime.
 */
export function dynamodbStreamEvents(
  event: { Records: DynamoStreamRecord[] } | string | Uint8Array,
  nowMs?: TimeArg,
): DynamoStreamResult;

// ---- pre-routing (omni/rules.h, omni/analyze.h, omni/preroute.h) ----

/** A host content analyzer: the members it returns replace the built-in result's. */
export type AnalyzerFn = (
  request: AnalyzeRequest,
  builtin: ContentAnalysis,
) => Partial<ContentAnalysis> | Record<string, unknown> | null | undefined;

export interface EngineOptions {
  analyzer?: AnalyzerFn | null;
}

export interface OptOutRecord {
  accountId: string;
  customerId: string;
  status: 'opted_out' | 'opted_in';
  keyword?: string;
  channel?: string;
  updatedAt?: string;
}

/** A seed RoutingRule condition, or a group of them. */
export type RuleCondition =
  | { field: string; operator: string; value?: unknown; ignoreCase?: boolean }
  | { all: RuleCondition[] }
  | { any: RuleCondition[] }
  | { not: RuleCondition };

export interface RuleAction {
  type: string;
  [key: string]: unknown;
}

export interface RoutingRule {
  id: string;
  name?: string;
  priority?: number;
  enabled?: boolean;
  conditions: RuleCondition[] | RuleCondition;
  actions: RuleAction[];
}

/** A json-rules-engine rule. */
export interface JsonRulesEngineRule {
  name?: string;
  priority?: number;
  conditions: Record<string, unknown>;
  event: { type: string; params?: Record<string, unknown> };
}

export interface RoutingDestination {
  type: 'agent' | 'queue' | 'bot' | 'external';
  id: string;
  name: string;
  metadata: Record<string, unknown>;
}

export interface RulesResult {
  matched: string[];
  actions: Array<RuleAction & { ruleId: string }>;
  destination: RoutingDestination;
  tags: string[];
  priority: 'low' | 'normal' | 'high' | 'urgent' | null;
  block: boolean;
  escalate: boolean;
  autoRespond: { ruleId: string; templateId: string } | null;
  stoppedBy: string | null;
  explain?: Array<{ ruleId: string; conditions: Array<Record<string, unknown>> }>;
}

export class Rules {
  constructor(
    rules: Array<RoutingRule | JsonRulesEngineRule> | { rules: unknown[] } | string | Uint8Array,
    options?: { timeZone?: string; format?: 'auto' | 'routing' | 'json-rules-engine' },
  );
  readonly closed: boolean;
  readonly ids: string[];
  eval(
    facts: Record<string, unknown> | string | Uint8Array | Data,
    options?: { now?: TimeArg | Date | string | null; explain?: boolean },
  ): RulesResult;
  match(
    facts: Record<string, unknown> | string | Uint8Array | Data,
    options?: { now?: TimeArg | Date | string | null },
  ): string[];
  close(): void;
}

export interface AnalyzeRequest {
  content: string;
  contentType?: 'text' | 'media' | 'location' | 'contact';
  language?: string;
  sender?: string;
}

export interface ContentEntity {
  type: string;
  value: string;
  normalized?: string;
  start: number;
  end: number;
}

export interface ContentAnalysis {
  spam: boolean;
  spamScore: number;
  spamReasons: string[];
  sentiment: 'positive' | 'neutral' | 'negative';
  sentimentScore: number;
  intent: string[];
  entities: ContentEntity[];
  language: string;
  languageConfidence: number;
}

export class Analyzer {
  constructor(config?: Record<string, unknown> | string | null);
  readonly closed: boolean;
  analyze(
    input: string | Uint8Array | AnalyzeRequest,
    options?: { language?: string | null; sender?: string | null },
  ): ContentAnalysis;
  close(): void;
}

/** The built-in content analysis with the default configuration. */
export function analyze(
  input: string | Uint8Array | AnalyzeRequest,
  options?: { language?: string | null; sender?: string | null },
): ContentAnalysis;

export interface PreRouteResult {
  success: boolean;
  correlationId: string;
  routingDecision: {
    action: 'route' | 'auto_respond' | 'block' | 'escalate' | 'queue';
    destination: RoutingDestination;
    priority: number;
    priorityLevel: 'low' | 'normal' | 'high' | 'urgent';
    tags: string[];
  };
  autoResponse?: {
    enabled: boolean;
    responseType: 'greeting' | 'away' | 'acknowledgment' | 'custom' | 'opt_out' | 'opt_in' | 'help';
    templateId?: string;
    language?: string;
    content: string;
  };
  contentAnalysis: ContentAnalysis;
  matchedRules: string[];
  optOut?: { status: 'opted_out' | 'opted_in'; changed: boolean };
  transformedMessage: Record<string, unknown>;
  nextStep: 'publishOutbound' | 'pushNotification' | 'terminate';
  nextSteps: Array<'publishOutbound' | 'pushNotification'>;
}

export class PreRoute {
  constructor(config: Record<string, unknown> | string | Uint8Array);
  readonly closed: boolean;
  run(engine: Engine, event: Record<string, unknown> | string | Uint8Array): PreRouteResult;
  close(): void;
}

// ---- AWS Signature Version 4 (omni/aws.h) ----

export interface AwsSigv4Options {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | null;
  region: string;
  service: string;
  /** Unix ms, a Date or RFC 3339 text; default: now (an X-Amz-Date on the request wins). */
  now?: TimeArg | Date | string | null;
  s3?: boolean;
  unsignedPayload?: boolean;
}

export interface HttpRequestInput {
  method: string;
  url: string;
  headers?: Record<string, string> | Array<[string, string]>;
  body?: string | Uint8Array;
  timeoutMs?: number;
}

/** The request with X-Amz-Date, Host and Authorization (and the token / payload headers). */
export function awsSigv4Sign(request: HttpRequestInput, options: AwsSigv4Options): Record<string, unknown>;
export function awsSigv4Canonical(
  request: HttpRequestInput,
  options: AwsSigv4Options,
): { canonicalRequest: string; stringToSign: string };
export function awsSigv4Presign(
  method: string,
  url: string,
  options: Omit<AwsSigv4Options, 's3' | 'unsignedPayload'> & { expires: number },
): string;

// ---- outbound carrier adapters (omni/outbound.h) ----

export interface OutboundResult {
  success: boolean;
  carrier: string;
  carrierMessageId?: string;
  status: string;
  cost?: number;
  currency?: string;
  error?: { code: string; providerCode?: string; message: string; retryable: boolean };
  retryAfterMs?: number;
}

export class Outbound {
  constructor(config: Record<string, unknown>);
  readonly closed: boolean;
  build(
    event: Record<string, unknown>,
    options?: { carrier?: string | null; now?: TimeArg | Date | string | null },
  ): { method: string; url: string; headers: Record<string, string> | Array<[string, string]>; body?: string; bodyBase64?: string };
  parse(
    carrier: string,
    response: { status: number; headers?: Record<string, string> | Array<[string, string]>; body?: string | Uint8Array },
    options?: { now?: TimeArg | Date | string | null },
  ): OutboundResult;
  close(): void;
}

// ---- push platform adapters (omni/push.h) ----

export type PushPlatform = 'ios' | 'android' | 'web';

/** A request built by Push: body is a Buffer when it is binary (Web Push). */
export interface PushRequest {
  method: string;
  url: string;
  headers: Record<string, string> | Array<[string, string]>;
  body?: string | Buffer;
  timeoutMs?: number;
}

export interface PushResponse {
  status: number;
  headers?: Record<string, string> | Array<[string, string]>;
  body?: string | Uint8Array;
  bodyBase64?: string;
}

export interface PushResult {
  success: boolean;
  platform: PushPlatform;
  messageId?: string;
  status: 'sent' | 'failed';
  error?: { code: string; providerCode?: string; message: string; retryable: boolean };
  /** The token is gone: remove the device (Engine.deviceRemove with the reason). */
  invalidToken?: boolean;
  retryAfterMs?: number;
}

/** The push platform adapters (APNs, FCM HTTP v1, Web Push); nothing is sent. */
export class Push {
  constructor(config: Record<string, unknown> | string | Uint8Array);
  readonly closed: boolean;
  build(message: Record<string, unknown> | string | Uint8Array, nowMs?: TimeArg | Date | string | null): PushRequest;
  parse(platform: PushPlatform | string, response: PushResponse, nowMs?: TimeArg | Date | string | null): PushResult;
  /** FCM's token request, or null while the cached access token is good. */
  tokenRequest(nowMs?: TimeArg | Date | string | null): PushRequest | null;
  /** Reads the token endpoint's answer ({access_token, expires_in, token_type}). */
  tokenResponse(response: PushResponse, nowMs?: TimeArg | Date | string | null): void;
  close(): void;
}

// ---- the delivery engine (omni/delivery.h) ----

/** The delivery engine's configuration; every member is optional. */
export interface DeliveryConfig {
  retryPolicy?: { maxRetries?: number; backoffMultiplier?: number; maxBackoff?: number; initialBackoff?: number };
  /** carrier -> up to 3 carriers tried in order. */
  fallback?: Record<string, string | string[]>;
  circuitBreaker?: {
    failureThreshold?: number;
    failureRate?: number;
    minRequests?: number;
    windowMs?: number;
    cooldownMs?: number;
  };
  rateLimits?: Record<string, { perSecond: number; burst?: number }>;
  leaseMs?: number;
  inDoubt?: 'deadLetter' | 'retry';
  retryTimeouts?: boolean;
  idempotencyTtlMs?: number;
  deadLetterRetentionMs?: number;
  /** tracking.webhookUrl of results; {carrier} and {messageId} are replaced. */
  webhookUrl?: string;
}

/** Overrides of the event's options (plus deadlineMs for send()). */
export interface DeliveryOptions {
  idempotencyKey?: string;
  scheduledAt?: string;
  expiresAt?: string;
  /** send() only: how long retries may be waited for inline (ms, default 0). */
  deadlineMs?: number;
  [key: string]: unknown;
}

export interface DeliveryError {
  code: string;
  message: string;
  retryable: boolean;
}

/** The seed's PublishOutboundResult. */
export interface PublishOutboundResult {
  success: boolean;
  correlationId: string;
  duplicate?: true;
  delivery: {
    messageId: string;
    carrierMessageId?: string;
    status: 'queued' | 'sent' | 'scheduled' | 'pending' | 'sending' | 'failed' | 'expired' | string;
    carrier: string;
    timestamp: string;
    cost?: number;
    currency?: string;
    attempts: number;
    nextAttemptAt?: string;
  };
  tracking: { trackingId: string; webhookUrl: string };
  error?: DeliveryError;
}

export interface DeliveryTickSummary {
  processed: number;
  sent: number;
  retried: number;
  deadLettered: number;
  expired: number;
  inDoubt: number;
  nextDueAt: string | null;
  [key: string]: unknown;
}

export interface DeliveryAttempt {
  n: number;
  carrier: string;
  startedAt: number;
  endedAt?: number;
  outcome: string;
  httpStatus?: number;
  error?: DeliveryError;
}

/** A stored message. */
export interface DeliveryRecord {
  messageId: string;
  idempotencyKey: string;
  correlationId: string;
  state: 'pending' | 'sending' | 'delivered' | 'dead' | 'expired' | string;
  attempts: DeliveryAttempt[];
  event: Record<string, unknown>;
  [key: string]: unknown;
}

export interface DeadLetter {
  messageId: string;
  correlationId: string;
  idempotencyKey: string;
  carrier: string;
  reason: { code: string; message: string };
  deadAt: string;
  attempts: DeliveryAttempt[];
  event: Record<string, unknown>;
}

type DeliveryTime = TimeArg | string | null;

/**
 * The delivery engine over an Engine and an Outbound (kept alive by it). send() and tick() run
 * their HTTP requests synchronously (the event loop is blocked meanwhile); the job API
 * (publish / resume) lets the host send them.
 */
export interface PushNotificationResult {
  success: boolean;
  correlationId: string;
  deliveryResults: Array<{
    recipientId: string;
    platform: 'ios' | 'android' | 'web' | 'all';
    status: 'sent' | 'failed' | 'skipped' | 'pending';
    messageId?: string;
    deliveryId?: string;
    error?: string;
    errorCode?: string;
    reason?: 'DISABLED' | 'OPTED_OUT' | 'QUIET_HOURS' | 'NO_DEVICES';
    nextAttemptAt?: string;
    duplicate?: true;
  }>;
  summary: { total: number; sent: number; failed: number; skipped: number; pending: number };
  events: Array<{ source: string; detailType: string; detail: Record<string, unknown> }>;
}

export class Delivery {
  constructor(engine: Engine, outbound: Outbound, config?: DeliveryConfig | string | null,
    options?: { push?: Push | null });
  readonly engine: Engine;
  readonly outbound: Outbound;
  readonly push: Push | null;
  /** pushNotification (seed 001's PushNotificationEvent) through the delivery engine. */
  notify(event: Record<string, unknown> | string | Uint8Array,
    options?: { deadlineMs?: number } | string | null): PushNotificationResult;
  /** notify() on Node's event loop through an AsyncTransport (never blocks the loop). */
  notifyAsync(event: Record<string, unknown> | string | Uint8Array,
    transport: AsyncTransport): Promise<PushNotificationResult>;
  /** True once it, its engine or its outbound is closed. */
  readonly closed: boolean;
  send(event: Record<string, unknown> | string | Uint8Array, options?: DeliveryOptions | string | null): PublishOutboundResult;
  /** The stored work due at `now` (default: the engine's clock), at most `limit` (1..1000, default 100). */
  tick(options?: { now?: DeliveryTime; limit?: number }): DeliveryTickSummary;
  get(messageId: string): DeliveryRecord;
  dlqList(options?: { limit?: number | null; cursor?: string | null }): { items: DeadLetter[]; next: string | null };
  dlqGet(messageId: string): DeadLetter;
  /** The redriven message's result (status 'pending'; tick() sends it). */
  dlqRedrive(messageId: string): PublishOutboundResult;
  /** Removes one dead letter, or every one; returns how many. */
  dlqPurge(messageId?: string | null): number;
  publish(
    event: Record<string, unknown> | string | Uint8Array,
    options?: DeliveryOptions | string | null,
    at?: { now?: DeliveryTime },
  ): DeliveryJob;
  resume(messageId: string, at?: { now?: DeliveryTime }): DeliveryJob;
  close(): void;
}

export type DeliveryStep =
  | { action: 'send'; request: SentRequest; waitUntilMs: null }
  | { action: 'wait'; request: null; waitUntilMs: number }
  | { action: 'done'; request: null; waitUntilMs: null };

/** One message being driven: next() -> send the request and feed() the outcome. */
/** The notification orchestrator (omni/orchestrator.h). */
export class Orchestrator {
  constructor(delivery: Delivery, config: Record<string, unknown> | string);
  readonly delivery: Delivery;
  readonly closed: boolean;
  send(request: Record<string, unknown> | string, options?: { deadlineMs?: number } | string | null):
    { success: boolean; userId: string; messageType: string; channels: Array<Record<string, unknown>>;
      fallbackUsed?: boolean };
  sendBulk(bulk: { notifications: Array<Record<string, unknown>> } | string,
    options?: { deadlineMs?: number } | string | null):
    { results: Array<Record<string, unknown>>; summary: { total: number; succeeded: number; failed: number } };
  close(): void;
}

export class DeliveryJob {
  private constructor();
  readonly delivery: Delivery;
  readonly closed: boolean;
  next(now?: DeliveryTime): DeliveryStep;
  feed(outcome: {
    response?: { status: number; headers?: Headers; body?: string | Uint8Array; bodyBase64?: string } | null;
    /** A Status (e.g. Status.ETIMEOUT), an OmniError from Transport.send, or a code ('TIMEOUT'). */
    transportError?: number | OmniError | string | null;
    now?: DeliveryTime;
  }): void;
  /** Drives the job through the engine's transport; waits for retries due by deadlineMs. */
  run(deadlineMs?: number): PublishOutboundResult;
  result(): PublishOutboundResult;
  close(): void;
}

// ---- Web Push (RFC 8291 encryption, RFC 8292 VAPID) ----

/** The aes128gcm body of a push message (uaPublic 65 bytes, authSecret 16 bytes). */
export function webpushEncrypt(plaintext: string | Uint8Array, uaPublic: Uint8Array,
  authSecret: Uint8Array, options?: { salt?: Uint8Array; senderPrivate?: Uint8Array;
    recordSize?: number }): Buffer;
/** The plaintext of an aes128gcm push body (uaPrivate 32 bytes, authSecret 16 bytes). */
export function webpushDecrypt(body: Uint8Array, uaPrivate: Uint8Array,
  authSecret: Uint8Array): Buffer;
/** A new P-256 key pair from the engine's random hook (default OS random). */
export function webpushKeypair(engine?: Engine | null): { publicKey: Buffer; privateKey: Buffer };
/** The VAPID Authorization header value "vapid t=<JWT>, k=<public key>". */
export function webpushVapid(endpoint: string, subject: string, privateKey: Uint8Array,
  options?: { nowMs?: number | Date; expires?: number }): string;

// ---- the push device registry (omni/push.h) ----

export type DevicePlatform = 'ios' | 'android' | 'web';

export interface WebPushSubscriptionJson {
  endpoint: string;
  expirationTime?: number | null;
  keys: { p256dh: string; auth: string };
}

export interface DeviceInput {
  userId: string;
  deviceToken: string;
  platform: DevicePlatform;
  subscription?: WebPushSubscriptionJson | null;
  appId?: string | null;
  locale?: string | null;
  timezone?: string | null;
  metadata?: { [key: string]: Json } | null;
}

export interface DeviceRecord extends DeviceInput {
  registeredAt: string;
  updatedAt: string;
}

export interface DeviceEvent {
  source: 'omni.push';
  detailType:
    | 'device.registered'
    | 'device.updated'
    | 'device.moved'
    | 'device.unregistered'
    | 'device.invalidated';
  detail: {
    userId: string;
    previousUserId?: string;
    platform: DevicePlatform;
    deviceToken: string;
    reason?: string;
    registeredAt?: string;
    updatedAt?: string;
    removedAt?: string;
  };
}

export interface DeviceRegisterResult {
  device: DeviceRecord;
  created: boolean;
  events: DeviceEvent[];
}

export interface DeviceListQuery {
  userId?: string | null;
  platform?: DevicePlatform | null;
  limit?: number | null;
  cursor?: string | null;
}

// ---- the engine configuration (omni/config.h) ----

/** One error of a configuration document. */
export interface ConfigError {
  /** JSON path, e.g. "accounts[1].outbound.twilio.authToken" ("" for the document). */
  path: string;
  message: string;
  /** "INVALID_CONFIG", or a component's code ("NOT_FOUND" for an unknown time zone, ...). */
  code: string;
  /** For a document that is not JSON. */
  line?: number;
  column?: number;
}

/** What Config.check() says (never a secret). */
export interface ConfigCheckResult {
  valid: boolean;
  errors: ConfigError[];
  errorCount: number;
  accounts: number;
  addresses: number;
  templates: number;
  /** Inbound carriers (shared and the accounts' own). */
  carriers: string[];
  /** Outbound providers of any account. */
  outbound: string[];
  /** Push platforms of any account. */
  push: string[];
  /** The workflow's step ids in order. */
  steps: string[];
  storage?: string;
}

export interface ConfigApplyCounts {
  written: number;
  unchanged: number;
}

export interface ConfigApplyResult {
  routing: ConfigApplyCounts;
  conversationSettings: ConfigApplyCounts;
  templates: ConfigApplyCounts;
}

export type WorkflowCondition = 'always' | 'auto_response_enabled' | 'route_to_agent' | 'blocked';
export type WorkflowStepId =
  | 'workFlowIdentityLookup'
  | 'workFlowBiDirectional'
  | 'workFlowPreRoute'
  | 'publishOutbound'
  | 'pushNotification';

/** Seed 001's WorkflowStepConfig with every default filled in. */
export interface WorkflowStep {
  stepId: WorkflowStepId;
  enabled: boolean;
  /** Milliseconds. */
  timeout: number;
  retryPolicy: { maxRetries: number; backoffMultiplier: number; maxBackoff: number; initialBackoff: number };
  conditions: WorkflowCondition[];
  nextSteps: Array<{ stepId: WorkflowStepId | 'terminate'; condition: WorkflowCondition }>;
  /** The step function's options (identity lookup, conversation step, delivery deadline). */
  options: Record<string, unknown>;
}

/** An account's settings without secrets, the defaults applied. */
export interface ConfigAccount {
  accountId: string;
  name?: string;
  businessUnitId?: string;
  tenantId?: string;
  createCustomers: boolean;
  defaultRegion?: string;
  timeZone: string;
  locale: string;
  addresses: {
    phoneNumbers?: string[];
    shortCodes?: string[];
    messagingServiceSids?: string[];
    whatsappPhoneNumberIds?: string[];
    whatsappBusinessIds?: string[];
    businessIds?: string[];
  };
  /** The routing keys of the addresses ("+14155550100", "shortcode:12345", "waba:..."). */
  routingKeys: string[];
  carriers: string[];
  outbound: string[];
  push: string[];
  conversation?: { inactivityTimeoutMs?: number; dedupeWindowMs?: number };
  businessHours?: Record<string, unknown>;
  rules?: unknown;
  autoResponses?: Record<string, unknown>;
  optOut?: Record<string, unknown>;
  priority?: Record<string, unknown>;
  defaultDestination?: Record<string, unknown>;
  analyzer?: Record<string, unknown>;
}

/**
 * The engine configuration (omni/config.h). An invalid document throws OmniError
 * INVALID_CONFIG whose details.errors lists every error ({path, message, code}).
 */
export class Config {
  constructor(doc: Record<string, unknown> | string | Uint8Array | ArrayBuffer);
  /** Validates without keeping anything; never throws for a bad document. */
  static check(doc: Record<string, unknown> | string | Uint8Array | ArrayBuffer): ConfigCheckResult;
  readonly closed: boolean;
  /** Writes routing records, conversation settings and templates where they differ. */
  apply(engine: Engine): ConfigApplyResult;
  readonly accountIds: string[];
  /** The accountId owning an address, or null (INVALID_ARGUMENT for a non-address). */
  accountId(address: string): string | null;
  /** The settings of the account owning an address, or null. */
  account(address: string): ConfigAccount | null;
  /** An account's settings by id (NOT_FOUND when not listed). */
  accountSettings(accountId: string): ConfigAccount;
  readonly summary: ConfigCheckResult;
  /** {storage, transport?}: the configuration for new Engine(...). */
  readonly engineConfig: { storage: string; transport?: Record<string, unknown> };
  readonly storage: string;
  readonly transport: Record<string, unknown> | null;
  readonly delivery: DeliveryConfig;
  readonly workflow: { steps: WorkflowStep[] };
  readonly steps: WorkflowStep[];
  step(stepId: string): WorkflowStep | null;
  /** A new Engine over the document's storage and transport plus extra members. */
  engine(extra?: Record<string, unknown>): Engine;
  close(): void;
}
