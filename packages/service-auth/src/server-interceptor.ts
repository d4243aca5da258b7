import { nonEmptyString } from '@clone/internal';
import { isServiceError, parseOptions, type ServiceError, ServiceErrorCode } from '@clone/service-errors';
import {
  type Metadata,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type ServerMethodDefinition,
  status,
} from '@grpc/grpc-js';
import { z } from 'zod';
import { bearerToken } from './bearer';
import { badRequest, forbidden, missingPermission, unauthorized } from './errors';
import type { FailureReporter } from './failure-report';
import type { ServiceTokenPayload } from './payload';
import { firstMissingPermission } from './permissions';
import type { TokenVerifier } from './token-verifier';

/** Methods any caller may use without a token unless `publicMethods` says otherwise. */
export const DEFAULT_PUBLIC_METHODS: readonly string[] = Object.freeze([
  '/grpc.health.v1.Health/Check',
  '/grpc.health.v1.Health/Watch',
]);

const METHOD_PATH = /^\/[^/\s]+\/([^/\s*]+|\*)$/;
const METHOD_PATH_HINT =
  "must be a full method path like '/asr.ASRService/Transcribe' or '/asr.ASRService/*'";
const methodPath = z.string().regex(METHOD_PATH, { error: METHOD_PATH_HINT });

const serverInterceptorOptionsSchema = z.strictObject({
  /** Full method path (or `/pkg.Service/*`) → permissions the caller must all hold. */
  methodPermissions: z.record(z.string(), z.array(nonEmptyString())).optional(),
  /** Methods that need no token at all. Default: gRPC health `Check` and `Watch`. */
  publicMethods: z.array(methodPath).optional(),
  /** Methods in neither list: any valid token (`'authenticated'`, default) or refused (`'deny'`). */
  unlistedMethods: z.enum(['authenticated', 'deny']).default('authenticated'),
  /**
   * Keep `authorization` in the metadata the handler sees. Default false: a handler that logs
   * or forwards its metadata would leak the caller's credential.
   */
  keepAuthorizationHeader: z.boolean().default(false),
  /**
   * The audience every token must name in `aud`: this server's own service name. A token for
   * another service, or one without `aud`, is refused with `UNAUTHENTICATED` (`wrong_audience`),
   * so a token sent to one callee cannot be replayed against another that trusts the same key.
   */
  audience: nonEmptyString().optional(),
});

/** Options of `ServiceAuthManager.createServerInterceptor`. */
export type ServerInterceptorOptions = z.input<typeof serverInterceptorOptionsSchema>;

// One registry per process, shared by every copy of this package (ESM and CJS builds loaded
// together), so a handler's getServiceIdentity sees what any copy's interceptor recorded.
const REGISTRY = Symbol.for('@clone/service-auth.identities');
const registry = globalThis as { [REGISTRY]?: WeakMap<object, ServiceTokenPayload> };
registry[REGISTRY] ??= new WeakMap();
const identities = registry[REGISTRY];

/**
 * The verified caller of a call that passed the auth server interceptor: pass the handler's
 * `call` (or its `metadata`). Undefined for public methods and calls that did not go through
 * the interceptor. Keyed by the request Metadata object, so an interceptor placed after the
 * auth interceptor must pass that object on rather than a copy.
 */
export function getServiceIdentity(
  call: { metadata: Metadata } | Metadata | null | undefined,
): ServiceTokenPayload | undefined {
  if (call === null || call === undefined) return undefined;
  const metadata = 'metadata' in call ? call.metadata : call;
  return typeof metadata === 'object' && metadata !== null ? identities.get(metadata) : undefined;
}

type Rule =
  | { kind: 'public' }
  | { kind: 'deny' }
  | {
      kind: 'require';
      permissions: readonly string[];
      /** Verified payloads already known to hold `permissions`: payloads are cached, so this hits. */
      granted: WeakSet<ServiceTokenPayload>;
    };

const PUBLIC: Rule = { kind: 'public' };
const DENY: Rule = { kind: 'deny' };
const AUTHENTICATED: Rule = { kind: 'require', permissions: [], granted: new WeakSet() };

/**
 * The keys of `methodPermissions` as given. Checked here rather than by the schema: zod reports
 * a bad record key without the key, and drops an own `__proto__` key without a word.
 */
function checkMethodKeys(input: unknown): void {
  const given = (input as { methodPermissions?: unknown } | null | undefined)?.methodPermissions;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) return;
  for (const method of Object.keys(given)) {
    if (!METHOD_PATH.test(method)) {
      throw badRequest(`createServerInterceptor: methodPermissions key '${method}' ${METHOD_PATH_HINT}`, {
        field: 'methodPermissions',
      });
    }
  }
}

/** The grpc status a refusal is answered with. */
function statusOf(error: ServiceError): status {
  if (error.code === ServiceErrorCode.FORBIDDEN) return status.PERMISSION_DENIED;
  if (error.code === ServiceErrorCode.UNAUTHORIZED) return status.UNAUTHENTICATED;
  return status.INTERNAL;
}

/**
 * The grpc-js server interceptor behind `ServiceAuthManager.createServerInterceptor`: it needs
 * only a {@link TokenVerifier} and somewhere to report the refusals the verifier does not see
 * (no header, a missing permission).
 */
export function createAuthServerInterceptor(
  verifier: TokenVerifier,
  report: FailureReporter,
  input: ServerInterceptorOptions,
): ServerInterceptor {
  checkMethodKeys(input);
  const options = parseOptions(serverInterceptorOptionsSchema, input, 'createServerInterceptor');
  const publicMethods = new Set(options.publicMethods ?? DEFAULT_PUBLIC_METHODS);
  const required = new Map(Object.entries(options.methodPermissions ?? {}));
  const context = (method: string) =>
    options.audience === undefined ? { method } : { method, audience: options.audience };
  for (const method of publicMethods) {
    if (required.has(method)) {
      throw badRequest(
        `createServerInterceptor: '${method}' is both in publicMethods and in methodPermissions`,
        {
          field: 'publicMethods',
        },
      );
    }
  }
  const unlisted = options.unlistedMethods === 'deny' ? DENY : AUTHENTICATED;
  const rules = new Map<string, Rule>();

  function ruleFor(path: string): Rule {
    let rule = rules.get(path);
    if (rule !== undefined) return rule;
    const service = `${path.slice(0, path.lastIndexOf('/'))}/*`;
    const permissions = required.get(path) ?? required.get(service);
    if (publicMethods.has(path) || publicMethods.has(service)) rule = PUBLIC;
    else if (permissions === undefined) rule = unlisted;
    else rule = { kind: 'require', permissions: Object.freeze([...permissions]), granted: new WeakSet() };
    // Bounded by the server's method count: grpc-js only calls interceptors for registered methods.
    rules.set(path, rule);
    return rule;
  }

  function check(metadata: Metadata, method: string, rule: Rule): ServiceTokenPayload {
    const values = metadata.get('authorization');
    let token: string;
    try {
      token = bearerToken(
        values.length === 0 ? undefined : values.length === 1 ? values[0] : values,
        "'authorization' metadata",
        'authorization: Bearer <jwt>',
      );
    } catch (error) {
      report(error as ServiceError, method, undefined);
      throw error;
    }
    const payload = verifier.verify(token, context(method));
    if (rule.kind === 'deny') {
      const error = forbiddenMethod(payload, method);
      report(error, method, payload.serviceName);
      throw error;
    }
    if (rule.kind === 'require' && rule.permissions.length > 0 && !rule.granted.has(payload)) {
      const missing = firstMissingPermission(payload, rule.permissions);
      if (missing !== undefined) {
        const error = missingPermission(payload.serviceName, missing, method);
        report(error, method, payload.serviceName);
        throw error;
      }
      rule.granted.add(payload);
    }
    return payload;
  }

  return (descriptor: ServerMethodDefinition<unknown, unknown>, call: ServerInterceptingCallInterface) => {
    const method = descriptor.path;
    const rule = ruleFor(method);
    if (rule === PUBLIC) return new ServerInterceptingCall(call);
    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, mdNext) {
            try {
              const payload = check(metadata, method, rule);
              identities.set(metadata, payload);
              if (!options.keepAuthorizationHeader) metadata.remove('authorization');
            } catch (error) {
              // Nothing thrown here may escape into grpc-js: every failure answers the call.
              const e = isServiceError(error)
                ? error
                : unauthorized('malformed', 'token could not be verified', { cause: error });
              call.sendStatus({ code: statusOf(e), details: e.message });
              return;
            }
            mdNext(metadata);
          },
        });
      },
    });
  };
}

function forbiddenMethod(payload: ServiceTokenPayload, method: string): ServiceError {
  return forbidden(
    'method_not_allowed',
    `${method} is not open to service tokens (no permissions configured for it)`,
    {
      method,
      serviceName: payload.serviceName,
    },
  );
}
