import crypto from 'node:crypto';
import { silentLogger } from '../../core/logger';
import { DEFAULT_LIMITS, type PluginLimits } from '../../core/plugins/limits';
import { RunnerClient, type BatchCall, type HostCall } from '../../core/plugins/runner-client';

/** A promise the test settles by hand, so no assertion depends on timings. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => { open = resolve; });
  return { open, opened };
}

const limits: PluginLimits = { ...DEFAULT_LIMITS.after, memoryMb: 16, timeoutMs: 1000, cpuMs: 200, wallMs: 10_000 };
const hostCalls: HostCall[] = [];
/** records.get(module, id) answers `id`; ids naming a gate wait for it, and `arrived` tells when a call got there. */
const gates = new Map<string, { open: () => void; opened: Promise<void>; arrived: () => void }>();

const client = new RunnerClient(async (call) => {
  hostCalls.push(call);
  const { id } = call.args as { id: string };
  const g = gates.get(id);
  if (g) {
    g.arrived();
    await g.opened;
  }
  return { ok: true, result: id };
}, silentLogger);

/** A gate the host holds shut; `reached` resolves once a host call waits on it. */
function hostGate(id: string) {
  const g = gate();
  const arrival = gate();
  gates.set(id, { ...g, arrived: arrival.open });
  return { open: g.open, reached: arrival.opened };
}

const invoke = (id: string, key: string, handler: string, event: unknown, callLimits: PluginLimits = limits) =>
  client.invoke(id, key, handler, JSON.stringify(event), '{}', Date.now(), callLimits);

async function load(key: string, code: string, poolSize?: number) {
  const result = await client.load(key, code, 16, poolSize);
  expect(result).toMatchObject({ ok: true });
}

afterAll(async () => { await client.close(); });

describe('plugin runner pool', () => {
  it('fails only the call that breaks a limit; the other calls of the plugin finish', async () => {
    await load('pool.spin', `definePlugin({ hooks: { async work(ctx) {
      const got = await ctx.crm.records.get('Leads', ctx.event.wait);
      if (ctx.event.spin) for (;;) {}
      return { got };
    } } });`);
    const slow = hostGate('slow');
    const a = invoke('spin-a', 'pool.spin', 'work', { wait: 'slow' });
    const b = invoke('spin-b', 'pool.spin', 'work', { wait: 'slow' });
    const spinner = await invoke('spin-c', 'pool.spin', 'work', { wait: 'now', spin: true });
    expect(spinner).toMatchObject({ outcome: 'fault' });
    expect((spinner as { error: string }).error).toMatch(/CPU time limit of 200 ms exceeded|wall-clock deadline/);
    await slow.reached;
    slow.open();
    expect(await a).toMatchObject({ outcome: 'ok', value: { got: 'slow' } });
    expect(await b).toMatchObject({ outcome: 'ok', value: { got: 'slow' } });
    expect(await invoke('spin-d', 'pool.spin', 'work', { wait: 'now' })).toMatchObject({ outcome: 'ok', value: { got: 'now' } });
  }, 30_000);

  it('a heap blow-up in one call leaves the call in flight beside it alone', async () => {
    await load('pool.heap', `definePlugin({ hooks: {
      async blowUp() { const a = []; for (let i = 0; ; i++) a.push('x'.repeat(4e6) + i); },
      async wait(ctx) { return { got: await ctx.crm.records.get('Leads', 'heap') }; },
    } });`);
    const held = hostGate('heap');
    const waiting = invoke('heap-a', 'pool.heap', 'wait', {});
    await held.reached;
    expect(await invoke('heap-b', 'pool.heap', 'blowUp', {}, { ...limits, timeoutMs: 5000, cpuMs: 5000 })).toMatchObject({ outcome: 'fault', error: 'memory limit of 16 MB exceeded' });
    held.open();
    expect(await waiting).toMatchObject({ outcome: 'ok', value: { got: 'heap' } });
  }, 30_000);

  it('queues calls beyond the pool size and runs them in turn', async () => {
    await load('pool.one', `let calls = 0; definePlugin({ hooks: { async work(ctx) { calls++; return { got: await ctx.crm.records.get('Leads', ctx.event.wait), calls }; } } });`, 1);
    const held = hostGate('one');
    const first = invoke('one-a', 'pool.one', 'work', { wait: 'one' });
    const second = invoke('one-b', 'pool.one', 'work', { wait: 'now' });
    await held.reached;
    held.open();
    expect(await first).toMatchObject({ outcome: 'ok', value: { got: 'one', calls: 1 } });
    // one isolate, so the second call sees the module state the first one left
    expect(await second).toMatchObject({ outcome: 'ok', value: { got: 'now', calls: 2 } });
  }, 30_000);

  it('lets a call in flight finish on the old version when a new one is loaded', async () => {
    await load('pool.version', `definePlugin({ hooks: { async work(ctx) { await ctx.crm.records.get('Leads', ctx.event.wait); return 'v1'; } } });`);
    const held = hostGate('version');
    const old = invoke('version-a', 'pool.version', 'work', { wait: 'version' });
    await held.reached;
    await load('pool.version', `definePlugin({ hooks: { async work() { return 'v2'; } } });`);
    held.open();
    expect(await old).toMatchObject({ outcome: 'ok', value: 'v1' });
    expect(await invoke('version-b', 'pool.version', 'work', {})).toMatchObject({ outcome: 'ok', value: 'v2' });
  }, 30_000);

  it('unload: the call in flight finishes, queued and later calls are faults', async () => {
    await load('pool.gone', `definePlugin({ hooks: { async work(ctx) { return await ctx.crm.records.get('Leads', ctx.event.wait); } } });`, 1);
    const held = hostGate('gone');
    const running = invoke('gone-a', 'pool.gone', 'work', { wait: 'gone' });
    const queued = invoke('gone-b', 'pool.gone', 'work', { wait: 'now' });
    await held.reached;
    await client.unload('pool.gone');
    held.open();
    expect(await running).toMatchObject({ outcome: 'ok', value: 'gone' });
    expect(await queued).toMatchObject({ outcome: 'fault', error: 'plugin pool.gone is not loaded' });
    expect(await invoke('gone-c', 'pool.gone', 'work', { wait: 'now' })).toMatchObject({ outcome: 'fault', error: 'plugin pool.gone is not loaded' });
  }, 30_000);
});

describe('plugin runner batch', () => {
  beforeAll(async () => {
    await load('batch.title', `definePlugin({ hooks: { setTitle() { return { patch: { title: 'A' } }; } } });`);
    await load('batch.dept', `definePlugin({ hooks: { async setDept(ctx) {
      await ctx.crm.records.get('Leads', 'dept');
      return { patch: { department: 'title=' + ctx.event.record.title } };
    } } });`);
    await load('batch.veto', `definePlugin({ hooks: {
      check(ctx) { throw new Veto('department=' + ctx.event.record.department, { field: 'department' }); },
      fail() { throw new Error('broken'); },
    } });`);
  }, 30_000);

  const call = (invokeId: string, key: string, handler: string, extra: Partial<BatchCall> = {}): BatchCall => ({
    invokeId, key, handler, settings: '{}', now: Date.now(), limits, allowed: ['title', 'department'], stopOnFault: false, ...extra,
  });
  const event = JSON.stringify({ module: 'Leads', event: 'before_save', record: { title: 'orig', department: '' } });

  it('runs the hooks in order, each seeing the patches before it, and stops at a veto', async () => {
    const results = await client.invokeBatch(event, [
      call('b1', 'batch.title', 'setTitle'), call('b2', 'batch.dept', 'setDept'), call('b3', 'batch.veto', 'check'), call('b4', 'batch.title', 'setTitle'),
    ]);
    expect(results.map((r) => [r.invokeId, r.outcome])).toEqual([['b1', 'ok'], ['b2', 'ok'], ['b3', 'veto']]);
    expect(results[1]).toMatchObject({ value: { patch: { department: 'title=A' } } });
    expect(results[2]).toMatchObject({ veto: { message: 'department=title=A', field: 'department' } });
    // host calls of a batched hook carry its own invocation id
    expect(hostCalls.filter((c) => c.invokeId === 'b2').map((c) => c.key)).toEqual(['batch.dept']);
  }, 30_000);

  it('does not apply a patch that names a field the hook may not write', async () => {
    const results = await client.invokeBatch(event, [call('n1', 'batch.title', 'setTitle', { allowed: ['department'] }), call('n2', 'batch.dept', 'setDept')]);
    expect(results.map((r) => r.outcome)).toEqual(['ok', 'ok']);
    expect(results[1]).toMatchObject({ value: { patch: { department: 'title=orig' } } });
  }, 30_000);

  it('stops at a fault only when the call says so', async () => {
    const stopping = await client.invokeBatch(event, [call('f1', 'batch.veto', 'fail', { stopOnFault: true }), call('f2', 'batch.title', 'setTitle')]);
    expect(stopping).toEqual([expect.objectContaining({ invokeId: 'f1', outcome: 'fault', error: 'Error: broken' })]);
    const going = await client.invokeBatch(event, [call('g1', 'batch.veto', 'fail'), call('g2', 'batch.title', 'setTitle'), call('g3', 'batch.dept', 'setDept')]);
    expect(going.map((r) => r.outcome)).toEqual(['fault', 'ok', 'ok']);
    expect(going[2]).toMatchObject({ value: { patch: { department: 'title=A' } } });
  }, 30_000);

  it('answers a call of a key that is not loaded with a fault', async () => {
    const results = await client.invokeBatch(event, [call('u1', 'batch.nowhere', 'x'), call('u2', 'batch.title', 'setTitle')]);
    expect(results).toEqual([
      expect.objectContaining({ invokeId: 'u1', outcome: 'fault', error: 'plugin batch.nowhere is not loaded' }),
      expect.objectContaining({ invokeId: 'u2', outcome: 'ok' }),
    ]);
  }, 30_000);
});

describe('ctx.crypto', () => {
  beforeAll(async () => {
    await load('crypto.digest', `definePlugin({ hooks: { digest(ctx) {
      const caught = (f) => { try { f(); return null; } catch (e) { return e.constructor.name; } };
      return {
        abc: ctx.crypto.sha256('abc'),
        lone: ctx.crypto.sha256('a\\ud800b'),
        hmac: ctx.crypto.hmac('secret', 'message'),
        uuid: ctx.crypto.randomUUID(),
        notString: caught(() => ctx.crypto.sha256(42)),
        notStringKey: caught(() => ctx.crypto.hmac({}, 'x')),
        tooLong: caught(() => ctx.crypto.sha256('x'.repeat(2000))),
        tooLongUtf8: caught(() => ctx.crypto.sha256('é'.repeat(600))),
        hidden: [typeof __digest, typeof __bridge],
      };
    } } });`);
  }, 30_000);

  it('hashes with node:crypto, as UTF-8 with lone surrogates as U+FFFD, without host calls', async () => {
    const outcome = await invoke('digest-1', 'crypto.digest', 'digest', {}, { ...limits, payloadBytes: 1000 });
    const sha256 = (data: string | Buffer) => crypto.createHash('sha256').update(data).digest('hex');
    expect(outcome).toMatchObject({
      outcome: 'ok',
      value: {
        abc: sha256('abc'),
        lone: sha256(Buffer.from('a\ud800b', 'utf8')),
        hmac: crypto.createHmac('sha256', 'secret').update('message').digest('hex'),
        notString: 'TypeError',
        notStringKey: 'TypeError',
        tooLong: 'RangeError',
        tooLongUtf8: 'RangeError',
        hidden: ['undefined', 'undefined'],
      },
    });
    const value = (outcome as { value: { lone: string; uuid: string } }).value;
    expect(value.lone).toBe(sha256('a\ufffdb'));
    expect(value.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(hostCalls.filter((c) => c.invokeId === 'digest-1')).toEqual([]);
  }, 30_000);
});

describe('plugin runner crash', () => {
  it('answers every call of a batch in flight as a fault, then reloads what is loaded (not what was unloaded)', async () => {
    await load('crash.wait', `definePlugin({ hooks: { async wait(ctx) { await ctx.crm.records.get('Leads', 'crash'); } } });`);
    const held = hostGate('crash');
    const pid = client.pid!;
    const batch = client.invokeBatch(JSON.stringify({ record: {} }), [
      { invokeId: 'c1', key: 'crash.wait', handler: 'wait', settings: '{}', now: Date.now(), limits, allowed: [], stopOnFault: false },
      { invokeId: 'c2', key: 'batch.title', handler: 'setTitle', settings: '{}', now: Date.now(), limits, allowed: [], stopOnFault: false },
    ]);
    await held.reached;
    process.kill(pid, 'SIGKILL');
    const results = await batch;
    expect(results.map((r) => r.invokeId)).toEqual(['c1', 'c2']);
    for (const r of results) expect(r).toMatchObject({ outcome: 'fault', error: 'the plugin runner stopped (SIGKILL) during the call' });
    held.open();
    expect(await invoke('crash-2', 'batch.title', 'setTitle', {})).toMatchObject({ outcome: 'ok', value: { patch: { title: 'A' } } });
    expect(client.pid).not.toBe(pid);
    expect(await invoke('crash-3', 'pool.gone', 'work', {})).toMatchObject({ outcome: 'fault', error: 'plugin pool.gone is not loaded' });
  }, 30_000);
});
