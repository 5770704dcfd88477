// Property: any single-byte mutation of a valid token fails with a WritError (never another exception, never a pass).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { StaticKeySource, WritError } from '../src/index.js';
import { issue, request, schedule, signer, verifier } from './helpers/core.js';

test('any byte mutation of a valid token fails with a WritError', async () => {
  const keys = schedule();
  const s = signer(keys);
  const tokens = [issue(keys), s.sign(s.claims(request()), { mac: true }).token, issue(schedule({ alg: 'ES256' }))];
  const v = verifier(
    new StaticKeySource({
      jwks: { keys: [...keys.jwks().keys, ...schedule({ alg: 'ES256' }).jwks().keys] },
      keys: [keys.audienceMacKey(request().aud as string)],
    }),
    { algorithms: ['EdDSA', 'ES256', 'HS256'] },
  );
  for (const t of tokens) assert.ok(await v.verify(t));
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...tokens),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      async (token, at, byte) => {
        const bytes = Buffer.from(token, 'latin1');
        const i = at % bytes.length;
        fc.pre(bytes[i] !== byte);
        bytes[i] = byte;
        await assert.rejects(v.verify(bytes.toString('latin1')), (e: unknown) => e instanceof WritError);
      },
    ),
    { numRuns: 2000 },
  );
});
