import { z } from 'zod';

/** A network endpoint; `host` may be an IPv6 literal without brackets. */
export interface Endpoint {
  host: string;
  port: number;
}

const PORT_TEXT = 'must be an integer between 1 and 65535';

/** A TCP port: an integer in 1–65535. */
export const portSchema = z
  .number({ error: PORT_TEXT })
  .int({ error: PORT_TEXT })
  .min(1, { error: PORT_TEXT })
  .max(65535, { error: PORT_TEXT });

const HOST_TEXT = 'must be a non-empty host name or address';

/** `{ host, port }`, the one endpoint shape every package validates with. */
export const endpointSchema = z.strictObject({
  host: z.string({ error: HOST_TEXT }).min(1, { error: HOST_TEXT }),
  port: portSchema,
});

/**
 * Splits `host:port` or `[v6]:port` into an endpoint. Returns a reason instead of throwing, so
 * each caller reports it under its own field name; `undefined` means "not of that form at all".
 */
export function parseEndpointString(text: string): Endpoint | { error: string } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:/[\]]+)):([^:/]*)$/.exec(text);
  if (match === null) return undefined;
  const host = (match[1] ?? match[2])!;
  const portText = match[3]!;
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (!(Number.isInteger(port) && port >= 1 && port <= 65535))
    return { error: `port ${PORT_TEXT}, got ${JSON.stringify(portText)}` };
  return { host, port };
}

/** `host:port`, with IPv6 literals bracketed. */
export function formatEndpoint({ host, port }: Endpoint): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
