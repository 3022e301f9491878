'use strict';
/**
 * The plugin runner: a child process (started with --no-node-snapshot) that runs hook calls in
 * isolated-vm isolates under limits. It is plain JavaScript so it runs the same from the sources
 * and from a build. It trusts nothing that comes out of an isolate and never decides permissions:
 * every host call goes back to the parent, which checks it against the plugin's manifest.
 *
 * Each plugin key has a pool of up to `poolSize` isolates built from the same code, and an isolate
 * runs one call at a time; calls beyond the pool wait in a FIFO queue. A call that breaks a limit
 * disposes only its own isolate. So module-level plugin state is per isolate: it may differ from
 * one call to the next and may vanish at any time.
 *
 * Messages from the parent:
 *   load {id, key, code, memoryMb, poolSize?}   unload {key}   hostresult {callId, json}
 *   invoke {id, key, handler, event, settings, now, limits}
 *   batch {id, event, calls: [{invokeId, key, handler, settings, now, limits, allowed, stopOnFault}]}
 * Messages to the parent: ready {pid}, loaded {id, key, ok, error?}, result {id, ...outcome},
 *   batchResult {id, results: [{invokeId, ...outcome}]}, hostcall {callId, invokeId, key, method, args}.
 */
const crypto = require('node:crypto');
const ivm = require('isolated-vm');
const php = require('php-serialize');

const DEFAULT_POOL_SIZE = 4;

/** key -> the pool serving calls of that key */
const pools = new Map();
/** key -> id of the newest load message; an older load that finishes later is discarded */
const latestLoad = new Map();
/** callId -> resolve of a pending host call */
const pendingHostCalls = new Map();
let nextCallId = 1;

const BOOTSTRAP = `
(() => {
  const bridge = globalThis.__bridge;
  const digest = globalThis.__digest;
  const phpCodec = globalThis.__php;
  delete globalThis.__bridge;
  delete globalThis.__digest;
  delete globalThis.__php;
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  class Veto extends Error {
    constructor(message, options) {
      super(String(message));
      this.name = 'Veto';
      this.field = options && typeof options.field === 'string' ? options.field : null;
    }
  }
  let definition = null;
  Object.defineProperty(globalThis, 'Veto', { value: Veto, writable: false, configurable: false });
  Object.defineProperty(globalThis, 'definePlugin', {
    value: (def) => { if (definition) throw new Error('definePlugin may be called once'); definition = def; return def; },
    writable: false, configurable: false,
  });
  const describe = (value) => {
    try { return typeof value === 'string' ? value : stringify(value) ?? String(value); } catch { return String(value); }
  };
  globalThis.__handlerNames = () => {
    const hooks = definition && definition.hooks;
    return stringify(hooks && typeof hooks === 'object' ? Object.keys(hooks).filter((k) => typeof hooks[k] === 'function') : []);
  };
  const done = globalThis.__done;
  delete globalThis.__done;
  const run = async (invokeId, handler, eventJson, settingsJson, now, payloadBytes) => {
    const call = async (method, args) => {
      const reply = parse(await bridge.apply(undefined, [invokeId, method, stringify(args === undefined ? null : args)], { result: { promise: true } }));
      if (!reply.ok) throw new Error(reply.error);
      return reply.result;
    };
    const fire = (method, args) => { call(method, args).catch(() => undefined); };
    // Checked here so a wrong type never reaches the host; the host re-checks the exact UTF-8 size.
    const text = (name, value) => {
      if (typeof value !== 'string') throw new TypeError('ctx.crypto: ' + name + ' must be a string');
      if (value.length > payloadBytes) throw new RangeError('ctx.crypto: ' + name + ' is longer than ' + payloadBytes + ' bytes');
      return value;
    };
    const hooks = definition && definition.hooks;
    const fn = hooks && Object.prototype.hasOwnProperty.call(hooks, handler) ? hooks[handler] : undefined;
    if (typeof fn !== 'function') return stringify({ outcome: 'fault', error: 'the plugin defines no handler named ' + handler });
    const ctx = Object.freeze({
      event: parse(eventJson),
      settings: Object.freeze(parse(settingsJson)),
      now: () => new Date(now),
      log: Object.freeze(Object.assign((...parts) => fire('log', { level: 'info', message: parts.map(describe).join(' ') }), {
        info: (...parts) => fire('log', { level: 'info', message: parts.map(describe).join(' ') }),
        warn: (...parts) => fire('log', { level: 'warn', message: parts.map(describe).join(' ') }),
        error: (...parts) => fire('log', { level: 'error', message: parts.map(describe).join(' ') }),
      })),
      crypto: Object.freeze({
        sha256: (value) => digest('sha256', text('text', value), ''),
        hmac: (key, value) => digest('hmac', text('key', key), text('text', value)),
        randomUUID: () => digest('uuid', '', ''),
      }),
      php: Object.freeze({
        unserialize: (value) => parse(phpCodec('unserialize', text('text', value), '')),
        serialize: (value, options) => phpCodec('serialize', text('value', stringify(value === undefined ? null : value)), options && options.base64 ? 'base64' : ''),
      }),
      crm: Object.freeze({
        records: Object.freeze({
          find: (module, options) => call('records.find', { module, options }),
          get: (module, id) => call('records.get', { module, id }),
          create: (module, data) => call('records.create', { module, data }),
          update: (module, id, data) => call('records.update', { module, id, data }),
          link: (module, id, link, relatedId, fields) => call('records.link', { module, id, link, relatedId, fields }),
          related: (module, id, link, options) => call('records.related', { module, id, link, options }),
        }),
        templates: Object.freeze({ render: (template, data) => call('templates.render', { template, data }) }),
        sms: Object.freeze({ send: (message) => call('sms.send', message) }),
        workflows: Object.freeze({ runAction: (name, parameters, target) => call('workflows.runAction', { name, parameters, target }) }),
        lists: Object.freeze({
          addMembers: (listId, members) => call('lists.addMembers', { listId, members }),
          removeMembers: (listId, members) => call('lists.removeMembers', { listId, members }),
        }),
      }),
    });
    try {
      const value = await fn(ctx);
      return stringify({ outcome: 'ok', value: value === undefined ? null : value });
    } catch (err) {
      if (err instanceof Veto) return stringify({ outcome: 'veto', veto: { message: err.message, field: err.field } });
      if (err instanceof Error) return stringify({ outcome: 'fault', error: err.name + ': ' + err.message });
      return stringify({ outcome: 'fault', error: 'the plugin threw a non-Error value: ' + describe(err).slice(0, 200) });
    }
  };
  globalThis.__invoke = run;
  // The synchronous path: __start runs the hook (its microtasks run before the host's applySync
  // returns), __take answers the result if it is already there, else asks to be told through done.
  const settled = new Map();
  const waiting = new Set();
  globalThis.__start = (invokeId, handler, eventJson, settingsJson, now, payloadBytes) => {
    run(invokeId, handler, eventJson, settingsJson, now, payloadBytes).then((json) => {
      if (!waiting.delete(invokeId)) settled.set(invokeId, json);
      else done.applyIgnored(undefined, [invokeId, json]);
    });
  };
  globalThis.__take = (invokeId) => {
    if (!settled.has(invokeId)) {
      waiting.add(invokeId);
      return null;
    }
    const json = settled.get(invokeId);
    settled.delete(invokeId);
    return json;
  };
})();
`;

function send(message) {
  if (process.connected) process.send(message);
}

function errorText(err) {
  return err && err.name ? `${err.name}: ${err.message}` : String(err);
}

function dispose(isolate) {
  try { if (!isolate.isDisposed) isolate.dispose(); } catch { /* already gone */ }
}

/**
 * ctx.crypto, run with node:crypto on the runner's thread; it takes and returns only strings.
 * Strings are hashed as the UTF-8 bytes Buffer.from(text, 'utf8') gives, so a lone surrogate
 * becomes U+FFFD, exactly as the database drivers store it.
 */
function digest(slot, op, a, b) {
  if (op === 'uuid') return crypto.randomUUID();
  for (const value of op === 'hmac' ? [a, b] : [a]) {
    if (typeof value !== 'string') throw new TypeError('ctx.crypto takes strings');
    if (Buffer.byteLength(value, 'utf8') > slot.payloadBytes) throw new RangeError(`ctx.crypto: a string is longer than ${slot.payloadBytes} bytes`);
  }
  if (op === 'sha256') return crypto.createHash('sha256').update(Buffer.from(a, 'utf8')).digest('hex');
  if (op === 'hmac') return crypto.createHmac('sha256', Buffer.from(a, 'utf8')).update(Buffer.from(b, 'utf8')).digest('hex');
  throw new TypeError('ctx.crypto: unknown operation');
}

/**
 * ctx.php: PHP's serialize format as SugarCRM/SuiteCRM store it (AOW parameters, module paths),
 * with the php-serialize library; objects (O:) are refused rather than instantiated. Values cross
 * as JSON strings. unserialize takes the serialized text or its base64.
 */
function phpCodec(slot, op, a, b) {
  if (typeof a !== 'string') throw new TypeError('ctx.php takes strings');
  if (Buffer.byteLength(a, 'utf8') > slot.payloadBytes) throw new RangeError(`ctx.php: the text is longer than ${slot.payloadBytes} bytes`);
  try {
    if (op === 'unserialize') {
      const trimmed = a.trim();
      const serialized = /^(?:[aisbdO]:|N;)/.test(trimmed) ? trimmed : Buffer.from(trimmed, 'base64').toString('utf8');
      return JSON.stringify(php.unserialize(serialized, {}, { strict: true }) ?? null);
    }
    if (op === 'serialize') {
      const serialized = php.serialize(JSON.parse(a));
      return b === 'base64' ? Buffer.from(serialized, 'utf8').toString('base64') : serialized;
    }
  } catch (err) {
    throw new SyntaxError(`ctx.php.${op}: ${err && err.message ? err.message : String(err)}`);
  }
  throw new TypeError('ctx.php: unknown operation');
}

function newPool(key, code, memoryMb, poolSize) {
  const size = Number.isInteger(poolSize) && poolSize > 0 ? poolSize : DEFAULT_POOL_SIZE;
  // busy counts isolates running a call or being created; idle ones wait in `idle`.
  return { key, code, memoryMb, size, idle: [], busy: 0, queue: [], retired: false };
}

/** One isolate of a pool: bootstrap (captures the bridge and digest), then the plugin's code. */
async function createSlot(pool) {
  const isolate = new ivm.Isolate({ memoryLimit: pool.memoryMb });
  const slot = { pool, isolate, invoke: null, start: null, take: null, waiters: new Map(), payloadBytes: 0 };
  try {
    const context = await isolate.createContext();
    const bridge = new ivm.Reference((invokeId, method, argsJson) => new Promise((resolve) => {
      const callId = nextCallId++;
      pendingHostCalls.set(callId, resolve);
      send({ type: 'hostcall', callId, invokeId, key: pool.key, method, args: argsJson });
    }));
    await context.global.set('__bridge', bridge);
    await context.global.set('__digest', new ivm.Callback((op, a, b) => digest(slot, op, a, b)));
    await context.global.set('__php', new ivm.Callback((op, a, b) => phpCodec(slot, op, a, b)));
    await context.global.set('__done', new ivm.Reference((invokeId, json) => {
      const waiter = slot.waiters.get(invokeId);
      slot.waiters.delete(invokeId);
      if (waiter) waiter.resolve(json);
    }));
    await context.eval(BOOTSTRAP, { timeout: 1000, filename: 'cane-bootstrap.js' });
    slot.invoke = await context.global.get('__invoke', { reference: true });
    slot.start = await context.global.get('__start', { reference: true });
    slot.take = await context.global.get('__take', { reference: true });
    const handlerNames = await context.global.get('__handlerNames', { reference: true });
    await context.eval('delete globalThis.__invoke; delete globalThis.__start; delete globalThis.__take; delete globalThis.__handlerNames', { timeout: 100 });
    const script = await isolate.compileScript(pool.code, { filename: `plugin:${pool.key}` });
    await script.run(context, { timeout: 1000 });
    script.release();
    // What the entry defined, so the host can refuse a manifest that names a handler it lacks.
    slot.handlers = JSON.parse(await handlerNames.apply(undefined, [], { timeout: 100 }));
    handlerNames.release();
    return slot;
  } catch (err) {
    dispose(isolate);
    throw err;
  }
}

/** Hands out an idle isolate or a new one; the caller has checked that the pool has room. */
function take(pool) {
  pool.busy++;
  while (pool.idle.length) {
    const slot = pool.idle.pop();
    // An idle isolate is gone if stray work left by an earlier call hit the memory limit.
    if (!slot.isolate.isDisposed) return Promise.resolve(slot);
  }
  return createSlot(pool).catch((err) => {
    pool.busy--;
    pump(pool);
    throw new Error(`plugin ${pool.key} could not be restarted: ${errorText(err)}`);
  });
}

function pump(pool) {
  while (!pool.retired && pool.queue.length && (pool.idle.length || pool.busy < pool.size)) {
    const waiter = pool.queue.shift();
    clearTimeout(waiter.timer);
    take(pool).then(waiter.resolve, waiter.reject);
  }
}

/** An isolate for one call; waiting in the queue counts toward the call's wall-clock deadline. */
function acquire(pool, wallMs) {
  if (pool.idle.length || pool.busy < pool.size) return take(pool);
  return new Promise((resolve, reject) => {
    const waiter = { pool, resolve, reject, timer: undefined };
    waiter.timer = setTimeout(() => {
      const queue = waiter.pool.queue;
      queue.splice(queue.indexOf(waiter), 1);
      reject(new Error(`wall-clock deadline of ${wallMs} ms exceeded while waiting for a free isolate`));
    }, wallMs);
    pool.queue.push(waiter);
  });
}

function release(slot) {
  const { pool, isolate } = slot;
  pool.busy--;
  if (pool.retired) dispose(isolate);
  else if (!isolate.isDisposed) pool.idle.push(slot);
  pump(pool);
}

/**
 * Takes a pool out of service: idle isolates go now, busy ones when their call ends. Queued calls
 * move to the successor (a new version of the plugin) or, without one, fail.
 */
function retire(pool, successor) {
  pool.retired = true;
  for (const slot of pool.idle.splice(0)) dispose(slot.isolate);
  for (const waiter of pool.queue.splice(0)) {
    if (successor) {
      waiter.pool = successor;
      successor.queue.push(waiter);
    } else {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`plugin ${pool.key} is not loaded`));
    }
  }
  if (successor) pump(successor);
}

async function load({ id, key, code, memoryMb, poolSize }) {
  latestLoad.set(key, id);
  const pool = newPool(key, code, memoryMb, poolSize);
  let slot;
  try {
    slot = await createSlot(pool);
  } catch (err) {
    send({ type: 'loaded', id, key, ok: false, error: errorText(err) });
    return;
  }
  if (latestLoad.get(key) !== id) {
    dispose(slot.isolate);
    send({ type: 'loaded', id, key, ok: false, error: `plugin ${key} was loaded again or unloaded while this version loaded` });
    return;
  }
  pool.idle.push(slot);
  const old = pools.get(key);
  pools.set(key, pool);
  if (old) retire(old, pool);
  send({ type: 'loaded', id, key, ok: true, handlers: slot.handlers });
}

function unload({ key }) {
  latestLoad.delete(key);
  const pool = pools.get(key);
  pools.delete(key);
  if (pool) retire(pool, null);
}

/** Runs one call on an isolate of the pool; a call that breaks a limit disposes that isolate only. */
async function runCall({ id, key, handler, event, settings, now, limits }, sync = false) {
  const started = Date.now();
  const pool = pools.get(key);
  if (!pool) return { outcome: 'fault', error: `plugin ${key} is not loaded` };
  let slot;
  try {
    slot = await acquire(pool, limits.wallMs);
  } catch (err) {
    return { outcome: 'fault', error: err.message, cpuMs: 0, wallMs: Date.now() - started };
  }
  try {
    return await runOn(slot, { id, handler, event, settings, now, limits }, started, sync);
  } finally {
    release(slot);
  }
}

/**
 * The hook's JSON answer. Asynchronous calls run on isolated-vm's threads; `sync` calls (a save's
 * before_save hooks) start on this thread under the same timeout and, when they finish without
 * waiting for the host, answer without the two thread hops an async call costs (~75 µs).
 */
async function answerOf(slot, { id, handler, event, settings, now, limits }, sync, stopped, started) {
  const args = [id, handler, event, settings, now, limits.payloadBytes];
  if (!sync) return slot.invoke.apply(undefined, args, { timeout: limits.timeoutMs, result: { promise: true } });
  // The watchdogs cannot run while this thread runs the hook, so the timeout stands in for the
  // tightest of the three limits (synchronous work is CPU time and wall time alike).
  const left = Math.max(1, started + limits.wallMs - Date.now());
  const timeout = Math.max(1, Math.min(limits.timeoutMs, limits.cpuMs, left));
  const binding = timeout === limits.timeoutMs ? null : timeout === limits.cpuMs ? `CPU time limit of ${limits.cpuMs} ms exceeded` : `wall-clock deadline of ${limits.wallMs} ms exceeded`;
  try {
    slot.start.applySync(undefined, args, { timeout });
    const json = slot.take.applySync(undefined, [id], { timeout });
    if (json !== null) return json;
  } catch (err) {
    if (binding && /timed out/i.test(String(err && err.message))) throw new Error(binding);
    throw err;
  }
  return new Promise((resolve, reject) => {
    slot.waiters.set(id, { resolve });
    stopped.then(reject);
  });
}

async function runOn(slot, { id, handler, event, settings, now, limits }, started, sync = false) {
  const { isolate, pool } = slot;
  const startedCpu = isolate.cpuTime;
  let stopped = null;
  let onStop;
  const whenStopped = new Promise((resolve) => { onStop = resolve; });
  const stop = (reason) => {
    if (stopped) return;
    stopped = reason;
    dispose(isolate);
    onStop(new Error(reason));
  };
  const wall = setTimeout(() => stop(`wall-clock deadline of ${limits.wallMs} ms exceeded`), Math.max(0, started + limits.wallMs - Date.now()));
  const watchdog = setInterval(() => {
    // An isolate disposed under a waiting synchronous-path call went over its memory limit.
    if (isolate.isDisposed && !stopped) return stop(`memory limit of ${pool.memoryMb} MB exceeded`);
    try {
      if (Number(isolate.cpuTime - startedCpu) / 1e6 > limits.cpuMs) stop(`CPU time limit of ${limits.cpuMs} ms exceeded`);
    } catch { /* disposed */ }
  }, 5);
  slot.payloadBytes = limits.payloadBytes;
  let message;
  let broken = false;
  try {
    const json = await answerOf(slot, { id, handler, event, settings, now, limits }, sync, whenStopped, started);
    if (typeof json !== 'string') throw new Error('the plugin returned something that is not JSON');
    if (json.length > limits.payloadBytes) {
      message = { outcome: 'fault', error: `result of ${json.length} bytes exceeds the ${limits.payloadBytes}-byte limit` };
    } else {
      message = JSON.parse(json);
    }
  } catch (err) {
    broken = true;
    const text = String(err && err.message || err);
    let error = text;
    if (stopped) error = stopped;
    else if (/timed out/i.test(text)) error = `timeout of ${limits.timeoutMs} ms exceeded`;
    else if (/memory limit/i.test(text)) error = `memory limit of ${pool.memoryMb} MB exceeded`;
    message = { outcome: 'fault', error };
  } finally {
    clearTimeout(wall);
    clearInterval(watchdog);
  }
  let cpuMs = 0;
  try { cpuMs = Number(isolate.cpuTime - startedCpu) / 1e6; } catch { /* disposed */ }
  // isolated-vm leaves an isolate usable after a sync timeout, but a call that did not end through
  // the plugin's own return or throw (timeout, deadline, CPU, memory) retires its isolate anyway.
  if (broken) dispose(isolate);
  return { ...message, cpuMs, wallMs: Date.now() - started };
}

/** { patch } whose values are null, strings, numbers, booleans or arrays of strings; else undefined. */
function patchOf(value) {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== 'patch') return undefined;
  const patch = value.patch;
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return undefined;
  const valid = (v) => v === null || ['string', 'number', 'boolean'].includes(typeof v) || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
  return Object.values(patch).every(valid) ? patch : undefined;
}

/** A save's before_save hooks in order; each sees the record as patched by the ones before it. */
async function batch({ id, event, calls }) {
  let parsed = null;
  try { parsed = JSON.parse(event); } catch { /* answered below */ }
  if (!parsed || typeof parsed !== 'object' || !parsed.record || typeof parsed.record !== 'object' || Array.isArray(parsed.record)) {
    send({ type: 'batchResult', id, results: calls.map((c) => ({ invokeId: c.invokeId, outcome: 'fault', error: 'the batch event has no record object' })) });
    return;
  }
  const results = [];
  for (const call of calls) {
    const eventJson = JSON.stringify(parsed);
    const outcome = eventJson.length > call.limits.payloadBytes
      ? { outcome: 'fault', error: `event of ${eventJson.length} bytes exceeds the ${call.limits.payloadBytes}-byte limit` }
      : await runCall({ ...call, id: call.invokeId, event: eventJson }, true);
    results.push({ ...outcome, invokeId: call.invokeId });
    if (outcome.outcome === 'veto' || (outcome.outcome === 'fault' && call.stopOnFault)) break;
    const patch = outcome.outcome === 'ok' ? patchOf(outcome.value) : undefined;
    if (patch && Object.keys(patch).every((k) => call.allowed.includes(k))) Object.assign(parsed.record, patch);
  }
  send({ type: 'batchResult', id, results });
}

process.on('message', (message) => {
  if (!message || typeof message !== 'object') return;
  if (message.type === 'load') load(message).catch((err) => send({ type: 'loaded', id: message.id, key: message.key, ok: false, error: errorText(err) }));
  else if (message.type === 'unload') unload(message);
  else if (message.type === 'invoke') runCall(message).then((outcome) => send({ type: 'result', id: message.id, ...outcome }), (err) => send({ type: 'result', id: message.id, outcome: 'fault', error: String(err && err.message || err) }));
  else if (message.type === 'batch') batch(message).catch((err) => send({ type: 'batchResult', id: message.id, results: message.calls.map((c) => ({ invokeId: c.invokeId, outcome: 'fault', error: String(err && err.message || err) })) }));
  else if (message.type === 'hostresult') {
    const resolve = pendingHostCalls.get(message.callId);
    pendingHostCalls.delete(message.callId);
    if (resolve) resolve(message.json);
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', pid: process.pid });
