/**
 * The one boundary to user code this package calls (clock, `jti` source, logger). A throw or a
 * nonsense value becomes a ServiceError with the original as `cause`, so no caller (and no
 * gRPC interceptor) ever sees a raw throw; a logger that throws is ignored, because a log line
 * must never change whether a call is accepted.
 */
import { randomId } from '@clone/internal';
import type { Clock, Logger } from '@clone/service-errors';
import { callbackFailed } from './errors';

/** Milliseconds since the epoch from `clock`, or a ServiceError when the clock fails. */
export function readClock(clock: Clock): number {
  let now: unknown;
  try {
    now = clock.now();
  } catch (error) {
    throw callbackFailed('clock.now()', 'threw', error);
  }
  if (typeof now !== 'number' || !Number.isFinite(now)) {
    throw callbackFailed('clock.now()', 'did not return a finite number of milliseconds');
  }
  return now;
}

/** A fresh `jti` from `source` (default a random UUID), or a ServiceError when it fails. */
export function nextTokenId(source: (() => string) | undefined): string {
  let id: unknown;
  try {
    id = randomId(source);
  } catch (error) {
    throw callbackFailed('tokenIdSource()', 'threw', error);
  }
  if (typeof id !== 'string' || id === '') {
    throw callbackFailed('tokenIdSource()', 'did not return a non-empty string');
  }
  return id;
}

/** Logs through `logger`, ignoring a logger that throws. */
export function safeLog(
  logger: Logger,
  level: keyof Logger,
  message: string,
  fields?: Record<string, unknown>,
): void {
  try {
    logger[level](message, fields);
  } catch {
    // Deliberately ignored: see the note at the top of this file.
  }
}
