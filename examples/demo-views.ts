/**
 * What a user can look at while `pnpm demo` runs: the live resilience dashboard (tiles per
 * callee over server-sent events, `/metrics` in Prometheus text) and the gateway front
 * (`/api/v1/conversations` behind `@clone/gateway`, user tokens, rate-limit tiers), both started
 * next to the orchestrator, their URLs printed with a ready-to-paste curl line.
 */
import type { EventBusSource } from '@clone/telemetry';
import { type Dashboard, startDashboard } from './dashboard/index';
import { bold, heading, log, plain } from './demo-output';
import type { Deployment } from './deployments';
import { type GatewayFront, startGatewayFront } from './gateway-front';
import type { ConversationOrchestrator } from './orchestrator';

/** The running views. */
export interface DemoViews {
  dashboard: Dashboard;
  front: GatewayFront;
  /** Prints where they are (again, e.g. when the demo keeps serving). */
  print(): void;
  /** Closes the gateway front (draining it), then the dashboard. */
  close(): Promise<void>;
}

export interface DemoViewsOptions {
  orchestrator: ConversationOrchestrator;
  deployment: Deployment;
  jwtSecret: string;
  /** The orchestrator's event bus: its counts get a row on the dashboard. */
  eventBus: EventBusSource;
  /** The gateway's active health checks of the conversation service. */
  healthCheckIntervalMs: number;
}

/** Starts the dashboard and the gateway front and prints their URLs. */
export async function startViews(options: DemoViewsOptions): Promise<DemoViews> {
  const { orchestrator, deployment } = options;
  const dashboard = await startDashboard({
    comm: orchestrator.comm,
    registry: deployment.registry,
    sagas: orchestrator.sagas,
    eventBus: options.eventBus,
    auth: orchestrator.comm.getAuthManager(),
  });
  let front: GatewayFront;
  try {
    front = await startGatewayFront({
      orchestrator,
      registry: deployment.registry,
      jwtSecret: options.jwtSecret,
      healthCheckIntervalMs: options.healthCheckIntervalMs,
    });
  } catch (error) {
    await dashboard.close();
    throw error;
  }
  const print = (): void => {
    heading('Live views');
    log(`${bold('dashboard')}  ${dashboard.url}  (a tile per callee, live over server-sent events)`);
    log(`${bold('metrics')}    ${new URL('/metrics', dashboard.url)}  (Prometheus text)`);
    log(
      `${bold('gateway')}    ${front.url}  (/api/v1/conversations; user token for user-123 signed with the demo secret, valid 1 h)`,
    );
    log('a conversation through the gateway:');
    plain(
      `curl -s -X POST ${front.url}/api/v1/conversations -H 'authorization: Bearer ${front.token}' -H 'content-type: application/json' -d '{"sessionId":"curl-1","text":"Where did you grow up?"}'`,
    );
    log('and the gateway itself:');
    plain(`curl -s ${front.url}/api/v1/health/detailed`);
  };
  print();
  return {
    dashboard,
    front,
    print,
    async close() {
      await front.close();
      await dashboard.close();
    },
  };
}
