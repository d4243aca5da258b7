import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import type { Dispatcher } from 'undici';

/** What the response body becomes: parsed JSON (default), text, bytes, or the stream itself. */
export type ResponseType = 'json' | 'text' | 'buffer' | 'stream';

/** Response headers as undici hands them over: lower-case names, a repeated one as an array. */
export type ResponseHeaders = Dispatcher.ResponseData['headers'];

/** The first value of a response header. */
export function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The INTERNAL_ERROR of a response body past `limit` bytes (`size` when it was declared). */
export function tooLarge(service: string, limit: number, size: number | undefined): ServiceError {
  return new ServiceError(
    ServiceErrorCode.INTERNAL_ERROR,
    `Response from ${service} is larger than maxResponseBytes (${limit})`,
    service,
    { retryable: false, metadata: { maxResponseBytes: limit, ...(size === undefined ? {} : { size }) } },
  );
}

/** The received chunks of a body as one buffer (`size` bytes in all). */
export function bodyBytes(chunks: readonly Buffer[], size: number): Buffer {
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

/** The received chunks of a body as UTF-8 text, without a byte order mark (as undici's `text()`). */
export function bodyText(chunks: readonly Buffer[], size: number): string {
  if (size === 0) return '';
  const bytes = bodyBytes(chunks, size);
  const bom = bytes.length > 2 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  return bytes.toString('utf8', bom ? 3 : 0);
}

/** Whether a content type holds JSON (`application/json`, `application/problem+json`, …). */
export function isJsonType(contentType: string | undefined): boolean {
  return contentType !== undefined && /[/+]json\b/i.test(contentType);
}

/**
 * A successful response's whole body as `type` asks (`stream` is handed over before any byte is
 * read, see Exchange). `json`: parsed when the body is JSON or untyped, text when the server
 * said it is something else, `undefined` when empty (204); a body that does not parse fails
 * with INTERNAL_ERROR, its text in `metadata.body`. `buffer`: a copy of its own, so the
 * socket's read buffers are not kept alive by the caller.
 */
export function decodeBody(
  chunks: readonly Buffer[],
  size: number,
  headers: ResponseHeaders,
  type: Exclude<ResponseType, 'stream'>,
  service: string,
): unknown {
  if (type === 'buffer') return Buffer.concat(chunks, size);
  const text = bodyText(chunks, size);
  return type === 'text' ? text : parseJson(text, headers, service);
}

/**
 * A `json` answer's text: parsed when the body is JSON or untyped, the text itself when the
 * server said it is something else, `undefined` when empty; a body that does not parse fails
 * with INTERNAL_ERROR, its start in `metadata.body`.
 */
export function parseJson(text: string, headers: ResponseHeaders, service: string): unknown {
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
