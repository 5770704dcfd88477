/**
 * The admin API (scope `writ:admin`): revoke by jti, subject, client, key epoch or root generation; clients CRUD and
 * secret rotation; key rotation and root retirement; subject erasure. Every change lands in the ledger, attributed
 * to the admin token's client.
 * @module
 */
import { isJsonObject, type RecordActor, WritError } from '@writ/verifier';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { claimsOf, requireScope } from '../api-auth.js';
import type { HttpContext } from '../app.js';
import type { NewClient } from '../client-registry.js';
import { publicClient } from '../client-view.js';
import type { RevokeTarget } from '../revoker.js';

export const ADMIN_SCOPE = 'writ:admin';

function body(req: FastifyRequest): Record<string, unknown> {
  if (!isJsonObject(req.body)) throw new WritError('ERR_INVALID_REQUEST', { detail: 'expected a JSON object body' });
  return req.body;
}

function actor(req: FastifyRequest): RecordActor {
  return { kind: 'admin', id: claimsOf(req).client_id };
}

const nonNegInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Reads one revocation target from an admin request body. */
export function revokeTarget(b: Record<string, unknown>): RevokeTarget {
  const keys = ['jti', 'sub', 'client_id', 'epoch', 'generation', 'family'].filter((k) => b[k] !== undefined);
  if (keys.length !== 1 && !(keys.length === 2 && keys.includes('epoch') && keys.includes('generation'))) {
    throw new WritError('ERR_INVALID_REQUEST', {
      detail: 'give exactly one of jti, sub, client_id, family, generation, or epoch with generation',
    });
  }
  const str = (k: string) => {
    const v = b[k];
    if (typeof v !== 'string' || v === '' || v.length > 1024) {
      throw new WritError('ERR_INVALID_REQUEST', { detail: `${k} must be a non-empty string` });
    }
    return v;
  };
  if (b.epoch !== undefined) {
    if (!nonNegInt(b.epoch) || !nonNegInt(b.generation)) {
      throw new WritError('ERR_INVALID_REQUEST', { detail: 'epoch and generation must be integers' });
    }
    return { kind: 'epoch', epoch: b.epoch, generation: b.generation };
  }
  if (b.generation !== undefined) {
    if (!nonNegInt(b.generation)) throw new WritError('ERR_INVALID_REQUEST', { detail: 'generation: integer' });
    return { kind: 'generation', generation: b.generation };
  }
  if (b.jti !== undefined) return { kind: 'jti', jti: str('jti') };
  if (b.sub !== undefined) return { kind: 'subject', sub: str('sub') };
  if (b.client_id !== undefined) return { kind: 'client', clientId: str('client_id') };
  return { kind: 'family', familyId: str('family') };
}

export function adminRoutes(app: FastifyInstance, http: HttpContext): void {
  const { svc } = http;
  const admin = { preHandler: requireScope(http, ADMIN_SCOPE) };

  app.post('/admin/revoke', admin, async (req) => {
    const target = revokeTarget(body(req));
    if (target.kind === 'generation') await svc.keys.ensureSuccessor(target.generation);
    const r = await svc.revoker.revoke(target, { reason: 'admin_request', actor: actor(req) });
    return { revoked: r.jtis.length, jtis: r.jtis, ledger_indexes: r.indexes };
  });

  app.get('/admin/clients', admin, async () => ({ clients: (await svc.clients.list()).map(publicClient) }));

  app.post('/admin/clients', admin, async (req, reply) => {
    const { client, secret } = await svc.clients.create(body(req) as unknown as NewClient, actor(req));
    return reply
      .code(201)
      .header('cache-control', 'no-store')
      .send({
        ...publicClient(client),
        ...(secret ? { client_secret: secret } : {}),
      });
  });

  app.get('/admin/clients/:id', admin, async (req) => {
    const client = await svc.clients.store.get((req.params as { id: string }).id);
    if (!client) throw new WritError('ERR_NOT_FOUND', { detail: 'no such client' });
    return publicClient(client);
  });

  app.patch('/admin/clients/:id', admin, async (req) => {
    const patch = body(req);
    for (const k of ['clientId', 'client_id', 'secretHash', 'createdAt', 'updatedAt']) {
      if (k in patch) throw new WritError('ERR_INVALID_REQUEST', { detail: `${k} cannot be changed` });
    }
    const client = await svc.clients.update((req.params as { id: string }).id, patch as Partial<NewClient>, actor(req));
    if (!client) throw new WritError('ERR_NOT_FOUND', { detail: 'no such client' });
    return publicClient(client);
  });

  app.delete('/admin/clients/:id', admin, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    if (!(await svc.clients.remove(id, actor(req)))) throw new WritError('ERR_NOT_FOUND', { detail: 'no such client' });
    // A deleted client's tokens die with it.
    await svc.revoker.revoke({ kind: 'client', clientId: id }, { reason: 'client_deleted', actor: actor(req) });
    return reply.code(204).send();
  });

  app.post('/admin/clients/:id/secret', admin, async (req, reply) => {
    const secret = await svc.clients.rotateSecret((req.params as { id: string }).id, actor(req));
    if (!secret) throw new WritError('ERR_NOT_FOUND', { detail: 'no such client' });
    return reply.header('cache-control', 'no-store').send({ client_secret: secret });
  });

  app.get('/admin/keys', admin, async () => svc.keys.describe());

  app.post('/admin/keys/rotate', admin, async () => svc.keys.rotate(svc.feed, svc.ledger));

  app.post('/admin/keys/retire-root', admin, async (req) => {
    const b = isJsonObject(req.body) ? req.body : {};
    const generation = b.generation ?? svc.keys.schedule.activeGeneration;
    if (!nonNegInt(generation)) throw new WritError('ERR_INVALID_REQUEST', { detail: 'generation: integer' });
    await svc.keys.ensureSuccessor(generation);
    const r = await svc.revoker.revoke(
      { kind: 'generation', generation },
      { reason: 'root_retired', actor: actor(req) },
    );
    return { retired: generation, active_generation: svc.keys.schedule.activeGeneration, ledger_indexes: r.indexes };
  });

  app.post('/admin/subjects/erase', admin, async (req) => {
    const sub = body(req).sub;
    if (typeof sub !== 'string' || sub === '') throw new WritError('ERR_INVALID_REQUEST', { detail: 'sub required' });
    const erased = await svc.ledger.eraseSubject(sub);
    await svc.feed.publish([{ kind: 'subject-erased', data: {} }]);
    return { erased };
  });
}
