// The built-in audit-log plugin, written like a third-party plugin: it only uses ctx.
// Each entry stores the SHA-256 of the previous entry and its own; the chain is checked by
// `cane audit:verify` (modules/ActivityLog/verify-chain.ts computes the same digest).

const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

function utf8(text) {
  const bytes = [];
  for (const ch of text) {
    let c = ch.codePointAt(0);
    if (c < 0x80) bytes.push(c);
    else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return bytes;
}

function sha256(text) {
  const bytes = utf8(text);
  const bitLength = bytes.length * 8;
  bytes.push(0x80);
  while (bytes.length % 64 !== 56) bytes.push(0);
  for (let i = 7; i >= 0; i--) bytes.push(Math.floor(bitLength / 2 ** (8 * i)) & 0xff);
  const h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
  const w = new Array(64);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let off = 0; off < bytes.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = (bytes[off + 4 * i] << 24) | (bytes[off + 4 * i + 1] << 16) | (bytes[off + 4 * i + 2] << 8) | bytes[off + 4 * i + 3];
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
    h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + hh) | 0;
  }
  return h.map((x) => (x >>> 0).toString(16).padStart(8, '0')).join('');
}

/** The digested content of an entry; verify-chain.ts builds exactly the same string. */
function digestInput(prev, entry) {
  return JSON.stringify([prev, entry.action, entry.target_module, entry.target_id, entry.actor_id, entry.occurred_at, entry.name, entry.details]);
}

async function append(ctx, entry) {
  const last = await ctx.crm.records.find('ActivityLog', { maxNum: 1, orderBy: [{ field: 'sequence', direction: 'desc' }], fields: ['hash'] });
  const prev = last.length ? last[0].hash : 'genesis';
  const hash = sha256(digestInput(prev, entry));
  await ctx.crm.records.create('ActivityLog', { ...entry, prev_hash: prev, hash });
}

async function relationship(ctx, action) {
  const e = ctx.event;
  if (e.module === 'ActivityLog') return;
  await append(ctx, {
    action,
    target_module: e.module,
    target_id: e.id,
    actor_id: String(e.actorId || ''),
    occurred_at: String(e.record.date_modified || ''),
    name: e.link + ' ' + e.relatedModule + ' ' + e.relatedId,
    details: JSON.stringify({ link: e.link, related_module: e.relatedModule, related_id: e.relatedId }),
  });
}

function summary(event) {
  const r = event.record || {};
  return String(r.name || [r.first_name, r.last_name].filter(Boolean).join(' ') || event.id).slice(0, 255);
}

definePlugin({
  hooks: {
    async recordSave(ctx) {
      const e = ctx.event;
      if (e.module === 'ActivityLog') return;
      const changes = {};
      for (const [field, change] of Object.entries(e.changes || {})) changes[field] = { before: change.before, after: change.after };
      await append(ctx, {
        action: e.isUpdate ? 'update' : 'create',
        target_module: e.module,
        target_id: e.id,
        actor_id: String(e.record.modified_user_id || ''),
        occurred_at: String(e.record.date_modified || ''),
        name: summary(e),
        details: e.isUpdate ? JSON.stringify(changes) : '',
      });
    },
    async recordLink(ctx) {
      await relationship(ctx, 'link');
    },
    async recordUnlink(ctx) {
      await relationship(ctx, 'unlink');
    },
    async recordLogin(ctx) {
      const e = ctx.event;
      await append(ctx, { action: 'login', target_module: 'Users', target_id: e.id, actor_id: String(e.actorId || e.id), occurred_at: String(e.record.date_modified || ''), name: String(e.record.user_name || e.id), details: JSON.stringify({ ip: e.record.ip_address || null }) });
    },
    async recordExport(ctx) {
      const e = ctx.event;
      await append(ctx, { action: 'export', target_module: e.module, target_id: '', actor_id: String(e.actorId || ''), occurred_at: String(e.record.date_modified || ''), name: e.count + ' ' + e.module + ' exported', details: JSON.stringify({ count: e.count, ids: e.record.ids || [] }) });
    },
    async recordDelete(ctx) {
      const e = ctx.event;
      if (e.module === 'ActivityLog') return;
      await append(ctx, {
        action: 'delete',
        target_module: e.module,
        target_id: e.id,
        actor_id: String(e.record.modified_user_id || ''),
        occurred_at: String(e.record.date_modified || ''),
        name: summary(e),
        details: '',
      });
    },
  },
});
