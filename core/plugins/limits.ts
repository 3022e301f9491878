/** Resource limits of one plugin invocation. */
export interface PluginLimits {
  memoryMb: number;
  /** isolated-vm's timeout on the synchronous part of the call. */
  timeoutMs: number;
  /** Host wall-clock deadline for the whole call, awaits included. */
  wallMs: number;
  /** CPU time the isolate may use during the call (catches loops after an await). */
  cpuMs: number;
  hostCalls: number;
  /** Largest event in and result out, in bytes of JSON. */
  payloadBytes: number;
  logBytes: number;
}

/** Defaults per hook kind: before_save runs inside a user's save, so it is small and strict. */
export const DEFAULT_LIMITS: Record<'before' | 'after' | 'scheduled', PluginLimits> = {
  before: { memoryMb: 32, timeoutMs: 50, wallMs: 250, cpuMs: 50, hostCalls: 10, payloadBytes: 65_536, logBytes: 4_096 },
  after: { memoryMb: 64, timeoutMs: 1_000, wallMs: 10_000, cpuMs: 1_000, hostCalls: 200, payloadBytes: 262_144, logBytes: 32_768 },
  scheduled: { memoryMb: 64, timeoutMs: 5_000, wallMs: 60_000, cpuMs: 5_000, hostCalls: 2_000, payloadBytes: 1_048_576, logBytes: 65_536 },
};

export function limitKind(event: string): 'before' | 'after' | 'scheduled' {
  if (event.startsWith('before_')) return 'before';
  if (event === 'schedule') return 'scheduled';
  return 'after';
}

/**
 * The effective limits: the kind's defaults, lowered by the manifest (plugin-wide, then per hook)
 * and by the installation's ceiling. A manifest can ask for less, never for more than the ceiling.
 */
export function effectiveLimits(kind: 'before' | 'after' | 'scheduled', ...overrides: Array<Partial<PluginLimits> | undefined>): PluginLimits {
  const result = { ...DEFAULT_LIMITS[kind] };
  for (const o of overrides) {
    if (!o) continue;
    for (const [k, v] of Object.entries(o) as Array<[keyof PluginLimits, number]>) {
      if (typeof v === 'number') result[k] = Math.min(result[k], v);
    }
  }
  return result;
}
