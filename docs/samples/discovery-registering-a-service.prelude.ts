// provides: logger
import type { Logger } from '@clone/service-errors';

/**
 * The guide's "Registering a Service" sample, adapted to this package: its discovery client
 * becomes a ServiceRegistry (in memory here), and the registration gains the fields ours
 * requires (serviceId, host, protocol). The logger collects lines so teardown can check that
 * nothing went wrong.
 */
export default async function setup() {
  const lines: string[] = [];
  const record = (level: string) => (message: string) => lines.push(`${level} ${message}`);
  const logger: Logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
  return {
    logger,
    teardown: () => {
      const bad = lines.filter((l) => l.startsWith('warn') || l.startsWith('error'));
      if (bad.length > 0) throw new Error(`unexpected log lines: ${bad.join('; ')}`);
    },
  };
}
