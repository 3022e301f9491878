// The built-in audit-log plugin, written like a third-party plugin: it only uses ctx.
// Each entry stores the SHA-256 of the previous entry and its own; `cane audit:verify`
// (modules/ActivityLog/verify-chain.ts) recomputes the same digest from the stored rows.
//
// Its hooks use ordered delivery: the host hands this plugin one event at a time in commit
// order, across every Cane process, so "read the last entry, then append" cannot interleave.
// A redelivered event (after a crash between appending and acknowledging) finds its own entry
// by event id and appends nothing.

const NAME_LENGTH = 255;
const DETAIL_VALUE_LENGTH = 2000;

/** The first `max` characters counted in code points, as the database counts VARCHAR length. */
function truncate(text, max) {
  const chars = Array.from(String(text));
  return chars.length > max ? chars.slice(0, max).join('') : String(text);
}

/** The digested content of an entry; verify-chain.ts builds exactly the same string from the stored row. */
function digestInput(prev, entry) {
  return JSON.stringify([prev, entry.action, entry.target_module, entry.target_id, entry.actor_id, entry.occurred_at, entry.name, entry.details]);
}

async function append(ctx, entry) {
  const eventId = ctx.event.eventId;
  const done = await ctx.crm.records.find('ActivityLog', { filter: [{ event_id: eventId }], maxNum: 1, fields: ['id'] });
  if (done.length) return;
  const last = await ctx.crm.records.find('ActivityLog', { maxNum: 1, orderBy: [{ field: 'sequence', direction: 'desc' }], fields: ['hash'] });
  const prev = last.length ? last[0].hash : 'genesis';
  const stored = { ...entry, name: truncate(entry.name, NAME_LENGTH) };
  await ctx.crm.records.create('ActivityLog', { ...stored, event_id: eventId, prev_hash: prev, hash: ctx.crypto.sha256(digestInput(prev, stored)) });
}

function summary(event) {
  const r = event.record || {};
  return String(r.name || [r.first_name, r.last_name].filter(Boolean).join(' ') || event.id);
}

function shortValue(value) {
  return typeof value === 'string' ? truncate(value, DETAIL_VALUE_LENGTH) : value;
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

definePlugin({
  hooks: {
    async recordSave(ctx) {
      const e = ctx.event;
      if (e.module === 'ActivityLog') return;
      const changes = {};
      for (const [field, change] of Object.entries(e.changes || {})) changes[field] = { before: shortValue(change.before), after: shortValue(change.after) };
      await append(ctx, {
        action: e.isUpdate ? 'update' : 'create',
        target_module: e.module,
        target_id: e.id,
        actor_id: String(e.actorId || e.record.modified_user_id || ''),
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
        actor_id: String(e.actorId || e.record.modified_user_id || ''),
        occurred_at: String(e.record.date_modified || ''),
        name: summary(e),
        details: '',
      });
    },
  },
});
