/**
 * The event side of `pnpm demo`: when a conversation's saga ends, the orchestrator publishes
 * `conversation.completed` or `conversation.failed` through `@clone/event-bus`, and the analytics
 * service counts them. In memory by default. `--rabbitmq`: on a private RabbitMQ broker, which the
 * demo stops and starts again while the conversations go on publishing; at the end
 * every saga's event has been published and counted exactly once.
 */

import { createEventBus, type EventBus } from '@clone/event-bus';
import { traceEventBus } from '@clone/telemetry';
import type { RabbitMQServer } from '@clone/test-servers';
import { CONVERSATION_EVENTS, type ConversationEvent } from './conversation-events';
import { brief, cyan, green, heading, log, ms, red } from './demo-output';
import { SetupError } from './deployments';
import { BackgroundPublisher } from './event-publisher';
import { ORCHESTRATOR_SERVICE } from './orchestrator';
import { ANALYTICS_QUEUE, ANALYTICS_SERVICE, startAnalytics } from './services/analytics';

/**
 * A restarted broker is found within a quarter second of accepting connections, and a publish
 * held while it is down (the restart takes several seconds) still gets its confirm.
 */
const BUS_SETTINGS = { maxReconnectDelayMs: 250, publishTimeoutMs: 120_000 };

/** What the demo does with events. */
export interface DemoEvents {
  /** Give it to the orchestrator: it publishes each conversation's event in the background. */
  readonly publisher: BackgroundPublisher;
  /** The orchestrator's bus (what the dashboard counts). */
  readonly bus: EventBus;
  /** `--rabbitmq`: stops the broker, keeping its data; resolves once both buses noticed. Else nothing. */
  stopBroker(): Promise<void>;
  /** `--rabbitmq`: starts it again on the same port and data; resolves once the held publishes are confirmed. */
  restartBroker(): Promise<void>;
  /**
   * Waits for every publish and for analytics to count them, prints the tally, and throws unless
   * each saga's event was published once and counted once.
   */
  summary(sagas: { completed: number; failed: number }): Promise<void>;
  /** Closes the buses and stops the broker (removing its data). */
  close(): Promise<void>;
}

export interface DemoEventsOptions {
  /** Run the buses on a private RabbitMQ broker (else in memory, or on `RABBITMQ_URL` when set). */
  rabbitmq: boolean;
  /** What an interrupt (Ctrl-C, SIGTERM) must undo. */
  onInterrupt: Set<() => Promise<unknown>>;
}

/** Polls `done` every 50 ms for up to `timeoutMs`; resolves whether it became true. */
async function until(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return done();
}

/** Starts the private broker, or says why it cannot. */
async function startBroker(onInterrupt: Set<() => Promise<unknown>>): Promise<RabbitMQServer> {
  const { startRabbitMQ } = await import('@clone/test-servers');
  log('starting a private RabbitMQ broker (Debian rabbitmq-server, random loopback port, temporary data)');
  const starting = startRabbitMQ();
  // Interrupted while the broker starts: wait for it, then stop it and remove its data.
  const stopStarting = async (): Promise<void> => (await starting.catch(() => undefined))?.stop();
  onInterrupt.add(stopStarting);
  try {
    return await starting;
  } catch (error) {
    throw new SetupError(
      `pnpm demo --rabbitmq: ${(error as Error).message}; or run \`pnpm demo\` without --rabbitmq.`,
    );
  } finally {
    onInterrupt.delete(stopStarting);
  }
}

/** Starts the buses (and with `rabbitmq` the broker), the analytics subscriber and the publisher. */
export async function startEvents(options: DemoEventsOptions): Promise<DemoEvents> {
  const broker = options.rabbitmq ? await startBroker(options.onInterrupt) : undefined;
  const url = broker?.url ?? process.env.RABBITMQ_URL;
  const where =
    broker !== undefined
      ? `a private RabbitMQ on 127.0.0.1:${broker.port}`
      : url !== undefined
        ? `RabbitMQ at ${new URL(url).host} (RABBITMQ_URL)`
        : 'in memory';
  const bus = (serviceName: string): EventBus =>
    createEventBus({ serviceName, url, events: CONVERSATION_EVENTS, ...BUS_SETTINGS });
  const publisherBus = bus(ORCHESTRATOR_SERVICE);
  // In memory a bus is its own broker, so analytics shares the orchestrator's (and reads a queue
  // of its own); on RabbitMQ it is a service of its own, with its own connection.
  const analyticsBus = url === undefined ? publisherBus : bus(ANALYTICS_SERVICE);
  const buses = [...new Set([publisherBus, analyticsBus])];
  // The trace of a conversation goes on through its event: a PRODUCER span where it is published,
  // a CONSUMER span where analytics counts it, one trace id (the context rides in the event).
  const untrace = buses.map((b) => traceEventBus(b, url === undefined ? { system: 'memory' } : {}));
  const close = async (): Promise<void> => {
    options.onInterrupt.delete(close);
    for (const off of untrace) off();
    await Promise.all(buses.map((b) => b.close()));
    await broker?.stop();
  };
  options.onInterrupt.add(close);

  let failedReconnects = 0;
  for (const b of buses) {
    b.on('disconnected', ({ error }) =>
      log(
        `   ${red('⚡')} event bus ${b.serviceName}: disconnected${error === undefined ? '' : ` (${brief(error.message)})`}`,
      ),
    );
    b.on('connected', () => log(`   ${green('⚡')} event bus ${b.serviceName}: connected to ${where}`));
    // A failed reconnect attempt while the broker is down: counted, not printed one by one.
    b.on('error', () => failedReconnects++);
  }
  const publisher = new BackgroundPublisher(publisherBus, {
    onSettled: (envelope, outcome) => {
      const event = envelope as ConversationEvent;
      const what = `${ORCHESTRATOR_SERVICE} published ${event.type} (${event.data.sessionId})`;
      if (outcome.ok)
        log(
          `   ${cyan('✉')} ${what}: confirmed in ${ms(outcome.durationMs)}${outcome.attempts > 1 ? ` after ${outcome.attempts} attempts` : ''}`,
        );
      else log(`   ${red('✉')} ${what}: given up after ${outcome.attempts} attempts (${outcome.error.code})`);
    },
  });
  try {
    const analytics = await startAnalytics(analyticsBus, {
      onCounted: (event, counts) =>
        log(
          `   ${cyan('✉')} ${ANALYTICS_SERVICE} counted ${event.type} (${event.data.sessionId}): ${counts.completed} completed, ${counts.failed} failed so far`,
        ),
    });
    await publisherBus.connect();
    if (broker !== undefined) log(`broker pid ${broker.pid}, data in ${broker.dataDir}`);
    log(
      `event bus ${where}: ${ORCHESTRATOR_SERVICE} publishes conversation.completed / conversation.failed, ${ANALYTICS_SERVICE} counts them from its queue ${ANALYTICS_QUEUE}`,
    );
    const counted = (): number => {
      const c = analytics.counts();
      return c.completed + c.failed;
    };
    const published = (): number => [...publisher.confirmed.values()].reduce((a, b) => a + b, 0);

    return {
      publisher,
      bus: publisherBus,
      async stopBroker() {
        if (broker === undefined) return;
        heading('Failure: the RabbitMQ broker stops');
        // Only once what was published so far is counted: the outage then holds exactly the
        // events published during it, and the analytics queue has carried traffic.
        await publisher.drain();
        await until(() => counted() >= published(), 30_000);
        log(`${ANALYTICS_SERVICE} has counted ${counted()} of ${published()} event(s) published so far`);
        const pid = broker.pid;
        // SIGTERM, an operator's stop. After a SIGKILL, RabbitMQ 3.10 may fail to recover a quorum
        // queue declared seconds before (consuming from it then times out): a broker limit, which
        // the event bus's chaos tests exercise with queues that have been in use for longer.
        await broker.kill('SIGTERM');
        log(`broker pid ${pid} stopped with SIGTERM; its data directory stays`);
        if (!(await until(() => buses.every((b) => !b.isConnected()), 30_000)))
          throw new Error('the event buses did not notice the broker dying');
        log("the conversations go on: their events wait in the publisher's buffer until the broker is back");
      },
      async restartBroker() {
        if (broker === undefined) return;
        heading('Recovery: the RabbitMQ broker restarts');
        log(
          `${publisher.pending} conversation event(s) held while the broker was down; ${failedReconnects} reconnect attempt(s) failed meanwhile`,
        );
        const start = performance.now();
        await broker.start();
        log(`broker pid ${broker.pid} up again after ${ms(performance.now() - start)}, same port and data`);
        if (!(await until(() => buses.every((b) => b.isConnected()), 30_000)))
          throw new Error('the event buses did not reconnect to the restarted broker');
        await publisher.drain();
        log(`the held publishes are confirmed; ${ANALYTICS_SERVICE} has counted ${counted()} event(s)`);
      },
      async summary(sagas) {
        heading('Events: published by the sagas, counted by analytics');
        await publisher.drain();
        // Consumption trails the confirms a little; a missing event shows as a shortfall below.
        await until(() => counted() >= published(), 30_000);
        const c = analytics.counts();
        const confirmed = (type: string): number => publisher.confirmed.get(type) ?? 0;
        const failedAt = Object.entries(c.failedAt).map(([step, n]) => `${step} ×${n}`);
        const duplicates = analyticsBus.getStats().duplicateEvents;
        log(`event bus: ${where}${broker === undefined ? '' : ', stopped and restarted once'}`);
        log(`sagas ended:                 ${sagas.completed} completed, ${sagas.failed} failed`);
        log(
          `published and confirmed:     ${confirmed('conversation.completed')} conversation.completed, ${confirmed('conversation.failed')} conversation.failed${publisher.failed > 0 ? red(`, ${publisher.failed} given up`) : ''}`,
        );
        log(
          `counted by ${ANALYTICS_SERVICE}: ${c.completed} conversation.completed, ${c.failed} conversation.failed${failedAt.length > 0 ? ` (failed at ${failedAt.join(', ')})` : ''}`,
        );
        const lost = published() - counted();
        log(
          `lost: ${lost === 0 ? green('0') : red(String(lost))}; duplicates absorbed by the ${ANALYTICS_SERVICE} inbox: ${duplicates}`,
        );
        const matches =
          publisher.failed === 0 &&
          confirmed('conversation.completed') === sagas.completed &&
          confirmed('conversation.failed') === sagas.failed &&
          c.completed === sagas.completed &&
          c.failed === sagas.failed;
        if (!matches) throw new Error('the events published or counted do not match the sagas');
        log(green('every saga published its event, and analytics counted each one once'));
      },
      async close() {
        await close();
        if (broker !== undefined)
          log('event buses closed; RabbitMQ broker stopped, its data directory removed');
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}
