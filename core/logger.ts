import pino from 'pino';
import type { Logger } from './records/context';

export function createLogger(level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { app: 'cane' } });
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
