import {
  createHash,
  createHmac,
  pbkdf2Sync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/** One step of a server-side SASL exchange. */
export type SaslStep =
  | { readonly kind: 'continue'; readonly reply: Buffer }
  | { readonly kind: 'ok'; readonly username: string; readonly reply: Buffer }
  | { readonly kind: 'refused'; readonly username: string };

/** The broker side of one SASL authentication. */
export interface SaslServer {
  /** Take the client's next token. */
  step(token: Buffer): SaslStep;
}

const SCRAM_ITERATIONS = 4096;

const hmac = (hash: string, key: Buffer, text: string | Buffer): Buffer =>
  createHmac(hash, key).update(text).digest();

/** Parse `a=1,b=2` SCRAM attributes (values may hold `=`). */
function attributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}

/** PLAIN (RFC 4616): `authzid NUL username NUL password`. */
function plain(users: Readonly<Record<string, string>>): SaslServer {
  return {
    step(token) {
      const [, username = '', password = ''] = token
        .toString('utf8')
        .split('\u0000');
      return users[username] !== undefined && users[username] === password
        ? { kind: 'ok', username, reply: Buffer.alloc(0) }
        : { kind: 'refused', username };
    },
  };
}

/**
 * SCRAM (RFC 5802, SHA-256/512 per RFC 7677): a server-first message with
 * a fresh salt and nonce, then the client proof verified against the
 * stored key, and the server signature the client checks.
 */
function scram(
  hash: 'sha256' | 'sha512',
  users: Readonly<Record<string, string>>,
): SaslServer {
  const keyLength = hash === 'sha512' ? 64 : 32;
  let first:
    | {
        username: string;
        clientFirstBare: string;
        serverFirst: string;
        nonce: string;
        salt: Buffer;
      }
    | undefined;
  return {
    step(token) {
      const text = token.toString('utf8');
      if (first === undefined) {
        // client-first-message: gs2 header "n,," then n=user,r=nonce
        if (!text.startsWith('n,,')) return { kind: 'refused', username: '' };
        const bare = text.slice(3);
        const attrs = attributes(bare);
        const username = (attrs.get('n') ?? '')
          .replace(/=2C/g, ',')
          .replace(/=3D/g, '=');
        const nonce = `${attrs.get('r') ?? ''}${randomBytes(18).toString('base64')}`;
        const salt = randomBytes(16);
        const serverFirst = `r=${nonce},s=${salt.toString('base64')},i=${SCRAM_ITERATIONS}`;
        first = { username, clientFirstBare: bare, serverFirst, nonce, salt };
        return { kind: 'continue', reply: Buffer.from(serverFirst) };
      }
      // client-final-message: c=biws,r=nonce,p=proof
      const s = first;
      const attrs = attributes(text);
      const password = users[s.username];
      const proof = Buffer.from(attrs.get('p') ?? '', 'base64');
      if (
        password === undefined ||
        attrs.get('c') !== Buffer.from('n,,').toString('base64') ||
        attrs.get('r') !== s.nonce ||
        proof.length !== keyLength
      )
        return { kind: 'refused', username: s.username };
      const salted = pbkdf2Sync(
        password,
        s.salt,
        SCRAM_ITERATIONS,
        keyLength,
        hash,
      );
      const clientKey = hmac(hash, salted, 'Client Key');
      const storedKey = createHash(hash).update(clientKey).digest();
      const withoutProof = text.slice(0, text.lastIndexOf(',p='));
      const authMessage = `${s.clientFirstBare},${s.serverFirst},${withoutProof}`;
      const signature = hmac(hash, storedKey, authMessage);
      const recovered = Buffer.alloc(keyLength);
      for (let i = 0; i < keyLength; i++)
        recovered[i] = (proof[i] as number) ^ (signature[i] as number);
      if (
        !timingSafeEqual(createHash(hash).update(recovered).digest(), storedKey)
      )
        return { kind: 'refused', username: s.username };
      const serverKey = hmac(hash, salted, 'Server Key');
      const verifier = hmac(hash, serverKey, authMessage).toString('base64');
      return {
        kind: 'ok',
        username: s.username,
        reply: Buffer.from(`v=${verifier}`),
      };
    },
  };
}

/** The server side of `mechanism` (as Kafka names it: `PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`). */
export function createSaslServer(
  mechanism: string,
  users: Readonly<Record<string, string>>,
): SaslServer {
  if (mechanism === 'PLAIN') return plain(users);
  return scram(mechanism === 'SCRAM-SHA-512' ? 'sha512' : 'sha256', users);
}
