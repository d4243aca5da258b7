import { type Attributes, SpanKind, type SpanOptions } from '@opentelemetry/api';
import { AttributeKeys as A } from './metric-names';

/** What a span of one gRPC method is named and carries. */
export interface RpcPath {
  readonly service: string;
  readonly method: string;
  /** `<service>/<method>`, the span name the RPC semantic conventions give. */
  readonly name: string;
  /** `rpc.system`, `rpc.service`, `rpc.method`: one frozen set per path (the SDK copies it). */
  readonly attributes: Attributes;
  /** The options of a CLIENT span of this path, and of a SERVER one: made once, never per call. */
  readonly clientSpan: SpanOptions;
  readonly serverSpan: SpanOptions;
}

/**
 * `rpc.service` and `rpc.method` of a gRPC path (`/clone.asr.ASRService/Transcribe`), as the
 * RPC semantic conventions name them. Cached per path: the same few paths come on every call,
 * so a span's name and attributes are never built per call.
 */
export function rpcPathParts(path: string): RpcPath {
  let parts = cache.get(path);
  if (parts === undefined) {
    const slash = path.lastIndexOf('/');
    const service = path.slice(path.startsWith('/') ? 1 : 0, slash < 0 ? undefined : slash);
    const method = slash < 0 ? path : path.slice(slash + 1);
    const attributes = Object.freeze({
      [A.rpcSystem]: 'grpc',
      [A.rpcService]: service,
      [A.rpcMethod]: method,
    });
    parts = {
      service,
      method,
      name: `${service}/${method}`,
      attributes,
      clientSpan: Object.freeze({ kind: SpanKind.CLIENT, attributes }),
      serverSpan: Object.freeze({ kind: SpanKind.SERVER, attributes }),
    };
    if (cache.size < 10_000) cache.set(path, parts);
  }
  return parts;
}

const cache = new Map<string, RpcPath>();
