import type { MemberCursor } from './campaign-members';

/**
 * Reads the page after the one being written, so a launch's reads (members, records, numbers,
 * consent, caps) overlap its writes: on MariaDB they run on a second connection; SQLite's single
 * connection takes them in turn, as before. A page read ahead is used only when the run's cursor
 * then stands where it was read from (another worker, or a pause, may have moved it).
 */
export class ReadAhead<T> {
  private ahead?: { after: MemberCursor | null; work: Promise<T> };

  constructor(private readonly read: (after: MemberCursor | null) => Promise<T>) {}

  /** The page after `after`: the one read ahead when it starts there, else read now. */
  async take(after: MemberCursor | null): Promise<T> {
    const ahead = this.ahead;
    this.ahead = undefined;
    if (ahead && ahead.after?.module === after?.module && ahead.after?.id === after?.id) return ahead.work;
    await ahead?.work.catch(() => undefined);
    return this.read(after);
  }

  /** Starts reading the page after `after`. */
  start(after: MemberCursor): void {
    const work = this.read(after);
    work.catch(() => undefined); // a failure surfaces when the page is taken
    this.ahead = { after, work };
  }

  /** Waits for a page still being read, so nothing of the launch runs on after it stops. */
  async settle(): Promise<void> {
    await this.ahead?.work.catch(() => undefined);
    this.ahead = undefined;
  }
}
