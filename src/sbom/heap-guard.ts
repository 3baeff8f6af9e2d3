// Refuse JSON that JSON.parse could not hold, before parsing it. In a worker with resourceLimits,
// running out of heap inside JavaScript code terminates the worker cleanly (ERR_WORKER_OUT_OF_MEMORY),
// but JSON.parse is one long C++ builtin that never checks for termination: Node grants it only
// 16 MiB past the limit, after which V8 aborts the whole process, server included (measured).
import { getHeapStatistics } from 'node:v8';
import { resourceLimits } from 'node:worker_threads';

// Measured heap retained by JSON.parse (Node 20, x64) per '{' or '[': 43–67 bytes (58 for deep
// nesting), per ',' or ':': 10–67 bytes, and ~184 bytes per `{"key":1}` when every object has a
// key of its own (each mints a hidden class); plus the text itself and its strings. Rounded up
// generously: the parse also needs transient space, and an underestimate can kill the process.
const PER_OPEN = 128;
const PER_SEPARATOR = 64;
const PER_BYTE = 2; // the decoded text, plus string values copied out of it
/** No input byte costs more than this: a run of '[' is PER_OPEN + PER_BYTE per byte. */
const WORST_PER_BYTE = PER_OPEN + PER_BYTE;
/** Share of the free heap a parse may be expected to take (the estimate is itself an upper bound). */
const HEADROOM = 0.75;

const MiB = 1024 * 1024;
/**
 * In a pool worker, the heap that is live apart from the document: what was in use when this
 * module loaded (tsx, ajv, our code), plus room for every compiled schema (all of them measured
 * ~8 MiB). Counting the heap's current use instead would count the previous job's garbage too.
 */
const WORKER_BASELINE = getHeapStatistics().used_heap_size + 32 * MiB;

/** Heap the current thread may still use, in bytes. */
function freeHeap(): number {
  const stats = getHeapStatistics();
  const oldMb = resourceLimits.maxOldGenerationSizeMb;
  // A worker (SbomValidatorPool) validates one object at a time under an old-generation cap.
  if (oldMb) return Math.max(0, Math.min(oldMb * MiB, stats.heap_size_limit) - WORKER_BASELINE);
  // Elsewhere we cannot know what else is live: take the heap's current use as it is.
  return Math.max(0, stats.heap_size_limit - stats.used_heap_size);
}

// Weights in units of PER_SEPARATOR (PER_OPEN is exactly two): a table lookup per byte instead of
// branches, unrolled over four accumulators: ~0.7 ns/byte, about 2× faster than the plain loop.
const UNITS = new Uint8Array(256);
UNITS[0x7b] = UNITS[0x5b] = PER_OPEN / PER_SEPARATOR; // { [
UNITS[0x2c] = UNITS[0x3a] = 1; // , :

/** Upper-bound estimate of the heap JSON.parse needs for `bytes`: one linear pass over the bytes. */
export function estimateParseHeap(bytes: Uint8Array): number {
  let u0 = 0;
  let u1 = 0;
  let u2 = 0;
  let u3 = 0;
  const n = bytes.length;
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    u0 += UNITS[bytes[i]!]!;
    u1 += UNITS[bytes[i + 1]!]!;
    u2 += UNITS[bytes[i + 2]!]!;
    u3 += UNITS[bytes[i + 3]!]!;
  }
  for (; i < n; i++) u0 += UNITS[bytes[i]!]!;
  return (u0 + u1 + u2 + u3) * PER_SEPARATOR + n * PER_BYTE;
}

/**
 * null when `bytes` can safely be parsed here; otherwise the estimated need and the free heap, in
 * bytes. Small inputs are cleared without scanning them (even the worst byte mix fits).
 */
export function parseWouldExhaustHeap(bytes: Uint8Array): { need: number; free: number } | null {
  const free = freeHeap() * HEADROOM;
  if (bytes.length * WORST_PER_BYTE <= free) return null;
  const need = estimateParseHeap(bytes);
  return need <= free ? null : { need, free };
}
