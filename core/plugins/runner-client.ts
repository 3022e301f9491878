import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { packageRoot } from '../paths';
import type { Logger } from '../records/context';
import type { PluginLimits } from './limits';

export type Outcome =
  | { outcome: 'ok'; value: unknown; cpuMs: number; wallMs: number }
  | { outcome: 'veto'; veto: { message: string; field: string | null }; cpuMs: number; wallMs: number }
  | { outcome: 'fault'; error: string; cpuMs?: number; wallMs?: number };

export interface HostCall {
  invokeId: string;
  key: string;
  method: string;
  args: unknown;
}

/** Answers a host call; must never throw (the runner expects an envelope). */
export type HostCallHandler = (call: HostCall) => Promise<{ ok: true; result: unknown } | { ok: false; error: string }>;

/** A load's answer: the handler names the entry defined when it ran. */
export interface LoadResult {
  ok: boolean;
  error?: string;
  handlers?: string[];
}

/** One before_save hook of a save, run by `invokeBatch` in the order given. */
export interface BatchCall {
  invokeId: string;
  key: string;
  handler: string;
  settings: string;
  now: number;
  limits: PluginLimits;
  /** Fields the hook may patch; a patch naming any other field is not applied for the hooks after it. */
  allowed: string[];
  /** A fault ends the batch (the save is blocked); otherwise the next hook runs. */
  stopOnFault: boolean;
}

export type BatchOutcome = Outcome & { invokeId: string };

interface Pending {
  answer: (message: Record<string, unknown>) => void;
  /** Stands in for the answer when the runner stops or goes silent. */
  fail: (error: string) => void;
  timer: NodeJS.Timeout;
}

export const DEFAULT_POOL_SIZE = 4;

/**
 * Starts and supervises the runner process. A crash (V8 out of memory, a kill) fails the calls in
 * flight as plugin faults, and the next call starts a new runner, which reloads every plugin.
 */
export class RunnerClient {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  /** Invocations by id, batches by their own id. */
  private readonly pending = new Map<string, Pending>();
  private readonly batches = new Map<string, Pending>();
  private readonly loads = new Map<string, { code: string; memoryMb: number; poolSize: number }>();
  /** Bumped by every load and unload of a key, so a load that was overtaken is not recorded. */
  private readonly versions = new Map<string, number>();
  private readonly loadWaiters = new Map<number, (r: LoadResult) => void>();
  private nextId = 1;
  private closing = false;
  restarts = 0;

  constructor(private readonly onHostCall: HostCallHandler, private readonly log: Logger) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    const child = fork(path.join(packageRoot(), 'core', 'plugins', 'runner', 'runner.js'), [], {
      execArgv: ['--no-node-snapshot'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.child = child;
    child.stderr?.on('data', (d) => this.log.warn({ runner: String(d).slice(0, 2000) }, 'plugin runner stderr'));
    this.ready = new Promise<void>((resolve, reject) => {
      const onEarlyExit = (code: number | null) => reject(new Error(`plugin runner exited at start (code ${code})`));
      child.once('exit', onEarlyExit);
      child.on('message', (message: Record<string, unknown>) => {
        if (message.type === 'ready') {
          child.off('exit', onEarlyExit);
          resolve();
        } else this.onMessage(child, message);
      });
    });
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.ready = undefined;
      const error = `the plugin runner stopped (${signal ?? `exit ${code}`}) during the call`;
      for (const map of [this.pending, this.batches]) {
        for (const p of map.values()) {
          clearTimeout(p.timer);
          p.fail(error);
        }
        map.clear();
      }
      for (const w of this.loadWaiters.values()) w({ ok: false, error: `the plugin runner stopped (${signal ?? `exit ${code}`}) during the load` });
      this.loadWaiters.clear();
      if (!this.closing) {
        this.restarts++;
        this.log.warn({ code, signal }, 'plugin runner stopped; it restarts on the next call');
      }
    });
    return this.ready.then(async () => {
      for (const [key, { code, memoryMb, poolSize }] of this.loads) await this.sendLoad(key, code, memoryMb, poolSize);
    });
  }

  private onMessage(child: ChildProcess, message: Record<string, unknown>) {
    if (message.type === 'result' || message.type === 'batchResult') {
      const map = message.type === 'result' ? this.pending : this.batches;
      const p = map.get(String(message.id));
      if (!p) return;
      clearTimeout(p.timer);
      map.delete(String(message.id));
      p.answer(message);
    } else if (message.type === 'loaded') {
      const waiter = this.loadWaiters.get(Number(message.id));
      this.loadWaiters.delete(Number(message.id));
      waiter?.({ ok: Boolean(message.ok), error: message.error as string | undefined, handlers: Array.isArray(message.handlers) ? message.handlers.map(String) : undefined });
    } else if (message.type === 'hostcall') {
      let args: unknown = null;
      try {
        args = JSON.parse(String(message.args));
      } catch {
        this.reply(child, Number(message.callId), { ok: false, error: 'arguments are not valid JSON' });
        return;
      }
      this.onHostCall({ invokeId: String(message.invokeId), key: String(message.key), method: String(message.method), args })
        .catch((err) => ({ ok: false as const, error: String((err as Error).message) }))
        .then((reply) => this.reply(child, Number(message.callId), reply));
    }
  }

  /** To the runner that asked: call ids start again in a restarted runner. */
  private reply(child: ChildProcess, callId: number, reply: unknown) {
    let json: string;
    try {
      json = JSON.stringify(reply);
    } catch {
      json = JSON.stringify({ ok: false, error: 'the host result could not be serialised' });
    }
    if (child.connected) child.send({ type: 'hostresult', callId, json });
  }

  private sendLoad(key: string, code: string, memoryMb: number, poolSize: number): Promise<LoadResult> {
    return new Promise((resolve) => {
      if (!this.child?.connected) return resolve({ ok: false, error: 'the plugin runner is not running' });
      const id = this.nextId++;
      this.loadWaiters.set(id, resolve);
      this.child.send({ type: 'load', id, key, code, memoryMb, poolSize });
    });
  }

  /**
   * Compiles and runs a plugin's code in a first isolate (a syntax error comes back as the error);
   * up to `poolSize` isolates serve its calls, one call each at a time. A new version of a key
   * replaces the old one; calls in flight on the old one finish on it.
   */
  async load(key: string, code: string, memoryMb: number, poolSize = DEFAULT_POOL_SIZE): Promise<LoadResult> {
    const version = this.bump(key);
    await this.start();
    const result = await this.sendLoad(key, code, memoryMb, poolSize);
    if (result.ok && this.versions.get(key) === version) this.loads.set(key, { code, memoryMb, poolSize });
    return result;
  }

  /** Drops a plugin's isolates (calls in flight finish; queued ones fail) and stops reloading it after a crash. */
  async unload(key: string): Promise<void> {
    this.bump(key);
    this.loads.delete(key);
    if (this.child?.connected) this.child.send({ type: 'unload', key });
  }

  private bump(key: string): number {
    const version = (this.versions.get(key) ?? 0) + 1;
    this.versions.set(key, version);
    return version;
  }

  /** Sends one request and waits for its answer; the timer only covers a runner that stops answering. */
  private request<T>(map: Map<string, Pending>, id: string, message: Record<string, unknown>, timeoutMs: number, answer: (message: Record<string, unknown>) => T, fail: (error: string) => T): Promise<T> {
    return new Promise<T>((resolve) => {
      if (!this.child?.connected) return resolve(fail('the plugin runner stopped before the call'));
      const timer = setTimeout(() => {
        map.delete(id);
        resolve(fail('the plugin runner did not answer in time'));
        this.child?.kill('SIGKILL');
      }, timeoutMs);
      map.set(id, { timer, answer: (m) => resolve(answer(m)), fail: (error) => resolve(fail(error)) });
      this.child.send(message);
    });
  }

  /** Runs one hook call; `id` names the invocation in the host calls it makes. */
  async invoke(id: string, key: string, handler: string, eventJson: string, settingsJson: string, now: number, limits: PluginLimits): Promise<Outcome> {
    await this.start();
    return this.request<Outcome>(
      this.pending, id, { type: 'invoke', id, key, handler, event: eventJson, settings: settingsJson, now, limits }, limits.wallMs + 2000,
      (m) => m as unknown as Outcome,
      (error) => ({ outcome: 'fault', error }),
    );
  }

  /**
   * Runs a save's before_save hooks in one round trip, in order: each call sees the event's `record`
   * with the valid, allowed patches of the calls before it applied. The batch stops after a veto,
   * or after a fault of a call with `stopOnFault`. One outcome per call that ran, in order; if the
   * runner stops or goes silent, every call of the batch is answered with that fault.
   */
  async invokeBatch(eventJson: string, calls: BatchCall[]): Promise<BatchOutcome[]> {
    if (!calls.length) return [];
    await this.start();
    const id = `batch-${this.nextId++}`;
    const timeoutMs = calls.reduce((sum, c) => sum + c.limits.wallMs, 0) + 2000;
    return this.request<BatchOutcome[]>(
      this.batches, id, { type: 'batch', id, event: eventJson, calls }, timeoutMs,
      (m) => m.results as BatchOutcome[],
      (error) => calls.map((c) => ({ invokeId: c.invokeId, outcome: 'fault', error })),
    );
  }

  async close(): Promise<void> {
    this.closing = true;
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.disconnect();
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    });
  }
}
