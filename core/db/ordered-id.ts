import crypto from 'node:crypto';

let lastMs = 0;
let sequence = 0;

/**
 * A UUID (version 7 layout) that sorts after every id this process made before: milliseconds since
 * the epoch, a 12-bit sequence within the millisecond, then random bits. Bulk writes use it for
 * primary keys so new rows land at the end of the key's B-tree instead of all over it (a random
 * key dirties a different page for nearly every row: InnoDB splits pages, SQLite's WAL rewrites them).
 */
export function orderedId(now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    sequence = 0;
  } else if (++sequence > 0xfff) {
    lastMs++;
    sequence = 0;
  }
  const time = lastMs.toString(16).padStart(12, '0');
  // randomUUID draws from a cached pool of entropy; its tail is 62 random bits with the variant set.
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${sequence.toString(16).padStart(3, '0')}-${crypto.randomUUID().slice(19)}`;
}
