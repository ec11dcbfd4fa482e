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
  constructor(config?: EngineConfig | string | null);
  readonly closed: boolean;
  /** The engine's clock, Unix milliseconds. */
  nowMs(): number;
  /** n bytes from the engine's random hook. */
  random(n: number): Buffer;
  /** The engine's store (borrowed; keeps the engine alive). */
  readonly store: Store;
  /** The engine's transport (borrowed), or null. */
  readonly transport: Transport | null;
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
