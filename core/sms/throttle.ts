import type { Database } from '../db/connection';
import type { Logger } from '../records/context';

/**
 * Segments per second per sender (Twilio counts throughput in segments), shared by every process on
 * the database: each take moves the sender's next free moment in `cane_sms_rate` by one atomic
 * UPDATE and waits for the slot it got, so N worker processes together keep one rate. A 429 pauses
 * the sender for all of them. The rate stored with the sender wins over a process's own SMS_RATE
 * (a warning names the difference); `setRate` changes it for everyone.
 */
export class SenderThrottle {
  private readonly known = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly segmentsPerSecond: number,
    private readonly now: () => number = () => Date.now(),
    private readonly log?: Logger,
  ) {}

  /** Whether this process sends under a rate at all (SMS_RATE above 0). */
  get limited(): boolean {
    return this.segmentsPerSecond > 0;
  }

  /** Milliseconds the caller must wait before sending `segments` from `sender`. */
  async reserve(sender: string, segments: number): Promise<number> {
    if (this.segmentsPerSecond <= 0) return 0;
    await this.ensureRow(sender);
    const now = this.now();
    return this.db.knex.transaction(async (trx) => {
      // The UPDATE comes first, so it takes the row's lock (SQLite's write lock) before anything is read.
      await trx('cane_sms_rate').where({ sender }).update({
        next_free_ms: trx.raw('(CASE WHEN next_free_ms > ? THEN next_free_ms ELSE ? END) + (? * 1000.0 / segments_per_second)', [now, now, segments]),
      });
      const row = await trx('cane_sms_rate').where({ sender }).first('next_free_ms', 'segments_per_second');
      const start = Number(row.next_free_ms) - (segments * 1000) / Number(row.segments_per_second);
      return Math.max(0, start - now);
    });
  }

  async take(sender: string, segments: number, signal?: AbortSignal): Promise<void> {
    const wait = await this.reserve(sender, segments);
    if (wait <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => { clearTimeout(timer); reject(new Error('stopped while waiting for the sender\'s rate')); };
      const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, wait);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Nothing leaves this sender for `ms`, from any process (after a 429 or a full queue). */
  async pause(sender: string, ms: number): Promise<void> {
    await this.ensureRow(sender);
    const until = this.now() + ms;
    await this.db.knex('cane_sms_rate').where({ sender }).andWhere('next_free_ms', '<', until).update({ next_free_ms: until });
  }

  /** Changes a sender's shared rate (segments per second) for every process. */
  async setRate(sender: string, segmentsPerSecond: number): Promise<void> {
    await this.ensureRow(sender);
    await this.db.knex('cane_sms_rate').where({ sender }).update({ segments_per_second: segmentsPerSecond });
  }

  private async ensureRow(sender: string): Promise<void> {
    if (this.known.has(sender)) return;
    try {
      await this.db.knex('cane_sms_rate').insert({ sender, next_free_ms: 0, segments_per_second: this.segmentsPerSecond });
    } catch (err) {
      if (!this.db.dialect.isDuplicateKey(err)) throw err;
      const row = await this.db.knex('cane_sms_rate').where({ sender }).first('segments_per_second');
      if (row && Number(row.segments_per_second) !== this.segmentsPerSecond) {
        this.log?.warn({ sender, configured: this.segmentsPerSecond, shared: Number(row.segments_per_second) }, `SMS_RATE ${this.segmentsPerSecond} differs from the rate ${Number(row.segments_per_second)} the other processes share for ${sender}; using the shared rate (change it with cane sms:rate)`);
      }
    }
    this.known.add(sender);
  }
}
