/**
 * Segments per second per sender (Twilio counts throughput in segments). Each take reserves the
 * next free slot of its sender, so concurrent workers queue up instead of bursting; a 429 pauses
 * the sender. Per process: several worker processes each hold their own budget.
 */
export class SenderThrottle {
  private readonly nextFree = new Map<string, number>();

  constructor(private readonly segmentsPerSecond: number, private readonly now: () => number = () => Date.now()) {}

  /** Milliseconds the caller must wait before sending `segments` from `sender`. */
  reserve(sender: string, segments: number): number {
    const now = this.now();
    const start = Math.max(now, this.nextFree.get(sender) ?? 0);
    if (this.segmentsPerSecond > 0) this.nextFree.set(sender, start + (segments * 1000) / this.segmentsPerSecond);
    else if (start > now) this.nextFree.set(sender, start);
    return start - now;
  }

  async take(sender: string, segments: number, signal?: AbortSignal): Promise<void> {
    const wait = this.reserve(sender, segments);
    if (wait <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => { clearTimeout(timer); reject(new Error('stopped while waiting for the sender\'s rate')); };
      const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, wait);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Nothing leaves this sender for `ms` (after a 429 or a full queue). */
  pause(sender: string, ms: number): void {
    this.nextFree.set(sender, Math.max(this.nextFree.get(sender) ?? 0, this.now() + ms));
  }
}
