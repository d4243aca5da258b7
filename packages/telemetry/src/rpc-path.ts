/**
 * `rpc.service` and `rpc.method` of a gRPC path (`/clone.asr.ASRService/Transcribe`), as the
 * RPC semantic conventions name them. Cached per path: the same few paths come on every call.
 */
export function rpcPathParts(path: string): { service: string; method: string; name: string } {
  let parts = cache.get(path);
  if (parts === undefined) {
    const slash = path.lastIndexOf('/');
    const service = path.slice(path.startsWith('/') ? 1 : 0, slash < 0 ? undefined : slash);
    const method = slash < 0 ? path : path.slice(slash + 1);
    parts = { service, method, name: `${service}/${method}` };
    if (cache.size < 10_000) cache.set(path, parts);
  }
  return parts;
}

const cache = new Map<string, { service: string; method: string; name: string }>();
