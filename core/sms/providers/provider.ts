/** One outbound message as the dispatcher hands it to a provider. */
export interface OutgoingMessage {
  to: string;
  from?: string;
  messagingServiceSid?: string;
  body: string;
  /** Where the provider should post status changes (absent without PUBLIC_URL). */
  statusCallback?: string;
  /** 1 for the first provider call of this message. */
  attempt: number;
}

/** What the provider said about a message it holds. */
export interface ProviderReceipt {
  sid: string;
  /** Already mapped to Cane's sms_status_dom. */
  status: string;
  providerStatus: string;
  from?: string;
  price?: number;
  priceUnit?: string;
  errorCode?: string;
  errorMessage?: string;
}

/**
 * `rejected`: the provider answered and did not create the message.
 * `unknown_outcome`: the request may or may not have created it (network error, timeout, 5xx,
 * an answer we could not read) — the dispatcher must ask before sending again.
 */
export class ProviderError extends Error {
  constructor(readonly kind: 'rejected' | 'unknown_outcome', message: string, readonly code?: string, readonly httpStatus?: number) {
    super(message);
  }
}

export interface SmsProvider {
  readonly name: 'twilio' | 'outbox';
  send(message: OutgoingMessage): Promise<ProviderReceipt>;
  /** The message to `to` with this body created at or after `after`, if the provider has it. */
  findSent(query: { to: string; from?: string; body: string; after: Date }): Promise<ProviderReceipt | null>;
  /** The throttling key: throughput is counted per sender. */
  senderKey(message: Pick<OutgoingMessage, 'from' | 'messagingServiceSid'>): string;
}
