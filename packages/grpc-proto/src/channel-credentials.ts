import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { nonEmptyString } from '@clone/internal';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import * as grpc from '@grpc/grpc-js';
import { z } from 'zod';

const pem = z.union([z.string(), z.instanceof(Buffer)]);

/** TLS settings: PEM contents (strings or Buffers) or `…File` paths. */
export const tlsSettingsSchema = z.strictObject({
  /** CA certificates to trust; default: Node's root store. */
  rootCerts: pem.optional(),
  rootCertsFile: nonEmptyString().optional(),
  /** Client certificate and key, for mutual TLS: both or neither. */
  certChain: pem.optional(),
  certChainFile: nonEmptyString().optional(),
  privateKey: pem.optional(),
  privateKeyFile: nonEmptyString().optional(),
  /** Expected server name when it differs from the target host (`grpc.ssl_target_name_override`). */
  serverName: nonEmptyString().optional(),
});

/** TLS settings of a client: what to trust, what to present, which name to expect. */
export type TlsSettings = z.input<typeof tlsSettingsSchema>;

/** The schema of a `credentials` option: `'insecure'`, {@link TlsSettings} or grpc-js credentials. */
export const credentialsSettingSchema = z.union([
  z.literal('insecure'),
  tlsSettingsSchema,
  z.custom<grpc.ChannelCredentials>((v) => v instanceof grpc.ChannelCredentials, {
    error: "must be 'insecure', TLS settings or grpc ChannelCredentials",
  }),
]);

/** How a client secures its channels: `'insecure'` (plaintext), TLS settings, or grpc-js credentials. */
export type CredentialsSetting = z.input<typeof credentialsSettingSchema>;

/** The channel credentials and the channel options (the expected server name) of one setting. */
export interface ChannelSecurity {
  readonly credentials: grpc.ChannelCredentials;
  readonly channelOptions: grpc.ChannelOptions;
}

function bad(field: string, message: string, cause?: unknown): ServiceError {
  return new ServiceError(ServiceErrorCode.BAD_REQUEST, `credentials.${field} ${message}`, undefined, {
    retryable: false,
    metadata: { field: `credentials.${field}` },
    ...(cause === undefined ? {} : { cause }),
  });
}

type PemField = 'rootCerts' | 'certChain' | 'privateKey';

/** The PEM of one field, from its contents or its file; a file that cannot be read names the field. */
function pemOf(tls: TlsSettings, field: PemField): Buffer | null {
  const value = tls[field];
  const file = tls[`${field}File`];
  if (value !== undefined && file !== undefined)
    throw bad(field, `and ${field}File are both given: give one`);
  if (value !== undefined) return Buffer.isBuffer(value) ? value : Buffer.from(value);
  if (file === undefined) return null;
  try {
    return readFileSync(file);
  } catch (error) {
    throw bad(`${field}File`, `cannot be read: ${(error as Error).message}`, error);
  }
}

/** Parses the PEM now, so a wrong file fails at construction naming its field, not at the first call. */
function checkPem(field: PemField, value: Buffer | null, tls: TlsSettings): void {
  if (value === null) return;
  const name = tls[field] === undefined ? `${field}File` : field;
  try {
    if (field === 'privateKey') createPrivateKey(value);
    else new X509Certificate(value);
  } catch (error) {
    throw bad(name, `is not a PEM ${field === 'privateKey' ? 'private key' : 'certificate'}`, error);
  }
}

/**
 * The one place channel credentials are made from a `credentials` setting: for the client
 * factory's channels and for the registry's health checks of the same instances (hand
 * `.credentials` to `ServiceRegistry`'s `grpcCredentials`), so both speak the same TLS.
 * TLS settings are checked now: a certificate without its key (or a key without its
 * certificate), a file that cannot be read, or a PEM that does not parse throws ServiceError
 * BAD_REQUEST naming the field.
 */
export function channelSecurity(setting: CredentialsSetting = 'insecure'): ChannelSecurity {
  if (setting === 'insecure') return { credentials: grpc.credentials.createInsecure(), channelOptions: {} };
  if (setting instanceof grpc.ChannelCredentials) return { credentials: setting, channelOptions: {} };
  const tls = setting;
  const rootCerts = pemOf(tls, 'rootCerts');
  const certChain = pemOf(tls, 'certChain');
  const privateKey = pemOf(tls, 'privateKey');
  if (certChain !== null && privateKey === null)
    throw bad('privateKey', 'is required with certChain (mutual TLS needs the certificate and its key)');
  if (privateKey !== null && certChain === null)
    throw bad('certChain', 'is required with privateKey (mutual TLS needs the certificate and its key)');
  checkPem('rootCerts', rootCerts, tls);
  checkPem('certChain', certChain, tls);
  checkPem('privateKey', privateKey, tls);
  let credentials: grpc.ChannelCredentials;
  try {
    credentials = grpc.credentials.createSsl(rootCerts, privateKey, certChain);
  } catch (error) {
    // e.g. a key that does not belong to the certificate.
    throw bad('privateKey', `does not fit certChain: ${(error as Error).message}`, error);
  }
  const channelOptions: grpc.ChannelOptions =
    tls.serverName === undefined ? {} : { 'grpc.ssl_target_name_override': tls.serverName };
  return { credentials, channelOptions };
}

/**
 * The grpc-js channel credentials of a `credentials` setting (see {@link channelSecurity}),
 * e.g. for a `ServiceRegistry` of your own whose health checks must speak your clients' TLS:
 * `new ServiceRegistry({ grpcCredentials: channelCredentials(tls) })`.
 */
export function channelCredentials(setting: CredentialsSetting = 'insecure'): grpc.ChannelCredentials {
  return channelSecurity(setting).credentials;
}
