import { InvalidOptionError } from './errors.js';

/** Every IdSequence made, so that one call to {@link useIdBlock} moves them all to a new block. */
const sequences: IdSequence[] = [];
let currentBlock = 0;

/**
 * Increasing ids that stay unique across the processes of a server and across servers: the id space
 * of `maxBits` bits is cut into blocks of `2^blockBits` ids, and each process uses the block it was
 * given ({@link useIdBlock}: the cluster primary gives every worker it starts a fresh block, or
 * Redis `INCR` does with `--redis`). A lone process uses block 0, so its ids are 1, 2, 3, ...
 *
 * ```ts
 * const playerIds = new IdSequence({ blockBits: 20, maxBits: 32 }); // fits a uint32 field
 * const id = playerIds.next();
 * ```
 */
export class IdSequence {
  /** Ids per block: `2^blockBits`. */
  readonly blockSize: number;
  /** How many blocks fit in `maxBits` bits; block numbers wrap past it. */
  readonly blockCount: number;
  #next = 1;
  #end: number;

  /** @throws InvalidOptionError when `blockBits` is not below `maxBits`, or `maxBits` is above 53. */
  constructor(options: { readonly blockBits: number; readonly maxBits: number }) {
    const { blockBits, maxBits } = options;
    if (!Number.isInteger(maxBits) || maxBits < 2 || maxBits > 53) throw new InvalidOptionError('maxBits', maxBits, 'an integer 2..53');
    if (!Number.isInteger(blockBits) || blockBits < 1 || blockBits >= maxBits) {
      throw new InvalidOptionError('blockBits', blockBits, 'an integer from 1 to below maxBits');
    }
    this.blockSize = 2 ** blockBits;
    this.blockCount = 2 ** (maxBits - blockBits);
    this.#end = this.blockSize;
    sequences.push(this);
    this.useBlock(currentBlock);
  }

  /** The next id (never 0). Past the end of its block it wraps inside the block. */
  next(): number {
    const id = this.#next++;
    if (this.#next >= this.#end) this.#next = this.#end - this.blockSize + 1;
    return id;
  }

  /** Moves to block `block` (taken modulo {@link blockCount}); the next id is its first. */
  useBlock(block: number): void {
    const start = (block % this.blockCount) * this.blockSize;
    this.#next = start === 0 ? 1 : start;
    this.#end = start + this.blockSize;
  }
}

/** Moves every IdSequence of this process (session ids included) to block `block`. */
export function useIdBlock(block: number): void {
  if (!Number.isSafeInteger(block) || block < 0) throw new InvalidOptionError('block', block, 'an integer >= 0');
  currentBlock = block;
  for (const sequence of sequences) sequence.useBlock(block);
}

/** Session ids: blocks of 2^32 ids, 2^21 blocks (safe integers). */
export const sessionIds = new IdSequence({ blockBits: 32, maxBits: 53 });
