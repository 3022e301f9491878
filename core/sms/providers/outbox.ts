import crypto from 'node:crypto';
import type { OutgoingMessage, ProviderReceipt, SmsProvider } from './provider';

/** The embedded default: nothing leaves the machine; each message is kept and marked sent. */
export class OutboxProvider implements SmsProvider {
  readonly name = 'outbox' as const;

  async send(message: OutgoingMessage): Promise<ProviderReceipt> {
    return { sid: `OB${crypto.randomBytes(16).toString('hex')}`, status: 'sent', providerStatus: 'sent', from: message.from ?? 'outbox' };
  }

  /** Nothing was ever sent anywhere, so sending again cannot duplicate anything. */
  async findSent(): Promise<ProviderReceipt | null> {
    return null;
  }

  senderKey(message: Pick<OutgoingMessage, 'from' | 'messagingServiceSid'>): string {
    return message.from ?? 'outbox';
  }
}
