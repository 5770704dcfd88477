import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  verifyConsistency,
  verifyInclusion,
  verifySubtreeConsistency,
  verifySubtreeInclusion,
  WritError,
} from '../src/index.js';
import { readVector, vectorFiles } from './helpers/vectors.js';

interface Common {
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}
type Inclusion = Common & { leafIdx: number; treeSize: number; root: string; leafHash: string };
type SubInclusion = Common & { leafIdx: number; start: number; end: number; root: string; leafHash: string };
type Consistency = Common & { size1: number; size2: number; root1: string; root2: string };
type SubConsistency = Common & { start: number; end: number; size: number; root1: string; root2: string };

const b = (s: string) => Buffer.from(s, 'base64');
const proofOf = (v: Common) => (v.proof ?? []).map(b);

/** Runs `verify` on every vector of a folder: happy paths must pass, every `wantErr` case must throw the typed error. */
function suite<T extends Common>(folder: string, verify: (v: T) => void): void {
  const files = vectorFiles(`merkle/${folder}`);
  test(`merkle/${folder}: ${files.length} vectors`, () => {
    assert.ok(files.length > 10, 'vectors present');
    for (const f of files) {
      const v = readVector<T>(f);
      if (v.wantErr) {
        assert.throws(
          () => verify(v),
          (e: unknown) => e instanceof WritError && e.code === 'ERR_PROOF_INVALID',
          f,
        );
      } else {
        assert.doesNotThrow(() => verify(v), f);
      }
    }
  });
}

suite<Inclusion>('inclusion', (v) => verifyInclusion(v.leafIdx, v.treeSize, b(v.leafHash), proofOf(v), b(v.root)));
suite<Consistency>('consistency', (v) => verifyConsistency(v.size1, v.size2, proofOf(v), b(v.root1), b(v.root2)));
suite<SubInclusion>('subtreeinclusion', (v) =>
  verifySubtreeInclusion(v.leafIdx, v.start, v.end, b(v.leafHash), proofOf(v), b(v.root)));
suite<SubConsistency>('subtreeconsistency', (v) =>
  verifySubtreeConsistency(v.start, v.end, v.size, proofOf(v), b(v.root1), b(v.root2)));
