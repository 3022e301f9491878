import { SYSTEM } from '../../core/records/actor';
import { nextSendingTime, recipientZone } from '../../core/sms/sending-hours';
import { fixedClock } from '../helpers/engine';
import { describeSms } from '../helpers/sms';

// 05:30 UTC on 2 December is 21:30 in Los Angeles and 06:30 in Berlin.
const clock = fixedClock('2026-12-02T05:30:00Z');
const hours = { start: 8 * 60, end: 21 * 60, defaultZone: 'America/Los_Angeles' };

describe('sending hours in the recipient\'s zone', () => {
  it('finds the zone from the number\'s country, preferring the default zone where it fits', () => {
    expect(recipientZone('+14155550601', 'America/Los_Angeles')).toBe('America/Los_Angeles');
    expect(recipientZone('+4915112345678', 'America/Los_Angeles')).toBe('Europe/Berlin');
    expect(recipientZone('+442071234567', 'America/Los_Angeles')).toBe('Europe/London');
  });
  it('prefers the country of the record\'s address, by code or name', () => {
    expect(recipientZone('+14155550601', 'America/Los_Angeles', 'Germany')).toBe('Europe/Berlin');
    expect(recipientZone('+14155550601', 'America/Los_Angeles', 'gb')).toBe('Europe/London');
    expect(recipientZone('+4915112345678', 'America/Los_Angeles', 'USA')).toBe('America/Los_Angeles');
    expect(recipientZone('+4915112345678', 'America/Los_Angeles', 'Atlantis')).toBe('Europe/Berlin');
  });
  it('says when the window next opens', () => {
    expect(nextSendingTime(hours, '+14155550601', new Date('2026-12-02T05:30:00Z'))).toEqual({ at: new Date('2026-12-02T16:00:00Z'), zone: 'America/Los_Angeles' });
    expect(nextSendingTime(hours, '+4915112345678', new Date('2026-12-02T05:30:00Z'))).toEqual({ at: new Date('2026-12-02T07:00:00Z'), zone: 'Europe/Berlin' });
    expect(nextSendingTime(hours, '+4915112345678', new Date('2026-12-02T07:00:00Z'))).toBeUndefined();
  });
});

describeSms('campaign messages wait for sending hours 08:00-21:00 in each recipient\'s zone', (get) => {
  test('launched at 21:30 in Los Angeles, a message waits until 08:00 there; a Berlin number goes at 08:00 Berlin; a person\'s own send is not held', async () => {
    const { crm } = get();
    clock.set('2026-12-02T05:30:00Z'); // the clock is shared by the runs on each database
    const la = (await crm.sms!.send(SYSTEM, { to: '+14155550601', body: 'LA offer' }, 'campaign')).records[0].id;
    const berlin = (await crm.sms!.send(SYSTEM, { to: '+4915112345678', body: 'Berlin offer' }, 'workflow')).records[0].id;
    const personal = (await crm.sms!.send(SYSTEM, { to: '+14155550602', body: 'Your order shipped' }, 'record')).records[0].id;
    const status = async (id: string) => (await crm.engine.db.knex('sms').where('id', id).first()).status;
    await get().drain();
    expect([await status(la), await status(berlin), await status(personal)]).toEqual(['queued', 'queued', 'accepted']);
    clock.set('2026-12-02T07:00:30Z'); // 08:00 in Berlin, 23:00 in Los Angeles
    await get().drain();
    expect([await status(la), await status(berlin)]).toEqual(['queued', 'accepted']);
    clock.set('2026-12-02T16:00:30Z'); // 08:00 in Los Angeles
    await get().drain();
    expect(await status(la)).toBe('accepted');
    expect(get().fake.sentTo('+14155550601').map((m) => m.body)).toEqual(['LA offer']);
  });

  test('a recipient record with an address abroad waits for that country\'s hours', async () => {
    const { crm } = get();
    clock.set('2026-12-02T05:30:00Z'); // 06:30 in Berlin, 21:30 in Los Angeles
    const contact = await crm.records.create(SYSTEM, 'Contacts', { last_name: 'Abroad', phone_mobile: '+14155550603', primary_address_country: 'Germany' });
    const id = (await crm.sms!.send(SYSTEM, { parent_type: 'Contacts', parent_id: contact.id, body: 'From the US, to Berlin' }, 'campaign')).records[0].id;
    const status = async () => (await crm.engine.db.knex('sms').where('id', id).first()).status;
    await get().drain();
    expect(await status()).toBe('queued');
    clock.set('2026-12-02T07:00:30Z'); // 08:00 in Berlin, still night in Los Angeles
    await get().drain();
    expect(await status()).toBe('accepted');
  });
}, { clock }, { sendingHours: hours });
