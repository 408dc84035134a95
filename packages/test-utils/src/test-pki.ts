import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate and its private key, as files and as PEM text. */
export interface TestCert {
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: string;
  readonly key: string;
}

/**
 * Certificates for TLS tests, all EC P-256, made by the `openssl` CLI.
 * Every leaf is signed by `ca` unless its name says otherwise.
 */
export interface TestPki {
  /** Directory holding every file. */
  readonly dir: string;
  /** The trusted test CA. */
  readonly ca: TestCert;
  /** An unrelated CA: trusting it instead of `ca` must fail. */
  readonly otherCa: TestCert;
  /** Server cert for `127.0.0.1` and `localhost`. */
  readonly server: TestCert;
  /** Server cert naming only `logs.internal` (SNI / `server_name` tests). */
  readonly sniServer: TestCert;
  /** Server cert for `127.0.0.1` whose validity ended yesterday. */
  readonly expiredServer: TestCert;
  /** Client cert, CN `lc-client`. */
  readonly client: TestCert;
  /** A second client cert, CN `lc-client-2` (rotation tests). */
  readonly client2: TestCert;
  /** The `client` key encrypted (AES-256) with {@link TestPki.keyPassword}. */
  readonly encryptedClientKeyPath: string;
  /** Password of `encryptedClientKeyPath`. */
  readonly keyPassword: string;
  /** Client cert signed by `otherCa`: a server trusting `ca` refuses it. */
  readonly untrustedClient: TestCert;
}

const CURVE = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(
      `openssl ${args[0] ?? ''} failed: ${e.stderr ?? e.message}`,
      { cause: error },
    );
  }
}

async function load(
  dir: string,
  certFile: string,
  keyFile: string,
): Promise<TestCert> {
  const certPath = join(dir, certFile);
  const keyPath = join(dir, keyFile);
  return {
    certPath,
    keyPath,
    cert: await readFile(certPath, 'utf8'),
    key: await readFile(keyPath, 'utf8'),
  };
}

async function makeCa(dir: string, name: string): Promise<TestCert> {
  await openssl(
    [
      'req',
      '-x509',
      ...CURVE,
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-subj',
      `/CN=lc test ${name}`,
      '-days',
      '30',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  return load(dir, `${name}.pem`, `${name}.key`);
}

async function makeLeaf(
  dir: string,
  name: string,
  ca: string,
  options: {
    cn: string;
    san?: string;
    usage: 'serverAuth' | 'clientAuth';
    days?: number;
  },
): Promise<TestCert> {
  const ext = [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature',
    `extendedKeyUsage=${options.usage}`,
    ...(options.san === undefined ? [] : [`subjectAltName=${options.san}`]),
  ].join('\n');
  await writeFile(join(dir, `${name}.ext`), `${ext}\n`);
  await openssl(
    [
      'req',
      '-new',
      ...CURVE,
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${options.cn}`,
    ],
    dir,
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.pem`,
      '-CAkey',
      `${ca}.key`,
      // Parallel runs would race on a shared serial file.
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      // -1: valid from now until yesterday, i.e. already expired.
      '-days',
      String(options.days ?? 30),
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    ],
    dir,
  );
  return load(dir, `${name}.pem`, `${name}.key`);
}

/**
 * Generate a fresh test PKI in `dir` with the `openssl` CLI (once per test
 * file: about 25 openssl runs). Nothing here is trusted outside the test.
 */
export async function createTestPki(dir: string): Promise<TestPki> {
  const ca = await makeCa(dir, 'ca');
  const otherCa = await makeCa(dir, 'other-ca');
  const serverSan = 'IP:127.0.0.1,DNS:localhost';
  const [server, sniServer, expiredServer, client, client2, untrustedClient] =
    await Promise.all([
      makeLeaf(dir, 'server', 'ca', {
        cn: 'localhost',
        san: serverSan,
        usage: 'serverAuth',
      }),
      makeLeaf(dir, 'sni-server', 'ca', {
        cn: 'logs.internal',
        san: 'DNS:logs.internal',
        usage: 'serverAuth',
      }),
      makeLeaf(dir, 'expired-server', 'ca', {
        cn: 'localhost',
        san: serverSan,
        usage: 'serverAuth',
        days: -1,
      }),
      makeLeaf(dir, 'client', 'ca', { cn: 'lc-client', usage: 'clientAuth' }),
      makeLeaf(dir, 'client-2', 'ca', {
        cn: 'lc-client-2',
        usage: 'clientAuth',
      }),
      makeLeaf(dir, 'untrusted-client', 'other-ca', {
        cn: 'lc-intruder',
        usage: 'clientAuth',
      }),
    ]);
  const keyPassword = 'test key password';
  await openssl(
    [
      'pkey',
      '-in',
      'client.key',
      '-aes256',
      '-passout',
      `pass:${keyPassword}`,
      '-out',
      'client-encrypted.key',
    ],
    dir,
  );
  return {
    dir,
    ca,
    otherCa,
    server,
    sniServer,
    expiredServer,
    client,
    client2,
    encryptedClientKeyPath: join(dir, 'client-encrypted.key'),
    keyPassword,
    untrustedClient,
  };
}
