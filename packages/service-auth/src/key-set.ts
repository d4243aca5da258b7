import { createPrivateKey, createPublicKey, createSecretKey, type JsonWebKey, KeyObject } from 'node:crypto';
import type { AuthFailureReason } from './errors';
import { badRequest } from './errors';

/** The signing algorithms a key set may use. No `none`, and each key is pinned to one. */
export const ALGORITHMS = ['HS256', 'RS256', 'ES256'] as const;

/** One of {@link ALGORITHMS}. */
export type ServiceAuthAlgorithm = (typeof ALGORITHMS)[number];

/** HS256 secrets shorter than this are refused: RFC 7518 §3.2 asks for at least the hash size. */
export const MIN_SECRET_BYTES = 32;

/** RSA keys shorter than this are refused (NIST SP 800-131A; jsonwebtoken refuses them too). */
export const MIN_RSA_BITS = 2048;

/** An HMAC secret: a string (UTF-8), bytes, a secret KeyObject or an `oct` JWK. */
export type SecretMaterial = string | Uint8Array | KeyObject | JsonWebKey;

/** An RSA or EC P-256 key: PEM (string or bytes), a KeyObject or a JWK. */
export type AsymmetricMaterial = string | Uint8Array | KeyObject | JsonWebKey;

/**
 * One key of a key set, as configured. Give `secret` for HS256, or `privateKey` (signs and
 * verifies; the public half is derived) and/or `publicKey` (verifies only) for RS256/ES256.
 * `algorithm` is inferred from the material and, when given, must agree with it.
 */
export interface ServiceKeyInput {
  kid: string;
  algorithm?: ServiceAuthAlgorithm | undefined;
  secret?: SecretMaterial | undefined;
  privateKey?: AsymmetricMaterial | undefined;
  publicKey?: AsymmetricMaterial | undefined;
}

/** A key ready for use: KeyObjects built once, so no call parses PEM or hashes a string secret. */
export interface ServiceKey {
  /** Undefined for keys whose tokens carry no `kid`: the `jwtSecret` shorthand, user-token keys. */
  readonly kid: string | undefined;
  readonly algorithm: ServiceAuthAlgorithm;
  /** Present when this key can sign. */
  readonly signKey: KeyObject | undefined;
  readonly verifyKey: KeyObject;
}

/** A public key in JWKS form, as {@link KeySet.publicJwks} returns it. */
export interface PublicJwk extends JsonWebKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  use: 'sig';
}

/** A JSON Web Key Set of public keys (RFC 7517 §5). */
export interface PublicJwks {
  keys: PublicJwk[];
}

function isJwk(value: unknown): value is JsonWebKey {
  return (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Uint8Array) &&
    !(value instanceof KeyObject) &&
    typeof (value as { kty?: unknown }).kty === 'string'
  );
}

function keyError(field: string, problem: string, cause?: unknown): never {
  // Never the value: this is key material.
  throw badRequest(`service-auth: ${field} ${problem}`, { field }, cause);
}

/** Turns an HMAC secret into a secret KeyObject of at least {@link MIN_SECRET_BYTES}. */
export function importSecret(material: unknown, field: string): KeyObject {
  let key: KeyObject;
  if (typeof material === 'string') key = createSecretKey(Buffer.from(material, 'utf8'));
  else if (material instanceof Uint8Array) key = createSecretKey(Buffer.from(material));
  else if (material instanceof KeyObject) {
    if (material.type !== 'secret')
      keyError(field, `must be a secret key for HS256, got a ${material.type} key`);
    key = material;
  } else if (isJwk(material) && material.kty === 'oct' && typeof material.k === 'string') {
    key = createSecretKey(Buffer.from(material.k, 'base64url'));
  } else {
    keyError(field, "must be a string, a Buffer, a secret KeyObject or an 'oct' JWK");
  }
  const bytes = key.symmetricKeySize ?? 0;
  if (bytes < MIN_SECRET_BYTES) {
    keyError(field, `must be at least ${MIN_SECRET_BYTES} bytes (256 bits) for HS256, got ${bytes} bytes`);
  }
  return key;
}

function importAsymmetric(material: unknown, kind: 'private' | 'public', field: string): KeyObject {
  if (material instanceof KeyObject) {
    if (material.type === 'private') return kind === 'private' ? material : createPublicKey(material);
    if (material.type === 'public' && kind === 'public') return material;
    keyError(field, `must be a ${kind} key, got a ${material.type} key`);
  }
  const create = kind === 'private' ? createPrivateKey : createPublicKey;
  try {
    if (typeof material === 'string' || material instanceof Uint8Array)
      return create(material as string | Buffer);
    if (isJwk(material)) return create({ key: material, format: 'jwk' });
  } catch (error) {
    keyError(field, `is not a valid ${kind} key (${(error as Error).message})`, error);
  }
  return keyError(field, 'must be PEM text, a Buffer holding PEM, a KeyObject or a JWK');
}

function algorithmOf(key: KeyObject, field: string): ServiceAuthAlgorithm {
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS)
      keyError(field, `is a ${bits}-bit RSA key; RS256 needs at least ${MIN_RSA_BITS} bits`);
    return 'RS256';
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve !== 'prime256v1')
      keyError(field, `is an EC key on ${curve ?? 'an unknown curve'}; ES256 needs P-256`);
    return 'ES256';
  }
  return keyError(
    field,
    `is a ${key.asymmetricKeyType ?? 'unknown'} key; only RSA (RS256) and EC P-256 (ES256) are supported`,
  );
}

/** Builds a {@link ServiceKey} from its configuration, checking everything once. */
export function importKey(input: ServiceKeyInput, field: string): ServiceKey {
  const asymmetric = input.privateKey !== undefined || input.publicKey !== undefined;
  if (input.secret !== undefined && asymmetric) {
    keyError(field, 'has both a secret and an RSA/EC key; give one');
  }
  if (input.secret !== undefined) {
    if (input.algorithm !== undefined && input.algorithm !== 'HS256') {
      keyError(`${field}.algorithm`, `is ${input.algorithm} but the key is an HMAC secret (HS256)`);
    }
    const secret = importSecret(input.secret, `${field}.secret`);
    return Object.freeze({ kid: input.kid, algorithm: 'HS256', signKey: secret, verifyKey: secret });
  }
  if (!asymmetric) keyError(field, 'needs a secret (HS256), a privateKey or a publicKey');
  const signKey =
    input.privateKey === undefined
      ? undefined
      : importAsymmetric(input.privateKey, 'private', `${field}.privateKey`);
  const verifyKey =
    input.publicKey === undefined
      ? createPublicKey(signKey!)
      : importAsymmetric(input.publicKey, 'public', `${field}.publicKey`);
  if (signKey !== undefined && input.publicKey !== undefined && !createPublicKey(signKey).equals(verifyKey)) {
    keyError(field, 'has a publicKey that is not the public half of its privateKey');
  }
  const algorithm = algorithmOf(
    verifyKey,
    input.privateKey === undefined ? `${field}.publicKey` : `${field}.privateKey`,
  );
  if (input.algorithm !== undefined && input.algorithm !== algorithm) {
    keyError(`${field}.algorithm`, `is ${input.algorithm} but the key is for ${algorithm}`);
  }
  return Object.freeze({ kid: input.kid, algorithm, signKey, verifyKey });
}

/** An HS256 key without a kid, so its tokens carry none: the `jwtSecret` shorthand, a user-token secret. */
export function importSharedSecret(material: unknown, field: string): ServiceKey {
  const secret = importSecret(material, field);
  return Object.freeze({ kid: undefined, algorithm: 'HS256', signKey: secret, verifyKey: secret });
}

/** A verify-only RS256/ES256 key without a kid, its algorithm fixed by the key's type. */
export function importPublicKey(material: unknown, field: string): ServiceKey {
  const verifyKey = importAsymmetric(material, 'public', field);
  return Object.freeze({
    kid: undefined,
    algorithm: algorithmOf(verifyKey, field),
    signKey: undefined,
    verifyKey,
  });
}

/** Imports the keys of a JWKS (RFC 7517); each needs a `kid`, `alg` is checked when present. */
export function importJwks(jwks: unknown, field: string): ServiceKey[] {
  const keys = (jwks as { keys?: unknown } | null | undefined)?.keys;
  if (!Array.isArray(keys)) keyError(field, 'must be a JWKS object: { keys: [...] }');
  return keys.map((jwk: unknown, i) => {
    const at = `${field}.keys.${i}`;
    if (!isJwk(jwk)) keyError(at, 'is not a JWK');
    const { kid, alg, use } = jwk as JsonWebKey & { kid?: unknown; alg?: unknown; use?: unknown };
    if (typeof kid !== 'string' || kid === '') keyError(`${at}.kid`, 'must be a non-empty string');
    if (use !== undefined && use !== 'sig') keyError(`${at}.use`, "must be 'sig' when present");
    if (alg !== undefined && !(ALGORITHMS as readonly unknown[]).includes(alg)) {
      keyError(`${at}.alg`, `must be one of ${ALGORITHMS.join(', ')}`);
    }
    const algorithm = alg as ServiceAuthAlgorithm | undefined;
    if (jwk.kty === 'oct') return importKey({ kid, algorithm, secret: jwk }, at);
    return importKey({ kid, algorithm, [jwk.d === undefined ? 'publicKey' : 'privateKey']: jwk }, at);
  });
}

/**
 * The keys a manager signs and verifies with. One key is active (signs); every key verifies
 * tokens whose `kid` names it, with that key's algorithm only, so an RS256 public key can never
 * be used as an HS256 secret. A token without a `kid` is checked against the `jwtSecret` key
 * when there is one, else against the only key of its algorithm.
 */
export class KeySet {
  readonly #byKid = new Map<string, ServiceKey>();
  readonly #kidless: ServiceKey | undefined;
  #active: ServiceKey | undefined;

  constructor(keys: readonly ServiceKey[], kidless: ServiceKey | undefined, activeKid: string | undefined) {
    this.#kidless = kidless;
    for (const [i, key] of keys.entries()) this.#add(key, `keys.${i}.kid`);
    if (activeKid !== undefined) {
      this.#active = this.#signer(activeKid, 'activeKid');
    } else {
      this.#active = kidless ?? keys.find((k) => k.signKey !== undefined);
    }
  }

  /** The key that signs, or undefined for a verify-only set. */
  get active(): ServiceKey | undefined {
    return this.#active;
  }

  /** Key ids in the set (the `jwtSecret` key has none). */
  kids(): string[] {
    return [...this.#byKid.keys()];
  }

  /** The key for `kid`, if any. */
  get(kid: string): ServiceKey | undefined {
    return this.#byKid.get(kid);
  }

  /** Adds a key; its kid must be new. */
  add(key: ServiceKey): void {
    this.#add(key, 'kid');
  }

  /** Removes a key; the active key cannot be removed (activate another first). */
  remove(kid: string): ServiceKey {
    const key = this.#byKid.get(kid);
    if (key === undefined) throw badRequest(`ServiceAuthManager: no key with kid '${kid}'`, { kid });
    if (key === this.#active) {
      throw badRequest(
        `ServiceAuthManager: key '${kid}' is the active signing key; activate another key first`,
        {
          kid,
        },
      );
    }
    this.#byKid.delete(kid);
    return key;
  }

  /** Makes `kid` the signing key. */
  activate(kid: string): ServiceKey {
    this.#active = this.#signer(kid, 'kid');
    return this.#active;
  }

  /** The key a token's header points at, or why there is none. */
  select(alg: unknown, kid: unknown): ServiceKey | AuthFailureReason {
    if (typeof alg !== 'string' || !(ALGORITHMS as readonly string[]).includes(alg)) return 'bad_algorithm';
    let key: ServiceKey | undefined;
    if (kid === undefined) {
      key = this.#kidless;
      if (key === undefined) {
        for (const k of this.#byKid.values()) {
          if (k.algorithm !== alg) continue;
          if (key !== undefined) return 'unknown_kid';
          key = k;
        }
      }
    } else {
      if (typeof kid !== 'string') return 'malformed';
      key = this.#byKid.get(kid);
    }
    if (key === undefined) return 'unknown_kid';
    return key.algorithm === alg ? key : 'bad_algorithm';
  }

  /** The public keys (RS256, ES256) as a JWKS; HMAC secrets are never published. */
  publicJwks(): PublicJwks {
    const keys: PublicJwk[] = [];
    for (const key of this.#byKid.values()) {
      if (key.algorithm === 'HS256') continue;
      const jwk = key.verifyKey.export({ format: 'jwk' });
      keys.push({ ...jwk, kid: key.kid!, alg: key.algorithm, use: 'sig' });
    }
    return { keys };
  }

  #add(key: ServiceKey, field: string): void {
    const kid = key.kid!;
    if (this.#byKid.has(kid))
      throw badRequest(`ServiceAuthManager: ${field} '${kid}' is already in the key set`, { kid });
    this.#byKid.set(kid, key);
  }

  #signer(kid: string, field: string): ServiceKey {
    const key = this.#byKid.get(kid);
    if (key === undefined)
      throw badRequest(`ServiceAuthManager: ${field} '${kid}' is not in the key set`, { field, kid });
    if (key.signKey === undefined) {
      throw badRequest(`ServiceAuthManager: ${field} '${kid}' has only a public key and cannot sign`, {
        field,
        kid,
      });
    }
    return key;
  }
}
