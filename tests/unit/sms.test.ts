import { smsConfigFrom } from '../../core/sms/config';
import { classifyError } from '../../core/sms/errors';
import { keywordIntent } from '../../core/sms/keywords';
import { normalisePhone } from '../../core/sms/phone';
import { bodyProblem, describeBody, encodingAndSegments } from '../../core/sms/segments';
import { fromTwilioStatus, movesForward } from '../../core/sms/status';
import { compileSmsTemplate, TemplateProblem } from '../../core/sms/templates';

describe('segments and encoding', () => {
  test.each([
    ['a'.repeat(160), 'GSM-7', 1, 0],
    ['a'.repeat(161), 'GSM-7', 2, 145],
    ['a'.repeat(306), 'GSM-7', 2, 0],
    ['a'.repeat(307), 'GSM-7', 3, 152],
    ['['.repeat(80), 'GSM-7', 1, 0],
    ['['.repeat(81), 'GSM-7', 2, 144],
    ['€' + 'a'.repeat(159), 'GSM-7', 2, 145],
    ['ж'.repeat(70), 'UCS-2', 1, 0],
    ['ж'.repeat(71), 'UCS-2', 2, 63],
    ['😀'.repeat(35), 'UCS-2', 1, 0],
    ['😀'.repeat(36), 'UCS-2', 2, 62],
  ])('%#: %s…', (body, encoding, segments, left) => {
    expect(describeBody(body)).toMatchObject({ encoding, segments, charactersLeft: left });
  });

  test('the quick count agrees with the full description on every kind of text', () => {
    const bodies = [
      'Hi Ana, your order ships today. Reply STOP to opt out.', 'a'.repeat(159), 'a'.repeat(160), 'a'.repeat(161), '['.repeat(80), '['.repeat(81),
      `${'a'.repeat(158)}~`, `${'a'.repeat(159)}~`, 'x`y', 'line one\nline two\r\n', 'It’s ready', '€5 off', 'Olá', 'ж'.repeat(70), '😀', '{}|\\^~[]', ' ',
    ];
    for (const body of bodies) {
      const { encoding, segments } = describeBody(body);
      expect({ body, ...encodingAndSegments(body) }).toEqual({ body, encoding, segments });
    }
  });

  test('one curly apostrophe turns the whole message into UCS-2 and is named', () => {
    expect(describeBody('It’s ready')).toMatchObject({ encoding: 'UCS-2', segments: 1, unicodeCharacters: ['’'] });
    expect(describeBody("It's ready")).toMatchObject({ encoding: 'GSM-7', unicodeCharacters: [] });
  });

  test('empty and over-long bodies are refused', () => {
    expect(bodyProblem('')).toBe('is empty');
    expect(bodyProblem('   ')).toBe('is empty');
    expect(bodyProblem('x'.repeat(1600))).toBeUndefined();
    expect(bodyProblem('x'.repeat(1601))).toMatch(/1601 characters/);
    expect(bodyProblem('😀'.repeat(1600))).toBeUndefined();
  });
});

describe('E.164 normalisation', () => {
  test.each([
    ['(415) 555-0100', 'US', '+14155550100'],
    ['0151 12345678', 'DE', '+4915112345678'],
    ['+44 20 7946 0018', 'US', '+442079460018'],
    ['020 7946 0018', 'GB', '+442079460018'],
  ])('%s in %s → %s', (raw, region, e164) => {
    expect(normalisePhone(raw, region)).toEqual({ ok: true, e164 });
  });

  test('invalid numbers are refused with the reason', () => {
    expect(normalisePhone('12345', 'US')).toMatchObject({ ok: false, reason: expect.stringMatching(/not a valid number/) });
    expect(normalisePhone('call me', 'US')).toMatchObject({ ok: false });
    expect(normalisePhone('', 'US')).toEqual({ ok: false, reason: 'no phone number' });
    expect(normalisePhone('1'.repeat(50), 'US')).toMatchObject({ ok: false, reason: expect.stringMatching(/longer than 40/) });
  });
});

describe('statuses move forward only', () => {
  test('progress, late and out-of-order callbacks', () => {
    expect(movesForward('queued', 'sending')).toBe(true);
    expect(movesForward('accepted', 'sent')).toBe(true);
    expect(movesForward('sent', 'delivered')).toBe(true);
    expect(movesForward('delivered', 'sent')).toBe(false);
    expect(movesForward('delivered', 'delivered')).toBe(false);
    expect(movesForward('delivered', 'undelivered')).toBe(true); // a failing segment wins
    expect(movesForward('undelivered', 'delivered')).toBe(false);
    expect(movesForward('unknown', 'delivered')).toBe(true);
  });

  test("Twilio's statuses map onto ours", () => {
    expect(['queued', 'accepted', 'scheduled', 'sending'].map(fromTwilioStatus)).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
    expect(fromTwilioStatus('read')).toBe('delivered');
    expect(fromTwilioStatus('bogus')).toBeUndefined();
  });
});

describe('keywords', () => {
  test.each([['STOP', 'opt_out'], [' stop ', 'opt_out'], ['StopAll', 'opt_out'], ['unsubscribe', 'opt_out'], ['CANCEL', 'opt_out'], ['end', 'opt_out'], ['Quit!', 'opt_out'], ['START', 'opt_in'], ['yes', 'opt_in'], ['UNSTOP', 'opt_in'], ['HELP', 'help'], ['info', 'help']])('%s → %s', (body, intent) => {
    expect(keywordIntent(body)).toBe(intent);
  });
  test('only the whole message counts; OptOutType wins', () => {
    expect(keywordIntent('STOP PLEASE')).toBeUndefined();
    expect(keywordIntent('please stop', 'STOP')).toBe('opt_out');
    expect(keywordIntent('STOP', 'START')).toBe('opt_in');
  });
});

describe('error classes come from the data table', () => {
  test.each([['21211', 'permanent'], ['21610', 'opt_out'], ['21614', 'permanent'], ['21611', 'backpressure'], ['20429', 'backpressure'], ['30003', 'transient'], ['30007', 'permanent'], ['20003', 'auth']])('%s is %s', (code, cls) => {
    expect(classifyError(code).class).toBe(cls);
  });
  test('unknown codes fall back on the HTTP status', () => {
    expect(classifyError(undefined, 429).class).toBe('backpressure');
    expect(classifyError('99999', 503).class).toBe('transient');
    expect(classifyError('99999', 400).class).toBe('permanent');
  });
});

describe('templates', () => {
  test('syntax errors are refused; SMS text is not HTML-escaped', () => {
    expect(() => compileSmsTemplate('Hi {{#if}}')).toThrow(TemplateProblem);
    expect(compileSmsTemplate('{{a}} & {{b}}').render({ a: 'R&D', b: '<ok>' })).toBe('R&D & <ok>');
  });

  test('{{default field "fallback"}} fills an empty merge field', () => {
    const hi = compileSmsTemplate('Hi {{default first_name "there"}}!');
    expect(hi.render({ first_name: 'Ada' })).toBe('Hi Ada!');
    for (const empty of ['', '  ', null, undefined]) expect(hi.render({ first_name: empty })).toBe('Hi there!');
    expect(hi.paths).toContainEqual(['first_name']);
  });
});

describe('configuration', () => {
  test('outbox unless Twilio is configured; bad values are named', () => {
    expect(smsConfigFrom({}, {}).provider).toBe('outbox');
    expect(smsConfigFrom({}, { TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`, TWILIO_AUTH_TOKEN: 't', TWILIO_FROM: '+15005550006' }).provider).toBe('twilio');
    expect(() => smsConfigFrom({}, { SMS_PROVIDER: 'twilio' })).toThrow(/TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID/);
    expect(() => smsConfigFrom({}, { SMS_PROVIDER: 'pigeon' })).toThrow(/'twilio' or 'outbox'/);
    expect(() => smsConfigFrom({}, { SMS_RATE: 'fast' })).toThrow(/SMS_RATE/);
    expect(() => smsConfigFrom({}, { SMS_DEFAULT_REGION: 'USA' })).toThrow(/SMS_DEFAULT_REGION/);
    expect(smsConfigFrom({}, { SMS_RATE: '50', SMS_DEFAULT_REGION: 'de' })).toMatchObject({ rate: 50, defaultRegion: 'DE' });
  });
});
