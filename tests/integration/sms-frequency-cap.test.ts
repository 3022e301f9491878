import { SYSTEM } from '../../core/records/actor';
import { describeSms } from '../helpers/sms';

const NUMBER = '+14155550501';

describeSms('SMS frequency cap (1 campaign or workflow message per number per 7 days)', (get) => {
  const sms = () => get().crm.sms!;
  const row = (id: string) => get().crm.engine.db.knex('sms').where('id', id).first();

  test('the second capped message is refused at send time with the reason; a person\'s own send is not capped', async () => {
    const first = await sms().send(SYSTEM, { to: NUMBER, body: 'Campaign news' }, 'campaign');
    await get().drain();
    expect(await row(first.records[0].id)).toMatchObject({ status: 'accepted' });
    const second = await sms().send(SYSTEM, { to: NUMBER, body: 'Workflow ping' }, 'workflow');
    await get().drain();
    expect(await row(second.records[0].id)).toMatchObject({ status: 'failed', error_code: 'frequency_cap', error_message: `frequency cap: ${NUMBER} already had 1 campaign or workflow message in the last 7 days` });
    const personal = await sms().send(SYSTEM, { to: NUMBER, body: 'Your appointment is at 3pm' }, 'record');
    await get().drain();
    expect(await row(personal.records[0].id)).toMatchObject({ status: 'accepted' });
    expect(get().fake.sentTo(NUMBER).map((m) => m.body)).toEqual(['Campaign news', 'Your appointment is at 3pm']);
  });

  test('parallel senders keep the cap exactly: of eight messages to a new number dispatched at once, one goes out', async () => {
    const to = '+14155550502';
    const queued = await Promise.all(Array.from({ length: 8 }, (_, i) => sms().send(SYSTEM, { to, body: `Offer ${i}` }, i % 2 ? 'workflow' : 'campaign')));
    const ids = queued.map((q) => q.records[0].id);
    await Promise.all(ids.map((id) => sms().dispatcher.run({ id })));
    const rows = await get().crm.engine.db.knex('sms').whereIn('id', ids);
    expect(rows.filter((r: { status: string }) => r.status === 'accepted')).toHaveLength(1);
    expect(rows.filter((r: { error_code: string }) => r.error_code === 'frequency_cap')).toHaveLength(7);
    expect(get().fake.sentTo(to)).toHaveLength(1);
  });
}, {}, { frequencyCap: { messages: 1, days: 7 } });
