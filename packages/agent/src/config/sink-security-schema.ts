import { z } from 'zod';
import { describeValue } from '../internal/describe-value.js';
import { flag, section } from './schema-helpers.js';

const path = (description: string) =>
  z.string().min(1).optional().describe(description);

/** `"1.2"`, `1.2` (YAML reads it as a number) or `"TLSv1.2"`; the same for 1.3. */
const minVersion = z
  .union(
    [
      z.enum(['1.2', '1.3', 'TLSv1.2', 'TLSv1.3']),
      z.literal(1.2),
      z.literal(1.3),
    ],
    {
      error: (issue) =>
        `expected "1.2" or "1.3", got ${describeValue(issue.input)}`,
    },
  )
  .transform((value) =>
    String(value).endsWith('1.3') ? ('TLSv1.3' as const) : ('TLSv1.2' as const),
  )
  .optional()
  .describe('Lowest TLS version accepted. @default 1.2');

/**
 * A sink's `tls` section. Files are read by the agent at start and again on
 * every reload (certificate rotation without a restart); `lc-agent
 * validate` checks they are readable, parse as PEM and that the key
 * matches the certificate.
 */
export function tlsSection(scope: string) {
  return section({
    ca_file: path(
      'PEM CA certificate(s) that verify the server; replaces the system roots (add public roots to the file if needed). @default the system roots',
    ),
    cert_file: path(
      'PEM client certificate (then its chain) for mutual TLS; needs key_file.',
    ),
    key_file: path(
      'PEM private key of cert_file (PKCS#8, PKCS#1 or SEC1; may be encrypted).',
    ),
    key_password: z
      .string()
      .optional()
      .describe(
        'Password of an encrypted key_file (secret; prefer key_password_file or ${VAR}).',
      ),
    key_password_file: path(
      'File holding the key_file password (one trailing newline ignored).',
    ),
    server_name: z
      .string()
      .min(1)
      .optional()
      .describe(
        `Name sent as SNI and checked against the server certificate. @default the ${scope} host`,
      ),
    insecure_skip_verify: flag(
      false,
      'Accept any server certificate (expired, self-signed, other name): testing only; logged as a warning at start.',
    ),
    min_version: minVersion,
  })
    .check((ctx) => {
      const t = ctx.value;
      const issue = (key: string, message: string) =>
        ctx.issues.push({ code: 'custom', input: t, path: [key], message });
      if (t.cert_file !== undefined && t.key_file === undefined)
        issue(
          'key_file',
          'required with cert_file (a client certificate needs its key)',
        );
      if (t.key_file !== undefined && t.cert_file === undefined)
        issue(
          'cert_file',
          'required with key_file (a client key needs its certificate)',
        );
      if (t.key_password !== undefined && t.key_password_file !== undefined)
        issue(
          'key_password_file',
          'set either key_password or key_password_file, not both',
        );
      if (
        (t.key_password !== undefined || t.key_password_file !== undefined) &&
        t.key_file === undefined
      )
        issue(
          t.key_password === undefined ? 'key_password_file' : 'key_password',
          'set without key_file',
        );
    })
    .optional()
    .describe(
      scope === 'broker'
        ? 'TLS to the brokers (SSL / SASL_SSL listeners): the section turns TLS on; `tls: {}` verifies with the system roots.'
        : 'TLS for an https:// url: CA, client certificate (mutual TLS), server name, minimum version.',
    );
}

/** The Kafka sink's `sasl` section. */
export const saslSection = section({
  mechanism: z
    .enum(['plain', 'scram-sha-256', 'scram-sha-512'])
    .describe(
      'SASL mechanism; plain sends the password itself, so use it with tls.',
    ),
  username: z.string().min(1).describe('SASL user.'),
  password: z
    .string()
    .min(1)
    .optional()
    .describe('SASL password (secret; prefer password_file or ${VAR}).'),
  password_file: path(
    'File holding the SASL password (one trailing newline ignored).',
  ),
})
  .check((ctx) => {
    const s = ctx.value;
    if ((s.password === undefined) === (s.password_file === undefined))
      ctx.issues.push({
        code: 'custom',
        input: s,
        path: ['password'],
        message:
          s.password === undefined
            ? 'required: set password or password_file'
            : 'set either password or password_file, not both',
      });
  })
  .optional()
  .describe(
    'SASL authentication (with tls: SASL_SSL; without: SASL_PLAINTEXT).',
  );

/** `password_file` / `bearer_token_file` of the HTTP-based sinks. */
export const httpSecretFiles = {
  password_file: path(
    'File holding the basic auth password (one trailing newline ignored; re-read on reload).',
  ),
  bearer_token_file: path(
    'File holding the bearer token (one trailing newline ignored; re-read on reload).',
  ),
};

/** The keys of an HTTP-based sink that {@link checkHttpSinkSecurity} reads. */
interface HttpSinkSecurityFields {
  url: string;
  tls?: unknown;
  username?: string | undefined;
  password?: string | undefined;
  password_file?: string | undefined;
  bearer_token?: string | undefined;
  bearer_token_file?: string | undefined;
}

/**
 * Checks of an HTTP-based sink section: `tls` needs an https:// url; a
 * secret and its `_file` form exclude each other.
 */
export function checkHttpSinkSecurity(
  ctx: z.core.ParsePayload<HttpSinkSecurityFields>,
): void {
  const s = ctx.value;
  const issue = (key: string, message: string) =>
    ctx.issues.push({ code: 'custom', input: s, path: [key], message });
  if (s.tls !== undefined && !s.url.startsWith('https:'))
    issue('tls', `needs an https:// url, got ${describeValue(s.url)}`);
  if (s.password !== undefined && s.password_file !== undefined)
    issue('password_file', 'set either password or password_file, not both');
  if (s.bearer_token !== undefined && s.bearer_token_file !== undefined)
    issue(
      'bearer_token_file',
      'set either bearer_token or bearer_token_file, not both',
    );
  if (s.password_file !== undefined && s.username === undefined)
    issue('username', 'required with password_file');
}
