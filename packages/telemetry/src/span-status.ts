import { type SpanStatus, SpanStatusCode } from '@opentelemetry/api';

/**
 * The status of a span that succeeded: one frozen object for every span (the SDK copies what
 * it keeps), so ending a span that went well allocates nothing of ours.
 */
export const OK_STATUS: SpanStatus = Object.freeze({ code: SpanStatusCode.OK });
