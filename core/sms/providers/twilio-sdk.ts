import type TwilioSdk from 'twilio';

/**
 * twilio-node, loaded when the first Twilio message or webhook needs it rather than at start:
 * requiring it takes about 140 ms, most of a cold start when SMS is not used right away.
 */
export function twilioSdk(): typeof TwilioSdk {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require('twilio') as typeof TwilioSdk & { default?: typeof TwilioSdk };
  return sdk.default ?? sdk;
}
