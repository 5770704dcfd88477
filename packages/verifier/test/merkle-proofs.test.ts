import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  consistencyProof,
  EMPTY_ROOT,
  entryBundlePath,
  inclusionProof,
  leafHash,
  MerkleFrontier,
  type NodeId,
  nodeFromTile,
  nodeHash,
  parseTilePath,
  TILE_WIDTH,
  tileLevels,
  tilePath,
  tileSpan,
  verifyConsistency,
  verifyInclusion,
  WritError,
} from '../src/index.js';

/** RFC 9162 §2.1.1 MTH, written the recursive way, as the reference. */
function mth(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

/** A node reader over leaf hashes held in memory, counting its reads. */
function memoryReader(leaves: readonly Buffer[]) {
  const reader = {
    reads: 0,
    readNodes(ids: readonly NodeId[]) {
      reader.reads++;
      return ids.map(({ level, index }) => {
        const w = 2 ** level;
        assert.ok((index + 1) * w <= leaves.length, 'only perfect nodes are read');
        return mth(leaves.slice(index * w, (index + 1) * w));
      });
    },
  };
  return reader;
}

const RFC_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];

test('RFC 6962 example tree: frontier root matches the published root', () => {
  const f = new MerkleFrontier();
  for (const hex of RFC_LEAVES) f.append(leafHash(Buffer.from(hex, 'hex')));
  assert.equal(f.root().toString('base64'), 'XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=');
  assert.deepEqual(new MerkleFrontier().root(), EMPTY_ROOT);
});

test('frontier: root of every prefix equals MTH; visitor reports exactly the perfect nodes; round-trips', () => {
  const leaves = Array.from({ length: 70 }, () => leafHash(randomBytes(8)));
  const f = new MerkleFrontier();
  const seen = new Map<string, Buffer>();
  for (let n = 0; n < leaves.length; n++) {
    assert.deepEqual(f.root(), mth(leaves.slice(0, n)));
    f.append(leaves[n]!, (level, index, h) => seen.set(`${level}/${index}`, h));
  }
  for (const [key, h] of seen) {
    const [level, index] = key.split('/').map(Number) as [number, number];
    assert.deepEqual(h, mth(leaves.slice(index * 2 ** level, (index + 1) * 2 ** level)), key);
  }
  assert.equal(seen.size, 70 + 35 + 17 + 8 + 4 + 2 + 1);
  const copy = MerkleFrontier.fromBytes(f.size, f.toBytes());
  assert.deepEqual(copy.root(), f.root());
  assert.throws(() => MerkleFrontier.fromBytes(5, f.toBytes()), { code: 'ERR_INVALID_ARGUMENT' });
});

function flip(proof: Buffer[], i: number, bit: number): Buffer[] {
  const out = proof.map((p) => Buffer.from(p));
  out[i]![bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

const treeAndIndex = fc
  .integer({ min: 1, max: 300 })
  .chain((n) => fc.record({ n: fc.constant(n), i: fc.integer({ min: 0, max: n - 1 }), seed: fc.integer() }));

const leavesFor = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`${seed}/${i}`)));

test('property: inclusion proofs generated for random trees verify, in one batched read; any mutation fails', async () => {
  await fc.assert(
    fc.asyncProperty(treeAndIndex, fc.nat(), async ({ n, i, seed }, pick) => {
      const leaves = leavesFor(n, seed);
      const root = mth(leaves);
      const reader = memoryReader(leaves);
      const proof = await inclusionProof(i, n, reader);
      assert.equal(reader.reads, 1);
      assert.ok(proof.length <= Math.ceil(Math.log2(n)));
      verifyInclusion(i, n, leaves[i]!, proof, root);
      const bad = (f: () => void) => assert.throws(f, (e: unknown) => e instanceof WritError);
      if (proof.length > 0) {
        bad(() => verifyInclusion(i, n, leaves[i]!, flip(proof, pick % proof.length, pick % 256), root));
        bad(() => verifyInclusion(i, n, leaves[i]!, proof.slice(1), root));
      }
      bad(() => verifyInclusion(i, n, leaves[i]!, [...proof, root], root));
      bad(() => verifyInclusion(i, n, nodeHash(leaves[i]!, root), proof, root));
      if (n > 1) bad(() => verifyInclusion((i + 1) % n, n, leaves[i]!, proof, root));
      bad(() => verifyInclusion(i, 2 * n + 1, leaves[i]!, proof, root));
    }),
    { numRuns: 300 },
  );
});

test('property: consistency proofs generated for random tree pairs verify; any mutation fails', async () => {
  await fc.assert(
    fc.asyncProperty(treeAndIndex, fc.nat(), async ({ n, i, seed }, pick) => {
      const m = i + 1;
      const leaves = leavesFor(n, seed);
      const root1 = mth(leaves.slice(0, m));
      const root2 = mth(leaves);
      const proof = await consistencyProof(m, n, memoryReader(leaves));
      verifyConsistency(m, n, proof, root1, root2);
      const bad = (f: () => void) => assert.throws(f, (e: unknown) => e instanceof WritError);
      if (m < n) {
        bad(() => verifyConsistency(m, n, flip(proof, pick % proof.length, pick % 256), root1, root2));
        bad(() => verifyConsistency(m, n, proof.slice(0, -1), root1, root2));
        bad(() => verifyConsistency(m, n, proof, root2, root1));
        bad(() => verifyConsistency(m, n, proof, flip([root1], 0, pick % 256)[0]!, root2));
        if (m > 1) bad(() => verifyConsistency(m - 1, n, proof, root1, root2));
      }
      bad(() => verifyConsistency(m, n, [...proof, root1], root1, root2));
    }),
    { numRuns: 300 },
  );
});

test('proof generation refuses impossible ranges', async () => {
  const reader = memoryReader([]);
  await assert.rejects(inclusionProof(3, 3, reader), { code: 'ERR_LEDGER_RANGE_INVALID' });
  await assert.rejects(inclusionProof(-1, 3, reader), { code: 'ERR_LEDGER_RANGE_INVALID' });
  await assert.rejects(consistencyProof(0, 3, reader), { code: 'ERR_LEDGER_RANGE_INVALID' });
  await assert.rejects(consistencyProof(4, 3, reader), { code: 'ERR_LEDGER_RANGE_INVALID' });
  await assert.rejects(consistencyProof(1.5, 3, reader), { code: 'ERR_LEDGER_RANGE_INVALID' });
  assert.deepEqual(await consistencyProof(3, 3, reader), []);
});

test('tiles: every perfect node is the root of its span of tile hashes', () => {
  const n = TILE_WIDTH * 2 + 37;
  const leaves = leavesFor(n, 7);
  const levels = tileLevels(Buffer.concat(leaves.slice(TILE_WIDTH, 2 * TILE_WIDTH)));
  assert.equal(levels.length, 9);
  for (const node of [
    { level: 0, index: 300 },
    { level: 3, index: 33 },
    { level: 7, index: 3 },
  ]) {
    const span = tileSpan(node);
    assert.equal(span.level, 0);
    assert.equal(span.index, 1);
    const w = 2 ** node.level;
    assert.deepEqual(nodeFromTile(levels, span), mth(leaves.slice(node.index * w, (node.index + 1) * w)));
  }
  assert.deepEqual(tileSpan({ level: 8, index: 5 }), { level: 1, index: 0, offset: 5, count: 1 });
  assert.deepEqual(tileSpan({ level: 10, index: 70 }), { level: 1, index: 1, offset: 24, count: 4 });
  // A partial tile completes only whole pairs: 37 hashes give levels of 37, 18, 9, 4, 2 and 1 nodes.
  const partial = tileLevels(Buffer.concat(leaves.slice(2 * TILE_WIDTH)));
  assert.deepEqual(
    partial.map((l) => l.length / 32),
    [37, 18, 9, 4, 2, 1],
  );
  assert.deepEqual(nodeFromTile(partial, tileSpan({ level: 5, index: 16 })), mth(leaves.slice(512, 544)));
  assert.throws(() => nodeFromTile(partial, tileSpan({ level: 3, index: 68 })), { code: 'ERR_LEDGER_CORRUPT' });
});

test('tile paths: C2SP tlog-tiles encoding and strict parsing', () => {
  assert.equal(tilePath(0, 1234067), 'tile/0/x001/x234/067');
  assert.equal(tilePath(2, 5, 17), 'tile/2/005.p/17');
  assert.equal(entryBundlePath(1000), 'tile/entries/x001/000');
  assert.equal(entryBundlePath(7, 255), 'tile/entries/007.p/255');
  assert.deepEqual(parseTilePath('tile/0/x001/x234/067'), { level: 0, index: 1234067, width: 256 });
  assert.deepEqual(parseTilePath('tile/entries/007.p/255'), { level: 'entries', index: 7, width: 255 });
  assert.deepEqual(parseTilePath('tile/63/000'), { level: 63, index: 0, width: 256 });
  for (const bad of [
    'tile/0/1234067',
    'tile/0/x000/067', // a leading zero group
    'tile/00/000',
    'tile/64/000',
    'tile/0/000.p/256',
    'tile/0/000.p/0',
    'tile/0/000.p/007',
    'tile/x/000',
    '/tile/0/000',
  ]) {
    assert.throws(() => parseTilePath(bad), { code: 'ERR_NOT_FOUND' }, bad);
  }
});
