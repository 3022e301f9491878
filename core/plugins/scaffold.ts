import fs from 'node:fs';
import path from 'node:path';

/** `cane plugin new <name>`: a working plugin (id `local.<name>`) with a test and a README, to edit from. */
export function scaffoldPlugin(parent: string, name: string): string {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error('the plugin name must be lower-case letters, digits and dashes');
  const dir = path.join(parent, name);
  if (fs.existsSync(dir)) throw new Error(`${dir} already exists`);
  fs.mkdirSync(path.join(dir, 'test'), { recursive: true });
  const id = `local.${name}`;
  fs.writeFileSync(path.join(dir, 'plugin.json'), JSON.stringify({
    id,
    name,
    version: '0.1.0',
    apiVersion: 1,
    description: 'Trims contact names and refuses contacts without a last name.',
    entry: 'index.js',
    hooks: [{ module: 'Contacts', event: 'before_save', handler: 'tidy', onError: 'allow' }],
    permissions: ['write:Contacts#first_name', 'write:Contacts#last_name', 'log'],
  }, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'index.js'), `// Runs in a sandbox: no require, process, fetch or timers; everything goes through ctx.
definePlugin({
  hooks: {
    tidy(ctx) {
      const r = ctx.event.record;
      if (!r.last_name || !String(r.last_name).trim()) throw new Veto('A contact needs a last name', { field: 'last_name' });
      const patch = {};
      for (const field of ['first_name', 'last_name']) {
        if (typeof r[field] === 'string' && r[field] !== r[field].trim()) patch[field] = r[field].trim();
      }
      if (Object.keys(patch).length) return { patch };
    },
  },
});
`);
  fs.writeFileSync(path.join(dir, 'test', 'tidy.test.js'), `// Run with: cane plugin test <path to this plugin's folder> (from the folder that holds it: cane plugin test ${name})
// Each exported function gets a fresh CRM (SQLite, fixed clock, SMS spy) with this plugin loaded.
module.exports = {
  'trims names': async ({ kit, assert }) => {
    const { record } = await kit.save('Contacts', { first_name: ' Ada ', last_name: ' Lovelace ' });
    assert.strictEqual(record.first_name, 'Ada');
    assert.strictEqual(record.last_name, 'Lovelace');
  },
  'vetoes a blank last name': async ({ kit, assert }) => {
    const { veto } = await kit.save('Contacts', { last_name: '   ' });
    assert.deepStrictEqual(veto, { message: 'A contact needs a last name', field: 'last_name' });
  },
};
`);
  fs.writeFileSync(path.join(dir, 'README.md'), pluginReadme(name, id));
  return dir;
}

/**
 * The README of a scaffolded plugin: what it does, how to test it, and the whole plugin API in brief
 * (the author may not have Cane's sources; docs/plugins.md is the full reference). It names every
 * ctx member the runner defines: tests/integration/plugin-scaffold.test.ts checks that.
 */
export function pluginReadme(name: string, id: string): string {
  return `# ${name}

A Cane plugin (id \`${id}\`). As scaffolded it has one \`before_save\` hook on Contacts, \`tidy\`: it
trims spaces around the first and last name (a patch) and refuses a contact whose last name is blank
(a veto, shown to the user as a 422 on \`last_name\`). Edit it from there.

| File | What it is |
|---|---|
| \`plugin.json\` | The manifest: id, hooks, permissions, settings, limits. |
| \`index.js\` | The code: one script that calls \`definePlugin\` (no \`import\`/\`require\`; bundle first if you use several files or TypeScript). |
| \`test/*.test.js\` | Tests, run by \`cane plugin test\`. |

## Running the tests

\`\`\`sh
cane plugin test <path to this folder>     # for example, from the folder that holds it: cane plugin test ${name}
\`\`\`

Each function exported by \`test/*.test.js\` is one case. It is called with \`{ kit, assert }\`
(\`assert\` is \`node:assert\`) and a fresh CRM: a SQLite database built from Cane's metadata (one user, the
administrator '1' that kit.save acts as; no SMS service), this plugin loaded on the real sandbox with its default settings, a clock fixed at
\`2026-01-01T09:00:00Z\`, and an SMS spy. After each case the command prints ✓ or ✗, then every denied
host call, failed host call and fault of the plugin in that case (the lines of \`kit.problems()\`); it
fails if a case fails. To run with other settings, pass a JSON file of setting → value:
\`cane plugin test <folder> --settings settings.json\` (checked against the manifest's schema).

| \`kit\` member | Does |
|---|---|
| \`kit.save(module, data, { id? })\` | Create (or update \`id\`) as an admin; runs \`before_save\` hooks. Resolves to \`{ record }\`, \`{ veto: { message, field } }\` or \`{ error: { code, message } }\`. |
| \`kit.runJobs()\` | Deliver queued after-events until nothing is due; resolves to how many ran. |
| \`kit.advance(seconds)\` | Move the clock (\`ctx.now()\`, retry times). A failed delivery is retried after 5 s, 10 s, 20 s … |
| \`kit.hostCalls()\` | Host calls made, oldest first: \`[{ capability, outcome, message, target_module }]\` (\`outcome\` \`ok\`, \`denied\` or \`error\`; faults and delivery bookkeeping left out). |
| \`kit.denied()\` / \`kit.faults()\` | Refused host calls / fault messages. |
| \`kit.problems()\` | One line per denial, failed host call and fault (\`denied: …\`, \`failed: …\`, \`fault in <hook>: …\`): what \`cane plugin test\` prints. |
| \`kit.records.create(module, data)\` / \`kit.records.list(module, filter?)\` | Set up and check data directly. |
| \`kit.smsSent\` | Messages passed to \`ctx.crm.sms.send\`; the spy answers like the real call: \`{ sent: [{ id: 'spy-<n>', to, status: 'queued' }], refused: [] }\`. |
| \`kit.engine\` | The whole engine, e.g. \`kit.engine.records.listRelated(actor, module, id, link)\`. |

To test with other settings, use \`--settings\` (above), or \`PluginTestKit.create(dir, { settings })\`
from Cane's \`core/plugins/test-kit\` in your own runner.

## The sandbox

The code runs in an isolated V8 isolate in a separate process. There is no \`require\`, \`process\`,
\`Buffer\`, \`fetch\`, network, file access, \`setTimeout\`/\`setInterval\`, \`TextEncoder\` or \`URL\`;
\`console\` prints nowhere. Everything goes through \`ctx\`. Module-level variables are per isolate (a
plugin has several) and may be reset at any time: keep state in records.

## Manifest (\`plugin.json\`)

| Key | Meaning |
|---|---|
| \`id\` | Reverse-DNS id (\`local.${name}\`); never change it. |
| \`name\`, \`version\`, \`description\` | Display name, semver (\`1.2.3\`), free text. |
| \`apiVersion\` | \`1\`. |
| \`entry\` | The JavaScript file, inside this folder. |
| \`hooks\` | \`[{ module, event, handler, priority?, onError?, delivery?, limits? }]\`: \`module\` is a module name or \`"*"\`; \`handler\` names a function in \`definePlugin({ hooks })\` (a manifest naming a handler the entry file does not define is refused at load and at install); \`priority\` (default 100, lower first) orders \`before_save\` hooks; \`onError\` (\`before_save\` only): \`"allow"\` (default, the save goes on) or \`"block"\` (the save fails with 503); \`delivery\` (after-events only): \`"unordered"\` (default) or \`"ordered"\`. |
| \`schedules\` | \`[{ handler, cron }]\`, five-field cron (\`"0 3 * * *"\`); needs the \`schedule\` permission. |
| \`permissions\` | See below. |
| \`settings\` | JSON Schema of the settings; the values of its \`properties\` reach \`ctx.settings\` (or their \`default\`), except those marked \`"secret": true\`. |
| \`limits\` | Lower the limits below (plugin-wide, or per hook under \`hooks[].limits\`). |

Events: \`before_save\` (inline in every create/update, may patch or veto), \`after_save\`,
\`after_delete\`, \`after_restore\`, \`after_relationship_add\`, \`after_relationship_delete\`, \`user.login\`
(module \`Users\`), \`export\`, \`sms.status\` and \`sms.inbound\` (module \`SMS\`), \`campaign.launch\` (module
\`Campaigns\`), \`lead.convert\` (module \`Leads\`). Each after-event is written in the transaction of its change.

Permissions: \`read:<Module>\` (find/get), \`write:<Module>\` (create/update any field, link, patch),
\`write:<Module>#<field>\` (create/update/patch that field only), \`send:sms\`, \`lists:write\`,
\`schedule\`, \`log\`.

Limits (defaults; a manifest may only lower them):

| Limit | before_save | after-events | schedules |
|---|---|---|---|
| \`memoryMb\` | 32 | 64 | 64 |
| \`timeoutMs\` (synchronous run) | 50 | 1000 | 5000 |
| \`wallMs\` (whole call) | 250 | 10000 | 60000 |
| \`cpuMs\` | 50 | 1000 | 5000 |
| \`hostCalls\` | 10 | 200 | 2000 |
| \`payloadBytes\` (event in, result out, crypto input, template) | 65536 | 262144 | 1048576 |
| \`logBytes\` | 4096 | 32768 | 65536 |

\`memoryMb\` is set once per plugin (its isolates serve every hook): 64, or the plugin-wide
\`limits.memoryMb\` if lower. A call that breaks a limit is a fault of that call only.

## Code: \`definePlugin\` and \`Veto\`

\`\`\`js
definePlugin({
  hooks: {
    tidy(ctx) {                       // before_save
      if (!ctx.event.record.last_name) throw new Veto('A contact needs a last name', { field: 'last_name' });
      return { patch: { first_name: 'Ada' } };   // or return nothing
    },
    async onSave(ctx) { /* after_save: returned value is ignored */ },
  },
});
\`\`\`

- \`definePlugin({ hooks })\` once; each handler gets \`ctx\` and may be \`async\`.
- \`before_save\` returns nothing or \`{ patch: { field: value } }\` (values: null, string, number,
  boolean, array of strings). Patched fields need \`write:\` permissions; system fields (\`id\`,
  \`date_entered\`, \`date_modified\`, \`created_by\`, \`modified_user_id\`, \`deleted\`) and sensitive fields
  (such as \`Users.user_hash\`) cannot be patched.
- \`throw new Veto(message, { field })\` in \`before_save\` stops the save with a 422 naming the field;
  the first veto wins. In after-events and schedules the change is already committed: a \`Veto\` there
  is a fault ("Veto is not possible in after_save …"), retried like any other. To skip an event, return.
- Any other exception is a fault. After 5 faults in a row a hook is switched off, except a
  \`before_save\` hook with \`onError: "block"\`, which stays on (its saves keep failing with 503).

## \`ctx\` reference

| Call | Permission | Arguments | Returns |
|---|---|---|---|
| \`ctx.event\` | — | — | The event (below). |
| \`ctx.settings\` | — | — | Frozen object of non-secret settings. |
| \`ctx.now()\` | — | — | \`Date\` of the call's start (host clock). |
| \`ctx.log(...parts)\` | \`log\` | values (non-strings as JSON) | \`undefined\`; info level. Never throws; ≤ 2000 chars a message, \`logBytes\` a call. |
| \`ctx.log.info(...parts)\`, \`ctx.log.warn(...parts)\`, \`ctx.log.error(...parts)\` | \`log\` | same | \`undefined\` |
| \`ctx.crypto.sha256(text)\` | — | string | hex SHA-256 of the UTF-8 (sync) |
| \`ctx.crypto.hmac(key, text)\` | — | strings | hex HMAC-SHA-256 (sync) |
| \`ctx.crypto.randomUUID()\` | — | — | UUID v4 string (sync) |
| \`ctx.php.unserialize(text)\` | — | PHP-serialized text or its base64 | the value as JSON (sync) |
| \`ctx.php.serialize(value, { base64 }?)\` | — | a JSON value | PHP serialize text, or its base64 (sync) |
| \`ctx.crm.records.find(module, options?)\` | \`read:<module>\` | \`{ filter?, fields?, maxNum?, offset?, orderBy? }\` | \`Promise<record[]>\` |
| \`ctx.crm.records.get(module, id)\` | \`read:<module>\` | | \`Promise<record>\` |
| \`ctx.crm.records.create(module, data)\` | \`write:<module>\` or \`write:<module>#<field>\` per field | field values | \`Promise<record>\` |
| \`ctx.crm.records.update(module, id, data)\` | as create | field values | \`Promise<record>\` |
| \`ctx.crm.records.link(module, id, link, relatedId, fields?)\` | \`write:<module>\` | link name, related id, relationship fields | \`Promise<{ linked: true }>\` |
| \`ctx.crm.records.related(module, id, link, options?)\` | \`read:<module>\` and \`read:<linked module>\` | link name; filter, fields, maxNum (≤ 200), offset | \`Promise<{ module, records }>\` |
| \`ctx.crm.templates.render(template, data?)\` | — | Handlebars text (at most the call's \`payloadBytes\` characters), data | \`Promise<string>\` (\`{{x}}\` is HTML-escaped, \`{{{x}}}\` is not) |
| \`ctx.crm.sms.send(message)\` | \`send:sms\` | \`{ to \\| parent_type+parent_id \\| records, body \\| template_id, phone_field?, campaign_id?, idempotency_key? }\` | \`Promise<{ sent: [{ id, to, status }], refused: [{ code, reason, … }] }>\` |
| \`ctx.crm.lists.addMembers(listId, members)\` | \`lists:write\` | up to 1000 \`{ module, id }\` of Accounts, Contacts, Leads, Prospects or Users | \`Promise<{ added }>\` |
| \`ctx.crm.lists.removeMembers(listId, members)\` | \`lists:write\` | the same members | \`Promise<{ removed }>\` |
| \`ctx.crm.workflows.runAction(name, parameters, target)\` | \`workflows:run\` | an action type another plugin offers, its parameters, \`{ module, id, record }\` | \`Promise<handler's answer>\` |

- \`find\` options: \`filter\` is a Sugar v10 filter (\`[{ name: 'Acme' }, { amount: { $gt: 100 } }]\`,
  operators \`$equals $not_equals $starts $ends $contains $not_contains $in $not_in $is_null $not_null
  $empty $not_empty $lt $lte $gt $gte $between $dateBetween $dateRange $and $or\`); \`maxNum\` defaults to
  20 and is capped at 200; \`orderBy\` is \`[{ field, direction: 'asc' | 'desc' }]\`. It answers an array
  (no paging token: use \`offset\`).
- Await every \`ctx.crm\` call. Each counts toward \`hostCalls\`. A refused or failed call rejects with an
  \`Error\` whose message says why, e.g. \`permission 'read:Users' is not in the manifest of ${id}\`,
  \`Could not find record: <id> in module: Accounts\`, or a validation message.
- Plugins act as Cane's system user: user roles do not apply, only these permissions. Writes run the
  full save (hooks, validation, events — also to this plugin: avoid loops).

## Events

\`before_save\`:

\`\`\`json
{ "module": "Contacts", "event": "before_save", "isUpdate": true, "submitted": ["last_name"],
  "record": { "id": "…", "first_name": "Ada", "last_name": " Lovelace ", "…": "every stored field" },
  "before": { "id": "…", "first_name": "Ada", "last_name": "Lovelace", "…": "stored values; null on a create" } }
\`\`\`

After-events and schedules:

\`\`\`json
{ "event": "after_save", "module": "Contacts", "id": "…", "isUpdate": true,
  "record": { "id": "…", "last_name": "King", "date_modified": "2026-01-01 09:05:00", "modified_user_id": "seed-user-sally", "…": "…" },
  "changes": { "last_name": { "field_name": "last_name", "data_type": "varchar", "before": "Lovelace", "after": "King" } },
  "actorId": "seed-user-sally",
  "eventId": "6fdf0806-f18a-4cc7-9d10-118d3c8eff1e" }
\`\`\`

- Sensitive fields (such as \`Users.user_hash\`) are never in any event, before or after.
- \`after_save\`: \`record\` is the record as stored, with the system fields this save stamped
  (\`date_modified\`, \`modified_user_id\`, and on a create \`date_entered\`, \`created_by\`); \`actorId\` is who
  saved. \`changes\` is filled for an update, \`{}\` otherwise.
- \`after_delete\` / \`after_restore\`: \`record\` is the record with computed fields (\`assigned_user_name\` …)
  and \`deleted\`, \`date_modified\`, \`modified_user_id\` as the change left them; plus \`actorId\`.
- Relationship events add \`link\`, \`relatedModule\`, \`relatedId\`, \`actorId\`; \`record\` is
  \`{ id, date_modified, modified_user_id }\`.
- \`user.login\`: \`record\` is \`{ id, user_name, date_modified, modified_user_id, ip_address }\`, plus \`actorId\`.
- \`export\`: \`id\` is \`''\`, plus \`actorId\`, \`count\`, and \`record.ids\` (selected ids).
- \`sms.status\` (module \`SMS\`, \`id\` the message): \`record\` is \`{ id, status, error_code, provider_status, source, date_modified }\`
  (\`source\`: \`dispatch\`, \`reconcile\` or \`callback\`), \`changes\` is \`{ status: { before, after } }\`; no \`actorId\`.
- \`sms.inbound\` (module \`SMS\`): the same payload as the \`after_save\` of the received message
  (\`direction: "inbound"\`, \`from_number\`, \`body\`, \`parent_type\`/\`parent_id\` of the matched record …).
- \`campaign.launch\` (module \`Campaigns\`, \`id\` the campaign): \`record\` is
  \`{ id, name, campaign_type, template_id, members, test, job_id, date_modified }\`, plus \`actorId\`.
- \`lead.convert\` (module \`Leads\`, \`id\` the lead): \`record\` is
  \`{ id, contact_id, account_id, opportunity_id, date_modified }\` (null for a module not converted into), plus \`actorId\`.
- Schedules: \`{ "module": "*", "event": "schedule", "id": "", "isUpdate": false, "record": { "fired_at": "YYYY-MM-DD HH:MM:SS" }, "changes": {}, "eventId": "…" }\`.
- Datetimes are UTC \`YYYY-MM-DD HH:MM:SS\`.

## Delivery

- \`before_save\` hooks run inside the user's save, in priority order, each seeing the patches before it.
- After-events are delivered after the commit, **at least once**: a fault, crash or lost
  acknowledgement delivers the same event again, with the same \`ctx.event.eventId\`. Make effects
  idempotent: look the event id up before acting, or store it with the effect.
- On a redelivery, a create/update/link/addMembers/send call that the earlier attempt already made
  with the same arguments (the same number of times) returns the remembered result instead of acting
  again; a call with other arguments acts. Arguments that change between attempts (\`ctx.now()\`, a
  random id) make a new call: derive them from the event instead.
- \`"delivery": "ordered"\`: the plugin's ordered hooks get events one at a time, in commit order; a
  fault holds the lane until the event is delivered. Unordered events are delivered in parallel.
- Retries back off (5 s, 10 s, 20 s … up to 10 min for the plugin's faults; faster for Cane's own).
  After 5 plugin faults in a row the hook is switched off; its events are kept and delivered when it
  is enabled again. Events of a hook that a new version of the plugin no longer has are dropped (a
  note with outcome \`dropped\` in \`plugin_audit\`).
- Installed plugins are managed live: \`cane plugin install <folder or .tgz> [--upgrade]\`,
  \`uninstall\`, \`settings <id> key=value\`, \`enable\`/\`disable <id> [hook]\`, \`list\`, or the admin page
  \`/ui/plugins\`; every Cane process on the database follows within a few seconds.

The full reference is \`docs/plugins.md\` in Cane's repository.
`;
}

export interface PluginTestCase {
  name: string;
  fn: (args: { kit: import('./test-kit').PluginTestKit; assert: typeof import('node:assert') }) => Promise<void> | void;
}

/** The exported test functions of <plugin>/test/*.test.js. */
export function pluginTests(dir: string): Array<{ file: string; cases: PluginTestCase[] }> {
  const testDir = path.join(dir, 'test');
  if (!fs.existsSync(testDir)) return [];
  return fs.readdirSync(testDir).filter((f) => f.endsWith('.test.js')).sort().map((f) => {
    const file = path.resolve(testDir, f);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(file) as Record<string, PluginTestCase['fn']>;
    return { file, cases: Object.entries(mod).filter(([, fn]) => typeof fn === 'function').map(([name, fn]) => ({ name, fn })) };
  });
}
