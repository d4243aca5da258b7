import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import type { Dispatcher } from 'undici';

/** What the response body becomes: parsed JSON (default), text, bytes, or the stream itself. */
export type ResponseType = 'json' | 'text' | 'buffer' | 'stream';

type Body = Dispatcher.ResponseData['body'];
type Headers = Dispatcher.ResponseData['headers'];

/** The first value of a response header. */
export function headerValue(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function tooLarge(service: string, limit: number, size: number | undefined): ServiceError {
  return new ServiceError(
    ServiceErrorCode.INTERNAL_ERROR,
    `Response from ${service} is larger than maxResponseBytes (${limit})`,
    service,
    { retryable: false, metadata: { maxResponseBytes: limit, ...(size === undefined ? {} : { size }) } },
  );
}

/** Destroys a body not to be read (closing its connection) and returns `error` to throw. */
function discard(body: Body, error: ServiceError): ServiceError {
  // The caller hears the error from our throw; the stream's own 'error' event has no one to tell.
  body.on('error', () => {});
  body.destroy(error);
  return error;
}

/**
 * The whole body, as bytes or text, refused with INTERNAL_ERROR once it passes `limit` bytes: a
 * declared `content-length` over the limit is refused before a byte is read, and a chunked body
 * as soon as it grows past it. Either way the stream is destroyed, which closes that connection.
 */
export function readBody(
  body: Body,
  headers: Headers,
  limit: number,
  service: string,
  as: 'text',
): Promise<string>;
export function readBody(
  body: Body,
  headers: Headers,
  limit: number,
  service: string,
  as: 'buffer',
): Promise<Buffer>;
export async function readBody(
  body: Body,
  headers: Headers,
  limit: number,
  service: string,
  as: 'text' | 'buffer',
): Promise<string | Buffer> {
  const declared = headerValue(headers, 'content-length');
  if (declared !== undefined) {
    const size = Number(declared);
    if (size > limit) throw discard(body, tooLarge(service, limit, size));
    // Within the limit as declared: undici reads it in one go (and fails on a longer body).
    return as === 'text' ? body.text() : Buffer.from(await body.arrayBuffer());
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) throw discard(body, tooLarge(service, limit, undefined));
    chunks.push(chunk as Buffer);
  }
  const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  return as === 'text' ? bytes.toString('utf8') : bytes;
}

/** Whether a content type holds JSON (`application/json`, `application/problem+json`, …). */
export function isJsonType(contentType: string | undefined): boolean {
  return contentType !== undefined && /[/+]json\b/i.test(contentType);
}

/**
 * A successful response's body as `type` asks. `json`: parsed when the body is JSON or untyped,
 * text when the server said it is something else, `undefined` when empty (204); a body that
 * does not parse fails with INTERNAL_ERROR, its text in `metadata.body`.
 */
export async function decodeBody(
  body: Body,
  headers: Headers,
  type: ResponseType,
  limit: number,
  service: string,
): Promise<unknown> {
  if (type === 'stream') return body;
  if (type === 'buffer') return readBody(body, headers, limit, service, 'buffer');
  const text = await readBody(body, headers, limit, service, 'text');
  return type === 'text' ? text : parseJson(text, headers, service);
}

/**
 * A `json` answer's text: parsed when the body is JSON or untyped, the text itself when the
 * server said it is something else, `undefined` when empty; a body that does not parse fails
 * with INTERNAL_ERROR, its start in `metadata.body`.
 */
export function parseJson(text: string, headers: Headers, service: string): unknown {
  if (text.length === 0) return undefined;
  const contentType = headerValue(headers, 'content-type');
  if (contentType !== undefined && !isJsonType(contentType)) return text;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ServiceError(
      ServiceErrorCode.INTERNAL_ERROR,
      `Response from ${service} is not valid JSON`,
      service,
      {
        retryable: false,
        cause: error,
        metadata: { body: text.slice(0, 1024) },
      },
    );
  }
}
