import type { Readable } from 'node:stream';

/** A request body as undici sends it, with the content type it implies and whether it can be sent twice. */
export interface EncodedBody {
  body: string | Uint8Array | Readable | AsyncIterable<Uint8Array> | undefined;
  contentType: string | undefined;
  /** False for a stream: once read, it cannot be sent again, so the request is never retried. */
  replayable: boolean;
}

const NO_BODY: EncodedBody = { body: undefined, contentType: undefined, replayable: true };

function isStream(value: object): value is Readable | AsyncIterable<Uint8Array> {
  return typeof (value as Readable).pipe === 'function' || Symbol.asyncIterator in value;
}

/**
 * Encodes what a caller passed as the body: bytes as `application/octet-stream`, a string as
 * `text/plain`, a stream or async iterable streamed as is (then not replayable), anything else
 * as JSON. `undefined` sends no body.
 */
export function encodeBody(value: unknown): EncodedBody {
  if (value === undefined) return NO_BODY;
  if (typeof value === 'string')
    return { body: value, contentType: 'text/plain; charset=utf-8', replayable: true };
  if (value instanceof Uint8Array)
    return { body: value, contentType: 'application/octet-stream', replayable: true };
  if (value !== null && typeof value === 'object' && isStream(value)) {
    return { body: value, contentType: 'application/octet-stream', replayable: false };
  }
  return { body: JSON.stringify(value), contentType: 'application/json', replayable: true };
}
