/**
 * The ones'-complement sum (RFC 1071) of a datagram's payload with WebAssembly
 * SIMD: 16 bytes per instruction instead of 4 per JS step. The UDP checksum of
 * every datagram an endpoint sends is computed over its whole payload, and in
 * JS that loop is the largest single cost of the send path. The module is 222
 * bytes, compiled once per thread when this module loads (with one 64 KiB page
 * of memory the payload is copied into); where WebAssembly or its SIMD
 * extension is unavailable (`node --jitless`, old engines) {@link simdOnesSum}
 * reports that and the caller sums in JS.
 *
 * The module, in WebAssembly text:
 *
 * ```wat
 * (module
 *   (memory (export "mem") 1)
 *   ;; Sum of the little-endian 16-bit words of mem[p, p + n), n a multiple of 16,
 *   ;; folded once (hi + lo of each 32-bit lane) and added across lanes.
 *   (func (export "sum") (param $p i32) (param $n i32) (result i32)
 *     (local $a v128) (local $b v128) (local $end i32) (local $end64 i32)
 *     (local.set $end (i32.add (local.get $p) (local.get $n)))
 *     (local.set $end64 (i32.add (local.get $p) (i32.and (local.get $n) (i32.const -64))))
 *     (block (loop
 *       (br_if 1 (i32.ge_u (local.get $p) (local.get $end64)))
 *       (local.set $a (i32x4.add (local.get $a) (i32x4.extadd_pairwise_i16x8_u (v128.load offset=0 (local.get $p)))))
 *       (local.set $b (i32x4.add (local.get $b) (i32x4.extadd_pairwise_i16x8_u (v128.load offset=16 (local.get $p)))))
 *       (local.set $a (i32x4.add (local.get $a) (i32x4.extadd_pairwise_i16x8_u (v128.load offset=32 (local.get $p)))))
 *       (local.set $b (i32x4.add (local.get $b) (i32x4.extadd_pairwise_i16x8_u (v128.load offset=48 (local.get $p)))))
 *       (local.set $p (i32.add (local.get $p) (i32.const 64)))
 *       (br 0)))
 *     (block (loop
 *       (br_if 1 (i32.ge_u (local.get $p) (local.get $end)))
 *       (local.set $a (i32x4.add (local.get $a) (i32x4.extadd_pairwise_i16x8_u (v128.load (local.get $p)))))
 *       (local.set $p (i32.add (local.get $p) (i32.const 16)))
 *       (br 0)))
 *     (local.tee $a (i32x4.extadd_pairwise_i16x8_u (i32x4.add (local.get $a) (local.get $b))))
 *     (i32x4.extract_lane 0)
 *     (i32.add (i32x4.extract_lane 1 (local.get $a)))
 *     (i32.add (i32x4.extract_lane 2 (local.get $a)))
 *     (i32.add (i32x4.extract_lane 3 (local.get $a)))))
 * ```
 *
 * No lane can overflow: a lane gains at most 2 × 0xffff per 16 bytes, and the
 * memory (one 64 KiB page) holds 4096 such blocks.
 */

const MODULE_BYTES = [
  // magic, version
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  // type section: (i32, i32) -> i32
  0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f,
  // function section: one function of type 0
  0x03, 0x02, 0x01, 0x00,
  // memory section: one memory, 1 page, no maximum
  0x05, 0x03, 0x01, 0x00, 0x01,
  // export section: "sum" (function 0), "mem" (memory 0)
  0x07, 0x0d, 0x02, 0x03, 0x73, 0x75, 0x6d, 0x00, 0x00, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00,
  // code section (178 bytes): one body of 175 bytes
  0x0a, 0xb2, 0x01, 0x01, 0xaf, 0x01,
  // locals: 2 × v128 ($a, $b), 2 × i32 ($end, $end64)
  0x02, 0x02, 0x7b, 0x02, 0x7f,
  // $end = $p + $n
  0x20, 0x00, 0x20, 0x01, 0x6a, 0x21, 0x04,
  // $end64 = $p + ($n & -64)
  0x20, 0x00, 0x20, 0x01, 0x41, 0x40, 0x71, 0x6a, 0x21, 0x05,
  // block, loop: 64 bytes per turn into $a and $b
  0x02, 0x40, 0x03, 0x40,
  0x20, 0x00, 0x20, 0x05, 0x4f, 0x0d, 0x01,
  0x20, 0x02, 0x20, 0x00, 0xfd, 0x00, 0x00, 0x00, 0xfd, 0x7f, 0xfd, 0xae, 0x01, 0x21, 0x02,
  0x20, 0x03, 0x20, 0x00, 0xfd, 0x00, 0x00, 0x10, 0xfd, 0x7f, 0xfd, 0xae, 0x01, 0x21, 0x03,
  0x20, 0x02, 0x20, 0x00, 0xfd, 0x00, 0x00, 0x20, 0xfd, 0x7f, 0xfd, 0xae, 0x01, 0x21, 0x02,
  0x20, 0x03, 0x20, 0x00, 0xfd, 0x00, 0x00, 0x30, 0xfd, 0x7f, 0xfd, 0xae, 0x01, 0x21, 0x03,
  0x20, 0x00, 0x41, 0xc0, 0x00, 0x6a, 0x21, 0x00,
  0x0c, 0x00, 0x0b, 0x0b,
  // block, loop: 16 bytes per turn into $a
  0x02, 0x40, 0x03, 0x40,
  0x20, 0x00, 0x20, 0x04, 0x4f, 0x0d, 0x01,
  0x20, 0x02, 0x20, 0x00, 0xfd, 0x00, 0x00, 0x00, 0xfd, 0x7f, 0xfd, 0xae, 0x01, 0x21, 0x02,
  0x20, 0x00, 0x41, 0x10, 0x6a, 0x21, 0x00,
  0x0c, 0x00, 0x0b, 0x0b,
  // fold the lanes once, add them up
  0x20, 0x02, 0x20, 0x03, 0xfd, 0xae, 0x01, 0xfd, 0x7f, 0x22, 0x02,
  0xfd, 0x1b, 0x00,
  0x20, 0x02, 0xfd, 0x1b, 0x01, 0x6a,
  0x20, 0x02, 0xfd, 0x1b, 0x02, 0x6a,
  0x20, 0x02, 0xfd, 0x1b, 0x03, 0x6a,
  0x0b,
];

interface SimdSum {
  readonly sum: (p: number, n: number) => number;
  readonly mem: Uint8Array;
}

/** The part of the WebAssembly JS API used here (the project's TypeScript libs do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

/** Compiles the module, or undefined where WebAssembly or SIMD is unavailable. */
function compile(): SimdSum | undefined {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (wasm === undefined) return undefined;
  try {
    const { exports } = new wasm.Instance(new wasm.Module(Uint8Array.from(MODULE_BYTES)), {});
    const sum = exports.sum as (p: number, n: number) => number;
    const mem = exports.mem as { buffer: ArrayBuffer };
    return { sum, mem: new Uint8Array(mem.buffer) };
  } catch {
    return undefined;
  }
}

const simd = compile();
const simdSum = simd?.sum;
const simdMem = simd?.mem;
/** Largest range {@link simdOnesSum} takes: the module's memory, one 64 KiB page. */
const MAX_BYTES = 65536;

/** Whether {@link simdOnesSum} is available in this engine. */
export const SIMD_SUM_AVAILABLE = simd !== undefined;

/**
 * The unfolded ones'-complement sum (RFC 1071) of `length` bytes of `b` at
 * `offset`, as big-endian 16-bit words with an odd last byte padded with zero
 * (the same value, up to folding, as `onesSum` in `udp-frame.ts`); or -1 when
 * WebAssembly SIMD is unavailable or `length` exceeds 65536 bytes: then the
 * caller sums in JS. Copies the bytes into the module's memory first.
 * The caller guarantees the range is inside `b`.
 */
export function simdOnesSum(b: Uint8Array, offset: number, length: number): number {
  if (simdSum === undefined || simdMem === undefined || length > MAX_BYTES) return -1;
  const mem = simdMem;
  mem.set(offset === 0 && length === b.length ? b : b.subarray(offset, offset + length), 0);
  const bulk = length & ~15;
  // WebAssembly loads are little-endian on every host: the lanes summed byte-swapped
  // words, so the folded sum is the network-order sum with its bytes swapped (RFC 1071 §2).
  let le = simdSum(0, bulk);
  le = (le & 0xffff) + (le >>> 16);
  le = (le & 0xffff) + (le >>> 16);
  let sum = ((le & 0xff) << 8) | (le >>> 8);
  let i = bulk;
  for (; i + 1 < length; i += 2) sum += (mem[i]! << 8) | mem[i + 1]!;
  if (i < length) sum += mem[i]! << 8;
  return sum;
}
