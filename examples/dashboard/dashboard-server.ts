/**
 * The live resilience dashboard: an HTTP server with one page (`/`), a server-sent events
 * stream of snapshots (`/events`) and the Prometheus text of every @clone metric (`/metrics`).
 *
 * Metrics go through one pipeline: the @clone packages record through the OpenTelemetry API
 * (`instrument*` of @clone/telemetry), an SDK MeterProvider aggregates, and the OpenTelemetry
 * Prometheus exporter (0.223, the last line for Node 20) is its reader: it serves `/metrics`,
 * and its `collect()` feeds the tiles. prom-client would have needed the same numbers recorded a
 * second time, in its own registry.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AuthEvents,
  type CommunicationSource,
  type EventBusSource,
  type EventSource,
  instrumentCommunication,
  instrumentEventBus,
  instrumentSagaOrchestrator,
  instrumentServiceAuth,
  instrumentServiceRegistry,
  type RegistrySource,
  type SagaEvents,
} from '@clone/telemetry';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { PAGE } from './page';
import { type DashboardSnapshot, SnapshotBuilder } from './snapshot';

/** What the dashboard shows. Only `comm` is required. */
export interface DashboardOptions {
  /** The `ServiceCommunicationManager` whose callees get a tile each. */
  comm: CommunicationSource;
  /** Its registry: instance health in `/metrics`. */
  registry?: RegistrySource | undefined;
  /** Saga events (a `SagaOrchestrator`, or a `SagaMonitor` such as the demo orchestrator's `sagas`). */
  sagas?: EventSource<SagaEvents> | undefined;
  /** An event bus: its counts get a row. */
  eventBus?: EventBusSource | undefined;
  /** A `ServiceAuthManager`: auth failures in `/metrics`. */
  auth?: EventSource<AuthEvents> | undefined;
  /** `service.name` of the metrics. Default `websocket-server`. */
  serviceName?: string | undefined;
  /** Default 0: a free port. */
  port?: number | undefined;
  /** Default 127.0.0.1. */
  host?: string | undefined;
  /** How often the page is updated, in ms. Default 500. */
  intervalMs?: number | undefined;
}

/** A running dashboard. */
export interface Dashboard {
  /** `http://host:port/`. */
  readonly url: string;
  /** The latest snapshot (what the page shows). */
  snapshot(): DashboardSnapshot | undefined;
  /** Stops updating, ends the streams, closes the server and the meter provider. */
  close(): Promise<void>;
}

/** Starts the dashboard; resolves once it listens. */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName ?? 'websocket-server' }),
    readers: [exporter],
  });
  const stops = [instrumentCommunication(options.comm, { meterProvider })];
  if (options.registry) stops.push(instrumentServiceRegistry(options.registry, { meterProvider }));
  if (options.sagas) stops.push(instrumentSagaOrchestrator(options.sagas, { meterProvider }));
  if (options.eventBus) stops.push(instrumentEventBus(options.eventBus, { meterProvider }));
  if (options.auth) stops.push(instrumentServiceAuth(options.auth, { meterProvider }));

  const builder = new SnapshotBuilder();
  const clients = new Set<ServerResponse>();
  let latest: DashboardSnapshot | undefined;
  const update = async (): Promise<void> => {
    const { resourceMetrics } = await exporter.collect();
    latest = builder.build(resourceMetrics, Date.now());
    const frame = `data: ${JSON.stringify(latest)}\n\n`;
    for (const res of clients) res.write(frame);
  };
  await update();
  const timer = setInterval(() => void update().catch(() => {}), options.intervalMs ?? 500);
  timer.unref();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/metrics') return exporter.getMetricsRequestHandler(req, res);
    if (path === '/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      if (latest !== undefined) res.write(`data: ${JSON.stringify(latest)}\n\n`);
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    if (path === '/snapshot.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(latest));
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(PAGE);
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { address, port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${address}:${port}/`,
    snapshot: () => latest,
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        for (const res of clients) res.end();
        clients.clear();
        for (const stop of stops) stop();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await meterProvider.shutdown();
      })();
      return closing;
    },
  };
}
