import crypto from 'node:crypto';
import { HookVeto } from '../../core/errors';
import { loginWithRole } from '../helpers/crm';
import { describeSms } from '../helpers/sms';
import { session } from '../helpers/ui-session';

/**
 * Sends to many run in the background (POST /rest/v10/SMS/sends): the job queue sends them a page
 * at a time (here 100 a page, 3 pages a run, then the rest goes to a new job), the send's row shows
 * how far it has gone, and a resubmit with the same key is the same send. The kill -9 in the middle
 * of one is in tests/e2e/sms-send-many-crash.test.ts.
 */
describeSms('SMS sends to many in the background', (get) => {
  const api = (method: string, path: string, body?: unknown, token = get().token) => get().server.call(method, `/rest/v10${path}`, { token, body });

  /** Contacts written straight to the table (a send's size, not their creation, is under test). */
  const seed = async (prefix: string, count: number, phone: (i: number) => string | null) => {
    const now = new Date().toISOString().slice(0, 19).replace('T', ' ');
    const rows = Array.from({ length: count }, (_, i) => ({ id: crypto.randomUUID(), first_name: `${prefix}${i}`, last_name: prefix, phone_mobile: phone(i), deleted: 0, date_entered: now, date_modified: now, created_by: '1', modified_user_id: '1', assigned_user_id: '1' }));
    await get().crm.engine.db.knex.batchInsert('contacts', rows, 200);
    return rows;
  };

  test('1,250 records are sent a page at a time: progress, refusals counted by code, each number once, and a resubmit with the same key is the same send', async () => {
    const { crm, drain, fake } = get();
    // 1,200 numbers (two pages); every 100th record has none, and the last 50 repeat numbers of the first page
    const rows = await seed('Bulk', 1250, (i) => (i % 100 === 99 ? null : `+1415558${String(i < 1200 ? i : i - 1200).padStart(4, '0')}`));
    await crm.sms!.consent.record({ phone: '+14155580007', state: 'opted_out', source: 'keyword', note: 'replied STOP' });
    const request = { records: rows.map((r) => ({ module: 'Contacts', id: r.id })), body: 'Sale starts today, {{first_name}}', idempotency_key: 'bulk-1250' };

    const submitted = await api('POST', '/SMS/sends', request);
    expect(submitted.status).toBe(202);
    expect(submitted.body).toMatchObject({ state: 'queued', total: 1250, done: 0, queued: 0, refused: 0, idempotency_key: 'bulk-1250' });
    const id = submitted.body.id;

    const again = await api('POST', '/SMS/sends', request);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(id);
    const otherText = await api('POST', '/SMS/sends', { ...request, body: 'Another text' });
    expect(otherText.status).toBe(422);
    expect(otherText.body.fields.map((f: { field: string }) => f.field)).toEqual(['idempotency_key']);

    await drain();
    const progress = (await api('GET', `/SMS/sends/${id}`)).body;
    // no number: 12 of the first 1,200; the 50 repeats are duplicates, but for the opted-out
    // number's repeat, which is refused for that first
    expect(progress).toMatchObject({ state: 'complete', total: 1250, done: 1250, refused_by_code: { no_number: 12, duplicate: 49, opted_out: 2 }, refused: 63, queued: 1187, error: null });
    expect(progress.refusals).toHaveLength(63);
    expect(progress.refusals.find((r: { code: string }) => r.code === 'duplicate')).toMatchObject({ module: 'Contacts', reason: expect.stringMatching(/already receives this message/) });
    expect(progress.date_finished).toEqual(expect.any(String));
    expect(progress.rate).toBeGreaterThan(0);
    // 13 pages in runs of 3: the first job and four it handed on to
    const runs = await crm.engine.db.knex(crm.engine.jobs.table).where('target', 'function::sms.send_many').where('data', 'like', `%${id}%`).select('status', 'resolution');
    expect(runs).toHaveLength(5);
    expect(runs.every((r: { status: string; resolution: string }) => r.status === 'done' && r.resolution === 'success')).toBe(true);

    const sent = fake.messages.filter((m) => m.body.startsWith('Sale starts today'));
    expect(sent).toHaveLength(1187);
    expect(new Set(sent.map((m) => m.to)).size).toBe(1187);

    // the same send submitted after it ended: the same answer, nothing new
    const resubmitted = await api('POST', '/SMS/sends', request);
    expect(resubmitted.status).toBe(200);
    expect(resubmitted.body).toMatchObject({ id, state: 'complete', queued: 1187 });
    await drain();
    expect(fake.messages.filter((m) => m.body.startsWith('Sale starts today'))).toHaveLength(1187);
    expect((await api('GET', '/SMS/sends')).body.records.map((s: { id: string }) => s.id)).toContain(id);
  });

  test('the same request submitted three times at once is one send', async () => {
    const rows = await seed('Parallel', 5, (i) => `+1415559${String(100 + i).padStart(4, '0')}`);
    const request = { records: rows.map((r) => ({ module: 'Contacts', id: r.id })), body: 'Once only, {{first_name}}', idempotency_key: 'parallel-1' };
    const answers = await Promise.all([1, 2, 3].map(() => api('POST', '/SMS/sends', request)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 202]);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    await get().drain();
    expect((await api('GET', `/SMS/sends/${answers[0].body.id}`)).body).toMatchObject({ state: 'complete', queued: 5 });
    expect(get().fake.messages.filter((m) => m.body.startsWith('Once only'))).toHaveLength(5);
  });

  test('a record named twice is sent once and counted once; the same request with its keys in another order is the same send', async () => {
    const rows = await seed('Twice', 3, (i) => `+1415559${String(200 + i).padStart(4, '0')}`);
    const records = [...rows, rows[0]].map((r) => ({ module: 'Contacts', id: r.id }));
    const first = await api('POST', '/SMS/sends', { records, body: 'Named twice, {{first_name}}', idempotency_key: 'twice-1' });
    expect(first.body).toMatchObject({ total: 3 });
    const reordered = await api('POST', '/SMS/sends', { idempotency_key: 'twice-1', body: 'Named twice, {{first_name}}', records: records.map((r) => ({ id: r.id, module: r.module })) });
    expect(reordered.status).toBe(200);
    expect(reordered.body.id).toBe(first.body.id);
    await get().drain();
    expect((await api('GET', `/SMS/sends/${first.body.id}`)).body).toMatchObject({ state: 'complete', done: 3, queued: 3, refused: 0 });
  });

  test('a send whose job ran out of attempts shows as failed, with the job\'s last message', async () => {
    const { crm } = get();
    const rows = await seed('Abandoned', 2, (i) => `+1415559${String(300 + i).padStart(4, '0')}`);
    const submitted = await api('POST', '/SMS/sends', { records: rows.map((r) => ({ module: 'Contacts', id: r.id })), body: 'Never finished' });
    // as the queue leaves a job whose workers kept dying: its last attempt failed, no retry left
    await crm.engine.db.knex(crm.engine.jobs.table).where('id', submitted.body.id).update({ status: 'done', resolution: 'failure', message: 'attempt 11 failed: lease expired: worker w1 stopped answering' });
    const progress = (await api('GET', `/SMS/sends/${submitted.body.id}`)).body;
    expect(progress).toMatchObject({ state: 'failed', error: expect.stringMatching(/ended without finishing it: attempt 11 failed: lease expired/) });
    expect(progress.date_finished).toEqual(expect.any(String));
  });

  test('a message refused by a hook when written on its own (the rest of the send was queued before) is reported; the send goes on', async () => {
    const { crm, drain, fake } = get();
    const rows = await seed('Vetoed', 2, (i) => `+1415559${String(400 + i).padStart(4, '0')}`);
    const request = (ids: string[]) => ({ records: ids.map((id) => ({ module: 'Contacts', id })), body: 'Hook check, {{first_name}}', idempotency_key: 'veto-1' });
    expect((await get().server.call('POST', '/rest/v10/SMS/send', { token: get().token, body: request([rows[0].id]) })).status).toBe(200);
    const remove = crm.engine.hooks.register('SMS', { event: 'before_save', order: 1, label: 'veto Vetoed1', handler: (bean) => { if (String(bean.body).includes('Vetoed1')) throw new HookVeto('not this one', 'body'); } });
    try {
      // the second record is the only new message of this request: it is written on its own
      const again = await get().server.call('POST', '/rest/v10/SMS/send', { token: get().token, body: request(rows.map((r) => r.id)) });
      expect(again.status).toBe(200);
      expect(again.body.refused).toEqual([expect.objectContaining({ id: rows[1].id, code: 'refused', reason: expect.stringMatching(/not this one/) })]);
      expect(again.body.records).toHaveLength(1);
    } finally {
      remove();
    }
    await drain();
    expect(fake.messages.filter((m) => m.body.startsWith('Hook check'))).toHaveLength(1);
  });

  test('the compose page sends to all matching records once: a resubmit after the search matches one more is the same send', async () => {
    const { server } = get();
    await seed('Matching', 4, (i) => `+1415559${String(500 + i).padStart(4, '0')}`);
    const ui = session(server.url);
    const csrf = await ui.login('admin', 'secret-admin');
    const form = { csrf, module: 'Contacts', select_entire_list: '1', list_query: 's_last_name=Matching', body: 'All of you, {{first_name}}', send_page_key: crypto.randomUUID() };
    const first = await ui.request('POST', '/ui/SMS/send', form);
    expect(first.status).toBe(302);
    expect(first.location).toMatch(/\/ui\/SMS\/sends\/[0-9a-f-]{36}$/);
    await seed('Matching', 1, () => '+14155590599');
    const again = await ui.request('POST', '/ui/SMS/send', form);
    expect(again.location).toBe(first.location);
    const page = await ui.request('GET', first.location);
    expect(page.status).toBe(200);
    expect(page.text).toContain('SMS to 4 recipients');
    await get().drain();
  });

  test('a send cancelled mid-way queues no more pages, and its messages still queued are not sent', async () => {
    const { crm, drain, fake } = get();
    const rows = await seed('Halfway', 700, (i) => `+1415560${String(i).padStart(4, '0')}`);
    const submitted = await api('POST', '/SMS/sends', { records: rows.map((r) => ({ module: 'Contacts', id: r.id })), body: 'Halfway, {{first_name}}' });
    // one run of the job: 3 pages of 100 queued, the rest handed on
    expect(await crm.engine.jobs.runOnce(1, 'sms.send_many')).toBe(1);
    expect((await api('GET', `/SMS/sends/${submitted.body.id}`)).body).toMatchObject({ state: 'sending', done: 300, queued: 300 });
    // a worker sends a batch of them before the cancel
    expect(await crm.engine.jobs.runOnce(1, 'sms.dispatch')).toBe(1);
    const early = fake.messages.filter((m) => m.body.startsWith('Halfway')).length;
    expect(early).toBe(1);
    const cancelled = await api('POST', `/SMS/sends/${submitted.body.id}/cancel`);
    expect(cancelled.body).toMatchObject({ state: 'cancelled', done: 300 });
    await drain();
    expect(fake.messages.filter((m) => m.body.startsWith('Halfway'))).toHaveLength(early);
    const after = (await api('GET', `/SMS/sends/${submitted.body.id}`)).body;
    expect(after).toMatchObject({ state: 'cancelled', done: 300, queued: 300, canceled: 300 - early });
    const statuses = await crm.engine.db.knex('sms').where('send_id', submitted.body.id).select('status', 'error_message');
    expect(statuses).toHaveLength(300);
    expect(statuses.filter((r: { status: string }) => r.status === 'canceled').every((r: { error_message: string }) => /send was cancelled/.test(r.error_message))).toBe(true);
  });

  test('a send cancelled before its job runs queues nothing; one that ended cannot be cancelled', async () => {
    const { drain, fake } = get();
    const rows = await seed('Cancelled', 30, (i) => `+1415559${String(i).padStart(4, '0')}`);
    const submitted = await api('POST', '/SMS/sends', { records: rows.map((r) => ({ module: 'Contacts', id: r.id })), body: 'Never sent, {{first_name}}' });
    expect(submitted.status).toBe(202);
    expect(submitted.body.idempotency_key).toEqual(expect.any(String));
    const cancelled = await api('POST', `/SMS/sends/${submitted.body.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ state: 'cancelled', done: 0 });
    await drain();
    expect(fake.messages.filter((m) => m.body.startsWith('Never sent'))).toHaveLength(0);
    expect((await api('GET', `/SMS/sends/${submitted.body.id}`)).body).toMatchObject({ state: 'cancelled', done: 0, queued: 0 });
    const twice = await api('POST', `/SMS/sends/${submitted.body.id}/cancel`);
    expect(twice.status).toBe(422);
    expect(twice.body.error_message).toMatch(/cancelled and cannot be cancelled/);
  });

  test('bad input is refused at once, naming the field; another user\'s send is not found', async () => {
    const records = [{ module: 'Contacts', id: 'demo-contact-01' }];
    for (const [body, field] of [
      [{ records, body: '' }, 'body'],
      [{ records, template_id: 'nope' }, 'template_id'],
      [{ records, body: 'Hi {{#if}}' }, 'body'],
      [{ to: '+14155550100', body: 'one number is not a send to many' }, 'records'],
      [{ records: Array.from({ length: 100_001 }, (_, i) => ({ module: 'Contacts', id: String(i) })), body: 'too many' }, 'records'],
      [{ records, body: 'hi', colour: 'red' }, 'colour'],
    ] as const) {
      const res = await api('POST', '/SMS/sends', body);
      expect(res.status).toBe(422);
      expect(res.body.error).toBe('invalid_parameter');
      expect(res.body.fields.map((f: { field: string }) => f.field)).toContain(field);
    }
    const mine = await api('POST', '/SMS/sends', { records, body: 'For my eyes' });
    expect(mine.status).toBe(202);
    const other = await loginWithRole(get().server, { name: 'otto', password: 'otto-secret-1' }, 'SMS senders', [['SMS', 'edit', 'all'], ['SMS', 'massupdate', 'all'], ['Contacts', 'view', 'all']]);
    expect((await api('GET', `/SMS/sends/${mine.body.id}`, undefined, other)).status).toBe(404);
    expect((await api('POST', `/SMS/sends/${mine.body.id}/cancel`, undefined, other)).status).toBe(404);
    expect((await api('GET', '/SMS/sends', undefined, other)).body.records).toEqual([]);
    expect((await api('GET', '/SMS/sends/no-such-send')).status).toBe(404);
    await get().drain();
  });
}, {}, {}, { backgroundSendPaging: { page: 100, pagesPerRun: 3 } });
