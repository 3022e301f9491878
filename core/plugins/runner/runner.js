'use strict';
/**
 * The plugin runner: a child process (started with --no-node-snapshot) that holds one isolated-vm
 * isolate and context per plugin version and runs hook calls in them under limits. It is plain
 * JavaScript so it runs the same from the sources and from a build. It trusts nothing that comes
 * out of an isolate and never decides permissions: every host call goes back to the parent, which
 * checks it against the plugin's manifest.
 *
 * Messages from the parent: load {key, code, memoryMb}, invoke {id, key, handler, event, settings,
 * now, limits}, hostresult {callId, json}. Messages to the parent: ready, loaded, result, hostcall.
 */
const ivm = require('isolated-vm');

/** key -> { isolate, context, invoke, code, memoryMb } */
const plugins = new Map();
/** callId -> resolve of a pending host call */
const pendingHostCalls = new Map();
let nextCallId = 1;

const BOOTSTRAP = `
(() => {
  const bridge = globalThis.__bridge;
  delete globalThis.__bridge;
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
  globalThis.__invoke = async (invokeId, handler, eventJson, settingsJson, now) => {
    const call = async (method, args) => {
      const reply = parse(await bridge.apply(undefined, [invokeId, method, stringify(args === undefined ? null : args)], { result: { promise: true } }));
      if (!reply.ok) throw new Error(reply.error);
      return reply.result;
    };
    const fire = (method, args) => { call(method, args).catch(() => undefined); };
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
      crm: Object.freeze({
        records: Object.freeze({
          find: (module, options) => call('records.find', { module, options }),
          get: (module, id) => call('records.get', { module, id }),
          create: (module, data) => call('records.create', { module, data }),
          update: (module, id, data) => call('records.update', { module, id, data }),
          link: (module, id, link, relatedId, fields) => call('records.link', { module, id, link, relatedId, fields }),
        }),
        templates: Object.freeze({ render: (template, data) => call('templates.render', { template, data }) }),
        sms: Object.freeze({ send: (message) => call('sms.send', message) }),
        lists: Object.freeze({ addMembers: (listId, members) => call('lists.addMembers', { listId, members }) }),
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
})();
`;

function send(message) {
  if (process.connected) process.send(message);
}

/** Creates the isolate of a plugin: bootstrap (captures the bridge), then the plugin's code. */
function instantiate(key, code, memoryMb) {
  const isolate = new ivm.Isolate({ memoryLimit: memoryMb });
  const context = isolate.createContextSync();
  const bridge = new ivm.Reference((invokeId, method, argsJson) => new Promise((resolve) => {
    const callId = nextCallId++;
    pendingHostCalls.set(callId, resolve);
    send({ type: 'hostcall', callId, invokeId, key, method, args: argsJson });
  }));
  context.global.setSync('__bridge', bridge);
  context.evalSync(BOOTSTRAP, { timeout: 1000, filename: 'cane-bootstrap.js' });
  const invoke = context.global.getSync('__invoke', { reference: true });
  context.evalSync('delete globalThis.__invoke', { timeout: 100 });
  const script = isolate.compileScriptSync(code, { filename: `plugin:${key}` });
  script.runSync(context, { timeout: 1000 });
  script.release();
  const state = { isolate, context, invoke, code, memoryMb };
  plugins.set(key, state);
  return state;
}

function load({ key, code, memoryMb }) {
  const old = plugins.get(key);
  if (old && !old.isolate.isDisposed) old.isolate.dispose();
  plugins.delete(key);
  try {
    instantiate(key, code, memoryMb);
    send({ type: 'loaded', key, ok: true });
  } catch (err) {
    plugins.delete(key);
    send({ type: 'loaded', key, ok: false, error: err && err.name ? `${err.name}: ${err.message}` : String(err) });
  }
}

async function invoke({ id, key, handler, event, settings, now, limits }) {
  let state = plugins.get(key);
  if (!state) {
    send({ type: 'result', id, outcome: 'fault', error: `plugin ${key} is not loaded` });
    return;
  }
  if (state.isolate.isDisposed) {
    // A previous call was stopped by disposing the isolate: start a fresh one from the same code.
    try {
      state = instantiate(key, state.code, state.memoryMb);
    } catch (err) {
      send({ type: 'result', id, outcome: 'fault', error: `plugin ${key} could not be restarted: ${err.message}` });
      return;
    }
  }
  const { isolate } = state;
  const startedWall = Date.now();
  const startedCpu = isolate.cpuTime;
  let stopped = null;
  const stop = (reason) => {
    if (stopped) return;
    stopped = reason;
    try { isolate.dispose(); } catch { /* already gone */ }
  };
  const wall = setTimeout(() => stop(`wall-clock deadline of ${limits.wallMs} ms exceeded`), limits.wallMs);
  const watchdog = setInterval(() => {
    try {
      if (Number(isolate.cpuTime - startedCpu) / 1e6 > limits.cpuMs) stop(`CPU time limit of ${limits.cpuMs} ms exceeded`);
    } catch { /* disposed */ }
  }, 5);
  let message;
  try {
    const json = await state.invoke.apply(undefined, [id, handler, event, settings, now], { timeout: limits.timeoutMs, result: { promise: true } });
    if (typeof json !== 'string') throw new Error('the plugin returned something that is not JSON');
    if (json.length > limits.payloadBytes) {
      message = { outcome: 'fault', error: `result of ${json.length} bytes exceeds the ${limits.payloadBytes}-byte limit` };
    } else {
      message = JSON.parse(json);
    }
  } catch (err) {
    const text = String(err && err.message || err);
    let error = text;
    if (stopped) error = stopped;
    else if (/timed out/i.test(text)) error = `timeout of ${limits.timeoutMs} ms exceeded`;
    else if (/memory limit/i.test(text)) error = `memory limit of ${state.memoryMb} MB exceeded`;
    message = { outcome: 'fault', error };
  } finally {
    clearTimeout(wall);
    clearInterval(watchdog);
  }
  let cpuMs = 0;
  try { cpuMs = Number(isolate.cpuTime - startedCpu) / 1e6; } catch { /* disposed */ }
  send({ type: 'result', id, ...message, cpuMs, wallMs: Date.now() - startedWall });
}

process.on('message', (message) => {
  if (!message || typeof message !== 'object') return;
  if (message.type === 'load') load(message);
  else if (message.type === 'invoke') invoke(message).catch((err) => send({ type: 'result', id: message.id, outcome: 'fault', error: String(err && err.message || err) }));
  else if (message.type === 'hostresult') {
    const resolve = pendingHostCalls.get(message.callId);
    pendingHostCalls.delete(message.callId);
    if (resolve) resolve(message.json);
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', pid: process.pid });
