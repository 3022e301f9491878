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

interface Pending {
  resolve: (outcome: Outcome) => void;
  timer: NodeJS.Timeout;
}

/**
 * Starts and supervises the runner process. A crash (V8 out of memory, a kill) fails the calls in
 * flight as plugin faults, and the next call starts a new runner, which reloads every plugin.
 */
export class RunnerClient {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly loads = new Map<string, { code: string; memoryMb: number }>();
  private readonly loadWaiters = new Map<string, Array<(r: { ok: boolean; error?: string }) => void>>();
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
        } else this.onMessage(message);
      });
    });
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.ready = undefined;
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.resolve({ outcome: 'fault', error: `the plugin runner stopped (${signal ?? `exit ${code}`}) during the call` });
        this.pending.delete(id);
      }
      if (!this.closing) {
        this.restarts++;
        this.log.warn({ code, signal }, 'plugin runner stopped; it restarts on the next call');
      }
    });
    return this.ready.then(async () => {
      for (const [key, { code, memoryMb }] of this.loads) await this.sendLoad(key, code, memoryMb);
    });
  }

  private onMessage(message: Record<string, unknown>) {
    if (message.type === 'result') {
      const p = this.pending.get(String(message.id));
      if (!p) return;
      clearTimeout(p.timer);
      this.pending.delete(String(message.id));
      p.resolve(message as unknown as Outcome);
    } else if (message.type === 'loaded') {
      const waiters = this.loadWaiters.get(String(message.key)) ?? [];
      this.loadWaiters.delete(String(message.key));
      for (const w of waiters) w({ ok: Boolean(message.ok), error: message.error as string | undefined });
    } else if (message.type === 'hostcall') {
      let args: unknown = null;
      try {
        args = JSON.parse(String(message.args));
      } catch {
        this.reply(Number(message.callId), { ok: false, error: 'arguments are not valid JSON' });
        return;
      }
      this.onHostCall({ invokeId: String(message.invokeId), key: String(message.key), method: String(message.method), args })
        .catch((err) => ({ ok: false as const, error: String((err as Error).message) }))
        .then((reply) => this.reply(Number(message.callId), reply));
    }
  }

  private reply(callId: number, reply: unknown) {
    let json: string;
    try {
      json = JSON.stringify(reply);
    } catch {
      json = JSON.stringify({ ok: false, error: 'the host result could not be serialised' });
    }
    this.child?.send({ type: 'hostresult', callId, json });
  }

  private sendLoad(key: string, code: string, memoryMb: number): Promise<{ ok: boolean; error?: string }> {
    return new Promise((resolve) => {
      this.loadWaiters.set(key, [...(this.loadWaiters.get(key) ?? []), resolve]);
      this.child!.send({ type: 'load', key, code, memoryMb });
    });
  }

  /** Compiles and runs a plugin's code in its own isolate; a syntax error comes back as the error. */
  async load(key: string, code: string, memoryMb: number): Promise<{ ok: boolean; error?: string }> {
    await this.start();
    const result = await this.sendLoad(key, code, memoryMb);
    if (result.ok) this.loads.set(key, { code, memoryMb });
    return result;
  }

  /** Runs one hook call; `id` names the invocation in the host calls it makes. */
  async invoke(id: string, key: string, handler: string, eventJson: string, settingsJson: string, now: number, limits: PluginLimits): Promise<Outcome> {
    await this.start();
    return new Promise<Outcome>((resolve) => {
      // The runner enforces the deadline; this one only covers a runner that stops answering.
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ outcome: 'fault', error: 'the plugin runner did not answer in time' });
        this.child?.kill('SIGKILL');
      }, limits.wallMs + 2000);
      this.pending.set(id, { resolve, timer });
      this.child!.send({ type: 'invoke', id, key, handler, event: eventJson, settings: settingsJson, now, limits });
    });
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
