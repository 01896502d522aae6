import { randomBytes, verify } from 'node:crypto';
import type { MatchedOperation } from '../openapi.js';
import { Failure, notFound, type Routes } from './replies.js';
import type { FakeStore } from './store.js';

/** App authentication: `/app/…` takes the app's JWT, everything else an installation token the fake handed out. */
export function authenticate(store: FakeStore, op: MatchedOperation, headers: Record<string, string>): void {
  const [scheme = '', credential = ''] = (headers.authorization ?? '').split(' ');
  if (op.template.startsWith('/app/')) {
    if (scheme.toLowerCase() !== 'bearer' || !validJwt(store, credential)) throw new Failure(401, 'A JSON web token could not be decoded');
    return;
  }
  if (!['token', 'bearer'].includes(scheme.toLowerCase()) || !store.tokens.has(credential)) throw new Failure(401, 'Bad credentials');
}

export function authRoutes(store: FakeStore): Routes {
  return {
    'apps/create-installation-access-token': ({ op }) => {
      if (Number(op.params.installation_id) !== store.installationId) throw notFound();
      const token = `ghs_${randomBytes(18).toString('hex')}`;
      store.tokens.add(token);
      const permissions = { contents: 'write', issues: 'write', pull_requests: 'write', checks: 'write', metadata: 'read' };
      return { status: 201, body: { token, expires_at: new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z'), permissions, repository_selection: 'all' } };
    },
  };
}

function validJwt(store: FakeStore, jwt: string): boolean {
  const [header = '', payload = '', signature = ''] = jwt.split('.');
  const signed = verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), store.app.publicKey, Buffer.from(signature, 'base64url'));
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8') || '{}') as { iss?: unknown; exp?: unknown };
  return signed && String(claims.iss) === String(store.app.appId) && Number(claims.exp) > Date.now() / 1000;
}
