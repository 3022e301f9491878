import { describeEachServer, loginWithRole, type TestServer } from '../helpers/crm';
import { session } from '../helpers/ui-session';

/** The import wizard through HTTP, as a browser posts it, on each database. */
describeEachServer('record import (CSV into Contacts)', (get) => {
  let ui: ReturnType<typeof session>;
  let csrf: string;
  let server: TestServer;

  beforeAll(async () => {
    server = get();
    ui = session(server.url);
    csrf = await ui.login('admin', 'secret-admin');
  });

  async function upload(bytes: Buffer): Promise<string> {
    const res = await ui.request('POST', '/ui/Contacts/import', { csrf, file_data: bytes.toString('base64'), file_name: 'people.csv' });
    expect(res.status).toBe(302);
    const id = /\/import\/([^/]+)\/map$/.exec(res.location)?.[1];
    expect(id).toBeTruthy();
    return id!;
  }

  async function map(id: string, columns: string[], duplicates = 'skip') {
    const form: Record<string, string> = { csrf, duplicates };
    columns.forEach((f, i) => { form[`column_${i}`] = f; });
    return ui.request('POST', `/ui/Contacts/import/${id}/map`, form);
  }

  async function run(id: string) {
    expect((await ui.request('POST', `/ui/Contacts/import/${id}/run`, { csrf })).status).toBe(302);
    await server.crm.engine.jobs.runOnce(5);
    return JSON.parse((await ui.request('GET', `/ui/Contacts/import/${id}/status`)).text);
  }

  async function contacts(lastName: string) {
    return server.crm.engine.db.knex('contacts').where({ last_name: lastName, deleted: 0 }).orderBy('first_name').select('id', 'first_name', 'last_name', 'title', 'phone_mobile');
  }

  const PEOPLE = ['first_name', 'last_name', 'email1', 'phone_mobile'];

  it('offers an Import button on the list and suggests fields from the header', async () => {
    expect((await ui.request('GET', '/ui/Contacts')).text).toContain('/ui/Contacts/import"');
    const id = await upload(Buffer.from('First Name,last name,E-mail Address,Mobile,Shoe size\nAnn,Upload,ann.upload@example.com,+15550001111,42\n'));
    const page = await ui.request('GET', `/ui/Contacts/import/${id}/map`);
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/name="column_0" data-import-column>[^]*?<option value="first_name" selected>/);
    expect(page.text).toMatch(/name="column_1" data-import-column>[^]*?<option value="last_name" selected>/);
    expect(page.text).toMatch(/name="column_3" data-import-column>[^]*?<option value="phone_mobile" selected>/);
    expect(page.text).toMatch(/name="column_4" data-import-column><option value="" selected>/);
  });

  it('reads a BOM, semicolons, quotes across lines and reports failing values per row, nothing half-written', async () => {
    const csv = '\uFEFFFirst Name;Last Name;Email Address;Title\nAnn;Semi;ann.semi@example.com;"Head of\nSales; EMEA"\nBob;Semi;not-an-email;Buyer\nCy;;cy.semi@example.com;Nobody\n';
    const id = await upload(Buffer.from(csv, 'utf8'));
    expect((await map(id, ['first_name', 'last_name', 'email1', 'title'])).status).toBe(302);
    const preview = await ui.request('GET', `/ui/Contacts/import/${id}/preview`);
    expect(preview.text).toContain('email1');
    expect(preview.text).toContain('not a valid e-mail');
    const result = await run(id);
    expect(result).toMatchObject({ state: 'done', rows: 3, created: 1, refused: 2, updated: 0, skipped: 0 });
    const [ann] = await contacts('Semi');
    expect(ann).toMatchObject({ first_name: 'Ann', title: 'Head of\nSales; EMEA' });
    expect((await contacts('Semi')).length).toBe(1);
    // The refused rows: whole, with the reason naming field and rule.
    const refused = await ui.request('GET', `/ui/Contacts/import/${id}/refused.csv`);
    expect(refused.status).toBe(200);
    expect(refused.text).toContain('Bob,Semi,not-an-email,Buyer,2,');
    expect(refused.text).toMatch(/email1: .*\(email\)/);
    expect(refused.text).toMatch(/Cy,,cy\.semi@example\.com,Nobody,3,last_name: is required \(required\)/);
    const status = await ui.request('GET', `/ui/Contacts/import/${id}`);
    expect(status.text).toContain('href="/ui/Contacts"');
    expect(status.text).toContain('refused.csv');
  });

  it('reads a Windows-1252 (Latin-1) file', async () => {
    const id = await upload(Buffer.from('First Name,Last Name\nJosé,Müller-Latin\nFrançoise,Müller-Latin\n', 'latin1'));
    const page = await ui.request('GET', `/ui/Contacts/import/${id}/map`);
    expect(page.text).toContain('windows-1252');
    await map(id, ['first_name', 'last_name']);
    expect(await run(id)).toMatchObject({ state: 'done', created: 2 });
    expect((await contacts('Müller-Latin')).map((c) => c.first_name)).toEqual(['Françoise', 'José']);
  });

  it('refuses a column mapped twice and a required field left unmapped, before reading any row', async () => {
    const id = await upload(Buffer.from('First,Surname,Family\nA,Twice,Twice\n'));
    const twice = await map(id, ['first_name', 'last_name', 'last_name']);
    expect(twice.status).toBe(422);
    expect(twice.text).toContain('mapped from two columns, &quot;Surname&quot; and &quot;Family&quot;');
    const unmapped = await map(id, ['first_name', '', '']);
    expect(unmapped.status).toBe(422);
    expect(unmapped.text).toMatch(/Last Name is required and no column is mapped to it/);
    expect(await contacts('Twice')).toEqual([]);
    // The wizard did not move on: the import is still a draft.
    expect((await ui.request('GET', `/ui/Contacts/import/${id}/preview`)).location).toMatch(/\/map$/);
  });

  it('skips, updates or creates duplicates by the duplicate rule (name, e-mail, phone)', async () => {
    const first = await upload(Buffer.from('First Name,Last Name,Email,Title\nDora,Dupe,dora@example.com,Old\n'));
    await map(first, ['first_name', 'last_name', 'email1', 'title'], 'create');
    expect(await run(first)).toMatchObject({ created: 1 });
    // By e-mail (another name), by name, and one new person.
    const file = 'First Name,Last Name,Email,Title\nDorothy,Dupe-Renamed,dora@example.com,New\nDora,Dupe,,Newer\nEd,Dupe,ed@example.com,New\n';
    const skip = await upload(Buffer.from(file));
    await map(skip, ['first_name', 'last_name', 'email1', 'title'], 'skip');
    expect(await run(skip)).toMatchObject({ created: 1, skipped: 2, updated: 0 });
    const update = await upload(Buffer.from('First Name,Last Name,Title\nDora,Dupe,Updated\n'));
    await map(update, ['first_name', 'last_name', 'title'], 'update');
    expect(await run(update)).toMatchObject({ created: 0, updated: 1, skipped: 0 });
    expect((await contacts('Dupe')).map((c) => [c.first_name, c.title])).toEqual([['Dora', 'Updated'], ['Ed', 'New']]);
    const create = await upload(Buffer.from('First Name,Last Name\nDora,Dupe\n'));
    await map(create, ['first_name', 'last_name'], 'create');
    expect(await run(create)).toMatchObject({ created: 1 });
    expect((await contacts('Dupe')).filter((c) => c.first_name === 'Dora').length).toBe(2);
    // By mobile number only.
    const phone = await upload(Buffer.from('First Name,Last Name,Mobile\nFay,Phone,+15550002222\n'));
    await map(phone, ['first_name', 'last_name', 'phone_mobile'], 'create');
    await run(phone);
    const byPhone = await upload(Buffer.from('First Name,Last Name,Mobile\nFaye,Phone-Other,+15550002222\n'));
    await map(byPhone, ['first_name', 'last_name', 'phone_mobile'], 'skip');
    expect(await run(byPhone)).toMatchObject({ skipped: 1, created: 0 });
  });

  it('skips a person repeated far down the file (another batch) by name, e-mail and phone, and updates one in update mode', async () => {
    const filler = Array.from({ length: 620 }, (_, i) => `Filler${i},Batchmate,,`);
    const lines = ['First Name,Last Name,Email,Mobile', 'Gus,Repeat,gus@example.com,+15550003333', ...filler,
      'Gus,Repeat,,', 'Gustav,Other,GUS@example.com,', 'Gunnar,Phone,,+15550003333'];
    const skip = await upload(Buffer.from(`${lines.join('\n')}\n`));
    await map(skip, ['first_name', 'last_name', 'email1', 'phone_mobile'], 'skip');
    expect(await run(skip)).toMatchObject({ created: 621, skipped: 3 });
    expect(await contacts('Repeat')).toHaveLength(1);
    const update = await upload(Buffer.from(`First Name,Last Name,Title\n${filler.slice(0, 600).map((f) => `${f.split(',')[0]},Batchmate2,`).join('\n')}\nGus,Repeat,Twice\nGus,Repeat,Thrice\n`));
    await map(update, ['first_name', 'last_name', 'title'], 'update');
    expect(await run(update)).toMatchObject({ created: 600, updated: 1, skipped: 1 });
    expect((await contacts('Repeat')).map((c) => c.title)).toEqual(['Twice']);
  });

  it('writes a batch together: each record with its e-mail address, its before and after_save hooks and its event for plugins', async () => {
    const { hooks, context } = server.crm.engine;
    const saved: string[] = [];
    const published: string[] = [];
    const listener: (typeof context.outbox)[number] = async (_trx, event) => { if (event.event === 'after_save' && event.record.last_name === 'Together') published.push(`${String(event.record.first_name)} ${String(event.record.phone_mobile)}`); };
    context.outbox.push(listener);
    const removers = [() => context.outbox.splice(context.outbox.indexOf(listener), 1),
      hooks.register('Contacts', { event: 'before_save', order: 1, label: 'test title', handler: (bean) => { if (bean.last_name === 'Together') bean.title = `Hooked ${String(bean.first_name)}`; } }),
      hooks.register('Contacts', { event: 'after_save', order: 1, label: 'test after', handler: (bean) => { if (bean.last_name === 'Together') saved.push(`${String(bean.first_name)} ${String(bean.email1)}`); } }),
    ];
    try {
      const id = await upload(Buffer.from('First Name,Last Name,Email,Mobile\nKim,Together,kim@example.com,+15550006666\nLou,Together,LOU@example.com,+15550007777\n'));
      await map(id, PEOPLE, 'create');
      expect(await run(id)).toMatchObject({ state: 'done', created: 2, refused: 0 });
      expect(saved.sort()).toEqual(['Kim kim@example.com', 'Lou LOU@example.com']);
      const people = await contacts('Together');
      expect(people.map((c) => [c.first_name, c.title])).toEqual([['Kim', 'Hooked Kim'], ['Lou', 'Hooked Lou']]);
      const lou = await server.crm.engine.records.retrieve({ type: 'system' }, 'Contacts', people[1].id);
      expect(lou.email1).toBe('LOU@example.com');
      expect(published).toEqual(['Kim +15550006666', 'Lou +15550007777']);
      // The duplicate rule finds an address without regard to case.
      const again = await upload(Buffer.from('First Name,Last Name,Email\nLouis,Other-Name,lou@EXAMPLE.COM\n'));
      await map(again, ['first_name', 'last_name', 'email1'], 'skip');
      expect(await run(again)).toMatchObject({ skipped: 1, created: 0 });
    } finally {
      for (const remove of removers) remove();
    }
  });

  it('refuses a row the database refuses while writing (a unique index) and still writes the rest of its batch', async () => {
    const knex = server.crm.engine.db.knex;
    await knex.schema.alterTable('contacts', (t) => { t.unique(['phone_work'], { indexName: 'test_import_unique_phone_work' }); });
    try {
      const csv = 'First Name,Last Name,Email,Office Phone\nIda,Unique,ida@example.com,+15550003333\nIvo,Unique,ivo@example.com,+15550004444\nIris,Unique,iris@example.com,+15550003333\n';
      const id = await upload(Buffer.from(csv));
      await map(id, ['first_name', 'last_name', 'email1', 'phone_work'], 'create');
      expect(await run(id)).toMatchObject({ state: 'done', rows: 3, created: 2, refused: 1 });
      expect((await contacts('Unique')).map((c) => c.first_name)).toEqual(['Ida', 'Ivo']);
      const addresses = await knex('email_addresses as a').join('email_addr_bean_rel as r', 'r.email_address_id', 'a.id')
        .whereIn('a.email_address_caps', ['IDA@EXAMPLE.COM', 'IVO@EXAMPLE.COM', 'IRIS@EXAMPLE.COM']).orderBy('a.email_address').pluck('a.email_address');
      expect(addresses).toEqual(['ida@example.com', 'ivo@example.com']);
      const refused = await ui.request('GET', `/ui/Contacts/import/${id}/refused.csv`);
      expect(refused.text).toMatch(/Iris,Unique,iris@example\.com,\+15550003333,3,the database refused the Contacts record: .*(UNIQUE|Duplicate)/);
    } finally {
      await knex.schema.alterTable('contacts', (t) => { t.dropUnique(['phone_work'], 'test_import_unique_phone_work'); });
    }
  });

  it('undoes the last import: created records deleted, updated ones restored', async () => {
    const seed = await upload(Buffer.from('First Name,Last Name,Title\nGil,Undo,Before\n'));
    await map(seed, ['first_name', 'last_name', 'title'], 'create');
    await run(seed);
    const id = await upload(Buffer.from('First Name,Last Name,Title\nGil,Undo,After\nHal,Undo,New\n'));
    await map(id, ['first_name', 'last_name', 'title'], 'update');
    expect(await run(id)).toMatchObject({ created: 1, updated: 1 });
    // Only the last import of the module can be undone.
    const older = await ui.request('POST', `/ui/Contacts/import/${seed}/undo`, { csrf });
    expect(older.status).toBe(409);
    const undo = await ui.request('POST', `/ui/Contacts/import/${id}/undo`, { csrf });
    expect(undo.status).toBe(302);
    expect(decodeURIComponent(undo.location)).toContain('1 created records deleted, 1 updated records restored');
    expect((await contacts('Undo')).map((c) => [c.first_name, c.title])).toEqual([['Gil', 'Before']]);
    expect((await ui.request('POST', `/ui/Contacts/import/${id}/undo`, { csrf })).status).toBe(409);
  });

  it('cancels a queued import before it writes anything, and a running one between batches', async () => {
    const id = await upload(Buffer.from('First Name,Last Name\nIvy,Cancelled\n'));
    await map(id, PEOPLE.slice(0, 2));
    expect((await ui.request('POST', `/ui/Contacts/import/${id}/run`, { csrf })).status).toBe(302);
    expect((await ui.request('POST', `/ui/Contacts/import/${id}/cancel`, { csrf })).status).toBe(302);
    await server.crm.engine.jobs.runOnce(5);
    expect(JSON.parse((await ui.request('GET', `/ui/Contacts/import/${id}/status`)).text)).toMatchObject({ state: 'cancelled', created: 0 });
    expect(await contacts('Cancelled')).toEqual([]);

    const rows = Array.from({ length: 1200 }, (_, i) => `P${i},Cancel-Running`).join('\n');
    const big = await upload(Buffer.from(`First Name,Last Name\n${rows}\n`));
    await map(big, ['first_name', 'last_name'], 'create');
    const { RecordImports } = await import('../../core/record-import/record-imports');
    const imports = new RecordImports(server.crm.engine);
    const summary = await imports.run({ type: 'system', id: '1' }, big, () => void imports.store.requestCancel(big));
    expect(summary.state).toBe('cancelled');
    expect(summary.created).toBeLessThan(1200);
    expect((await contacts('Cancel-Running')).length).toBe(summary.created);
  });

  it('adds everyone imported to a chosen target list and records their SMS consent with source import', async () => {
    const list = await server.crm.engine.records.create({ type: 'system', id: '1' }, 'ProspectLists', { name: 'Imported people', list_type: 'default' });
    const id = await upload(Buffer.from('First Name,Last Name,Mobile\nJo,Listed,+1 415 555 0133\n'));
    const page = await ui.request('GET', `/ui/Contacts/import/${id}/map`);
    expect(page.text).toContain(`<option value="${list.id}">Imported people</option>`);
    const res = await ui.request('POST', `/ui/Contacts/import/${id}/map`, { csrf, duplicates: 'skip', column_0: 'first_name', column_1: 'last_name', column_2: 'phone_mobile', target_list: list.id, sms_consent: '1' });
    expect(res.status).toBe(302);
    expect(await run(id)).toMatchObject({ created: 1 });
    const [jo] = await contacts('Listed');
    const { knex } = server.crm.engine.db;
    expect(await knex('prospect_lists_prospects').where({ prospect_list_id: list.id, related_id: jo.id, related_type: 'Contacts', deleted: 0 }).count({ n: '*' }).first()).toMatchObject({ n: 1 });
    expect(await knex('sms_consent').where({ phone_e164: '+14155550133' }).first()).toMatchObject({ state: 'opted_in', source: 'import' });
  });

  it('refuses the import pages to a user without the import right', async () => {
    await loginWithRole(server, { name: 'noimport', password: 'noimport-pass' }, 'No import', [['Contacts', 'import', 'none']]);
    const other = session(server.url);
    const otherCsrf = await other.login('noimport', 'noimport-pass');
    expect((await other.request('GET', '/ui/Contacts/import')).status).toBe(403);
    const res = await other.request('POST', '/ui/Contacts/import', { csrf: otherCsrf, text: 'First Name,Last Name\nNo,Right\n' });
    expect(res.status).toBe(403);
    expect(await contacts('Right')).toEqual([]);
  });

  it('refuses a broken file with a clear message', async () => {
    const res = await ui.request('POST', '/ui/Contacts/import', { csrf, text: 'First Name,Last Name\n"Unclosed,Quote\n' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('not valid CSV');
  });
});
