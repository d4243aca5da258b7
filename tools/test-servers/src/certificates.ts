import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atExit } from './children';
import { startWatchdog } from './watchdog';

/** A certificate and its private key: PEM contents and the files holding them. */
export interface KeyPair {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly certFile: string;
  readonly keyFile: string;
}

/** What a certificate is for, and the names it is valid for. */
export interface IssueOptions {
  /** `server` (serverAuth) or `client` (clientAuth). */
  usage: 'server' | 'client';
  /** The subject's CN; default the first DNS name, else the certificate's name. */
  commonName?: string | undefined;
  /** DNS names in the subjectAltName. */
  dns?: readonly string[] | undefined;
  /** IP addresses in the subjectAltName. */
  ips?: readonly string[] | undefined;
}

/** A throwaway PKI for TLS tests, in a temporary directory. */
export interface Certificates {
  readonly dir: string;
  /** The CA that signed `server` and `client` (PEM), and its file. */
  readonly ca: Buffer;
  readonly caFile: string;
  /** A server certificate for `localhost` and `127.0.0.1` (subjectAltName), CN `localhost`. */
  readonly server: KeyPair;
  /** A client certificate, CN `client`. */
  readonly client: KeyPair;
  /** Another CA, trusted by nobody: what an impostor's certificates chain to. */
  readonly otherCa: Buffer;
  readonly otherCaFile: string;
  /** A client certificate signed by `otherCa`, CN `client`: right name, wrong issuer. */
  readonly otherClient: KeyPair;
  /** Issues another certificate signed by the CA, e.g. a server certificate for other names. */
  issue(name: string, options: IssueOptions): KeyPair;
  /** Removes the directory (also done at exit, and by a watchdog if this process is killed). */
  remove(): void;
}

const CURVE = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: readonly string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: 'pipe' });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') {
      throw new Error('openssl is not installed: run `pnpm servers` (installs the Debian package openssl)');
    }
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() ?? e.message}`, {
      cause: error,
    });
  }
}

/** A self-signed CA certificate and key named `name` in `dir`. */
function makeCa(dir: string, name: string): void {
  openssl(
    [
      'req',
      '-x509',
      ...CURVE,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=clone test ${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
}

/** A leaf certificate `name` signed by the CA `ca` in `dir`. */
function sign(dir: string, ca: string, name: string, options: IssueOptions): KeyPair {
  if (!/^[\w-]+$/.test(name)) throw new Error(`certificate name must be a plain file name, got ${name}`);
  const cn = options.commonName ?? options.dns?.[0] ?? name;
  openssl(
    ['req', '-new', ...CURVE, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`],
    dir,
  );
  const names = [
    ...(options.dns ?? []).map((d) => `DNS:${d}`),
    ...(options.ips ?? []).map((ip) => `IP:${ip}`),
  ];
  const extensions = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${options.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
    ...(names.length > 0 ? [`subjectAltName=${names.join(',')}`] : []),
  ];
  writeFileSync(join(dir, `${name}.ext`), `${extensions.join('\n')}\n`);
  const serial = `0x${randomBytes(8).toString('hex')}`;
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.pem`,
      '-CAkey',
      `${ca}.key`,
      '-set_serial',
      serial,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    ],
    dir,
  );
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  return { cert: readFileSync(certFile), key: readFileSync(keyFile), certFile, keyFile };
}

/**
 * Makes a CA, a server certificate for `localhost`/127.0.0.1, a client certificate, and a second
 * CA with a client certificate of its own, with Debian's `openssl` (P-256 keys, valid a day), in
 * a temporary directory. Real certificates made at test time: nothing secret is committed and
 * nothing expires in the repository.
 */
export function makeCertificates(): Certificates {
  const dir = mkdtempSync(join(tmpdir(), 'clone-certs-'));
  const watchdog = startWatchdog('rm -rf "$1"', [dir]);
  const unhook = atExit(() => remove());
  let removed = false;
  function remove(): void {
    if (removed) return;
    removed = true;
    watchdog.disarm();
    unhook();
    rmSync(dir, { recursive: true, force: true });
  }
  try {
    makeCa(dir, 'ca');
    makeCa(dir, 'other-ca');
    const server = sign(dir, 'ca', 'server', { usage: 'server', dns: ['localhost'], ips: ['127.0.0.1'] });
    const client = sign(dir, 'ca', 'client', { usage: 'client' });
    const otherClient = sign(dir, 'other-ca', 'other-client', { usage: 'client', commonName: 'client' });
    const caFile = join(dir, 'ca.pem');
    const otherCaFile = join(dir, 'other-ca.pem');
    return {
      dir,
      ca: readFileSync(caFile),
      caFile,
      server,
      client,
      otherCa: readFileSync(otherCaFile),
      otherCaFile,
      otherClient,
      issue: (name, options) => sign(dir, 'ca', name, options),
      remove,
    };
  } catch (error) {
    remove();
    throw error;
  }
}
