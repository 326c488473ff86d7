/**
 * @weft/crypto benchmarks: seal+open packets/s per suite at 1450-byte
 * payloads against the bare primitive doing the same AEAD work in the same
 * run, and anti-replay window checks/s.
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type CipherGCMTypes } from 'node:crypto';
import nacl from 'tweetnacl';
import { ReplayWindow, SecurityAssociation, type SuiteName } from '@weft/crypto';
import { opsPerSecond, type BenchContext, type BenchRow } from '../row';
import { median, spreadOf, type Spread } from '../stats';

const SIZE = 1450;
const ROUNDS = 9;

let sink = 0;

/**
 * Interleaved short measurements of `a` and `b` (order alternating per round,
 * so drifting machine load hits both alike); returns the medians of each, the
 * median of the per-round ratios a/b and their spread.
 */
function measurePair(a: (n: number) => void, b: (n: number) => void, ms: number): { a: number; b: number; ratio: number; spread: Spread } {
  const as: number[] = [];
  const bs: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let x: number;
    let y: number;
    if (r % 2 === 0) {
      x = opsPerSecond(a, ms, 50);
      y = opsPerSecond(b, ms, 50);
    } else {
      y = opsPerSecond(b, ms, 50);
      x = opsPerSecond(a, ms, 50);
    }
    as.push(x);
    bs.push(y);
    ratios.push(x / y);
  }
  return { a: median(as), b: median(bs), ratio: median(ratios), spread: spreadOf(ratios, 'ratio') };
}

function saPair(suite: SuiteName): (n: number) => void {
  const key = randomBytes(32);
  const salt = randomBytes(4);
  const tx = new SecurityAssociation({ spi: 0x10000, suite, key, salt });
  const rx = new SecurityAssociation({ spi: 0x10000, suite, key, salt });
  const payload = randomBytes(SIZE);
  return (n) => {
    for (let i = 0; i < n; i++) sink += rx.open(tx.seal(payload)).length;
  };
}

/**
 * Bare node:crypto AEAD of the same size, with the same 12-byte AAD, 12-byte
 * nonce buffer and a key prepared once as a `KeyObject` (`createSecretKey`),
 * as the SA's cipher does, so neither side pays for importing the raw key per packet.
 */
function bareNode(alg: 'aes-256-gcm' | 'chacha20-poly1305'): (n: number) => void {
  const key = createSecretKey(randomBytes(32));
  const nonce = randomBytes(12);
  const aad = randomBytes(12);
  const payload = randomBytes(SIZE);
  const opts = { authTagLength: 16 } as const;
  const a = alg as CipherGCMTypes;
  return (n) => {
    for (let i = 0; i < n; i++) {
      const c = createCipheriv(a, key, nonce, opts);
      c.setAAD(aad);
      const ct = c.update(payload);
      c.final();
      const tag = c.getAuthTag();
      const d = createDecipheriv(a, key, nonce, opts);
      d.setAuthTag(tag);
      d.setAAD(aad);
      const pt = d.update(ct);
      d.final();
      sink += pt.length;
    }
  };
}

/** Bare tweetnacl secretbox + secretbox.open of the same size (24-byte nonce; secretbox has no associated-data input). */
function bareSecretbox(): (n: number) => void {
  const key = randomBytes(32);
  const nonce = randomBytes(24);
  const payload = randomBytes(SIZE);
  return (n) => {
    for (let i = 0; i < n; i++) sink += nacl.secretbox.open(nacl.secretbox(payload, nonce, key), nonce, key)!.length;
  };
}

function replayChecks(): (n: number) => void {
  const w = new ReplayWindow(2048);
  for (let s = 1; s <= 100_000; s++) if (s % 3 !== 0) w.accept(s); // a window with holes
  // Mixed workload: new packets ahead of the window, late ones inside it (seen and unseen), and too-old ones.
  const probes = new Float64Array(4096);
  let x = 12345;
  for (let i = 0; i < probes.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    probes[i] = 100_000 - 2500 + (x % 2600);
  }
  return (n) => {
    let acc = 0;
    for (let i = 0; i < n; i++) acc += w.check(probes[i & 4095]!);
    sink += acc;
  };
}

export default async function crypto(ctx: BenchContext): Promise<BenchRow[]> {
  const ms = Math.max(100, Math.round(300 * ctx.scale));
  const rows: BenchRow[] = [];
  const nodeBare = 'bare: the same AEAD through createCipheriv/createDecipheriv with the same 12 B AAD, a reused 12 B nonce buffer and a KeyObject prepared once, as the SA has; no framing, no window';
  const suites: { suite: SuiteName; bare: (n: number) => void; bareName: string; bareNote: string; target?: string }[] = [
    { suite: 'aes-256-gcm', bare: bareNode('aes-256-gcm'), bareName: 'bare node:crypto createCipheriv/createDecipheriv', bareNote: nodeBare, target: 'ratio >= 0.85' },
    { suite: 'chacha20-poly1305', bare: bareNode('chacha20-poly1305'), bareName: 'bare node:crypto createCipheriv/createDecipheriv', bareNote: nodeBare },
    {
      suite: 'xsalsa20-poly1305',
      bare: bareSecretbox(),
      bareName: 'bare tweetnacl secretbox/secretbox.open',
      bareNote: 'bare: secretbox + secretbox.open with a fixed 24 B nonce and the raw 32 B key; secretbox takes no associated data (the SA binds its 12 B SPI/sequence into the nonce instead); no framing, no window',
    },
  ];
  for (const s of suites) {
    ctx.log(`${s.suite} seal+open vs bare, ${ROUNDS} interleaved rounds of ${ms} ms each`);
    const m = measurePair(saPair(s.suite), s.bare, ms);
    rows.push({
      name: `crypto ${s.suite} seal+open`,
      value: m.a,
      unit: 'packets/s',
      baseline: m.b,
      baselineName: s.bareName,
      ratio: m.ratio,
      spread: m.spread,
      ...(s.target ? { target: s.target } : {}),
      note: `${SIZE} B payload; one seal + one open per packet in one thread; SA: ESP framing, 64-bit sequence, AAD, anti-replay window; ${s.bareNote}; value and baseline are medians of ${ROUNDS} interleaved ${ms} ms rounds, ratio = median of per-round ratios`,
    });
  }
  ctx.log('replay-window check');
  const check = replayChecks();
  const checkRounds = Array.from({ length: ROUNDS }, () => opsPerSecond(check, ms, 100_000));
  rows.push({
    name: 'crypto replay-window check',
    value: median(checkRounds),
    spread: spreadOf(checkRounds, 'value'),
    unit: 'checks/s',
    target: '>= 20,000,000 checks/s',
    note: `2048-packet window; mixed probes (new, late seen/unseen, too old); median of ${ROUNDS}`,
  });
  if (sink === -1) ctx.log('unreachable'); // keeps the work observable
  return rows;
}
