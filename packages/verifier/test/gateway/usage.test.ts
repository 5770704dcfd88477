// Usage events end to end (gateway → fixture issuer): batching, fields, denials of authentic tokens only, overload
// drops counted without blocking requests, strict mode waiting for durability and failing closed.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { UsageReporter } from '../../src/gateway/index.js';
import type { WritError } from '../../src/index.js';
import { eventually, FRAMEWORKS, gatewayFor } from './helpers/apps.js';
import { API_AUDIENCE, CLIENT, startFixtureIssuer } from './helpers/issuer.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const jtiOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti;

test('events arrive batched, with jti, audience, decision, time and context hash; garbage is not logged', async () => {
  const issuer = await startFixtureIssuer();
  const gateway = gatewayFor(issuer, { revocations: false, usage: { batchSize: 5, flushInterval: 100 } });
  const app = await FRAMEWORKS[0]!.start(gateway);
  try {
    const before = Date.now();
    const tokens = Array.from({ length: 12 }, () => issuer.sign());
    for (const t of tokens) assert.equal((await fetch(`${app.url}/read?x=1`, { headers: bearer(t) })).status, 200);
    const denied = issuer.sign({ scope: 'read' });
    assert.equal((await fetch(`${app.url}/admin`, { headers: bearer(denied) })).status, 403);
    // Not authentic, or no token at all: refused, never logged.
    assert.equal((await fetch(`${app.url}/read`, { headers: bearer(`${denied.slice(0, -4)}AAAA`) })).status, 401);
    assert.equal((await fetch(`${app.url}/read`)).status, 401);
    await eventually(() => gateway.stats.usage?.sent === 13, 3000, '13 events');
    assert.ok(issuer.usagePosts.every((p) => p.events.length <= 5 && !p.durable));
    assert.ok(issuer.usagePosts.length >= 3);
    const context = createHash('sha256').update(`GET ${app.url}/read?x=1`).digest('base64url');
    const allowed = issuer.usageEvents.filter((e) => e.decision === 'allow');
    assert.deepEqual(
      allowed.map((e) => e.jti),
      tokens.map(jtiOf),
    );
    for (const e of allowed) {
      assert.deepEqual(Object.keys(e).sort(), ['aud', 'context', 'decision', 'jti', 'time']);
      assert.equal(e.aud, API_AUDIENCE);
      assert.equal(e.context, context);
      assert.ok((e.time as number) >= before && (e.time as number) <= Date.now());
    }
    const deny = issuer.usageEvents.find((e) => e.decision === 'deny');
    assert.equal(deny?.jti, jtiOf(denied));
    assert.equal(deny?.code, 'ERR_INSUFFICIENT_SCOPE');
    assert.deepEqual(gateway.stats.usage, {
      queued: 0,
      waiting: 0,
      sent: 13,
      dropped: 0,
      posts: issuer.counts.usage,
      failedPosts: 0,
    });
  } finally {
    await app.close();
    await gateway.close();
    await issuer.close();
  }
});

test('overload: a slow issuer never slows requests; what does not fit is dropped and counted', async () => {
  const issuer = await startFixtureIssuer();
  issuer.usage.delayMs = 600;
  const gateway = gatewayFor(issuer, {
    revocations: false,
    usage: { batchSize: 5, maxQueue: 10, maxInFlight: 1, flushInterval: 60_000 },
  });
  const app = await FRAMEWORKS[1]!.start(gateway);
  try {
    const token = issuer.sign();
    for (let i = 0; i < 50; i++) assert.equal((await fetch(`${app.url}/read`, { headers: bearer(token) })).status, 200);
    // Had requests waited for the slow endpoint, nothing would have been dropped: the counts prove they did not.
    const stats = gateway.stats.usage!;
    assert.equal(stats.queued, 10);
    assert.equal(stats.dropped, 35, '5 in flight, 10 queued, the rest dropped');
  } finally {
    await app.close();
    await gateway.close();
    await issuer.close();
  }
  // close() sent the queue one last time.
  assert.equal(issuer.usageEvents.length, 15);
});

test('a failing issuer: the batch goes back in the queue, posting pauses for Retry-After, then resumes', async () => {
  const issuer = await startFixtureIssuer();
  issuer.usage.failStatus = 503;
  const errors: WritError[] = [];
  const reporter = new UsageReporter({
    endpoint: `${issuer.url}/usage`,
    tokens: { getToken: () => issuer.issueToken({ aud: issuer.url, scope: 'writ:verifier', sub: CLIENT.clientId }) },
    batchSize: 2,
    flushInterval: 10,
    onError: (e) => errors.push(e),
  });
  try {
    const event = { jti: 'j', aud: 'a', decision: 'allow' as const, time: 1, context: 'c' };
    reporter.record(event);
    reporter.record(event);
    await eventually(() => reporter.stats.failedPosts === 1, 2000, 'failed post');
    assert.equal(errors[0]?.code, 'ERR_LEDGER_PUSHBACK');
    assert.equal(reporter.stats.queued, 2);
    issuer.usage.failStatus = undefined;
    await eventually(() => reporter.stats.sent === 2, 3000, 'resent after Retry-After: 1');
    assert.equal(issuer.usageEvents.length, 2);
  } finally {
    await reporter.close();
    await issuer.close();
  }
});

test('strict mode: the request waits until its event is durable, and fails closed when it cannot be', async () => {
  const issuer = await startFixtureIssuer();
  const gateway = gatewayFor(issuer, { revocations: false, usage: { strict: true } });
  const app = await FRAMEWORKS[0]!.start(gateway);
  try {
    issuer.usage.delayMs = 300;
    const token = issuer.sign();
    const t0 = performance.now();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => fetch(`${app.url}/read`, { headers: bearer(token) })),
    );
    const elapsed = performance.now() - t0;
    assert.ok(results.every((r) => r.status === 200));
    assert.ok(elapsed >= 300, `answered after ${elapsed.toFixed(0)} ms`);
    assert.equal(issuer.usageEvents.length, 10, 'durable before the answers');
    assert.ok(issuer.usagePosts.every((p) => p.durable));
    assert.ok(issuer.usagePosts.length <= 3, `group commit: ${issuer.usagePosts.length} posts for 10 requests`);

    issuer.usage.delayMs = 0;
    issuer.usage.failStatus = 500;
    const failed = await fetch(`${app.url}/read`, { headers: bearer(token) });
    assert.equal(failed.status, 503);
    assert.equal(((await failed.json()) as { error: string }).error, 'temporarily_unavailable');
    issuer.usage.failStatus = 503;
    const pushback = await fetch(`${app.url}/read`, { headers: bearer(token) });
    assert.equal(pushback.status, 503);
    assert.equal(pushback.headers.get('retry-after'), '1');
  } finally {
    await app.close();
    await gateway.close();
    await issuer.close();
  }
});
