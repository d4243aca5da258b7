import type { JsonValue, SagaStepDefinition } from '@clone/saga';
import { isServiceErrorCode, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { z } from 'zod';

/**
 * What orchestrators and participants say to each other over the event bus. Every message is an
 * ordinary event (an envelope with a fresh id per send), routed by its type:
 * - `saga.command.<service>`: run (or undo) one step, to the queue of the service that owns it;
 * - `saga.reply.<orchestratorId>`: the outcome, to the orchestrator instance that asked;
 * - `saga.participant.announce`: a participant's service and the actions it serves;
 * - `saga.participant.discover`: an orchestrator asking every participant to announce now.
 * The command id, not the event id, names the work: `${sagaId}:${stepId}` for a step and
 * `${sagaId}:${stepId}:compensate` for its compensation, the same on every send, retry and
 * recovery, so a participant answers a repeated command from what it recorded.
 */

/** A service name or orchestrator id as it appears in a routing key: one AMQP topic word. */
export const routingWordSchema = z.string({ error: 'must be a string' }).regex(/^[A-Za-z0-9_-]{1,100}$/, {
  error: "must be 1-100 letters, digits, '_' or '-' (it is one word of a routing key)",
});

/** The event type commands for `service` travel as. */
export function commandType(service: string): string {
  return `saga.command.${service}`;
}

/** The event type replies to orchestrator `orchestratorId` travel as. */
export function replyType(orchestratorId: string): string {
  return `saga.reply.${orchestratorId}`;
}

export const ANNOUNCE_TYPE = 'saga.participant.announce';
export const DISCOVER_TYPE = 'saga.participant.discover';

/** The command id of a step (`compensate` false) or of its compensation. */
export function commandId(sagaId: string, stepId: string, compensate: boolean): string {
  return compensate ? `${sagaId}:${stepId}:compensate` : `${sagaId}:${stepId}`;
}

const stepShape = z.object({
  id: z.string(),
  name: z.string(),
  service: z.string(),
  action: z.string(),
  compensationAction: z.string().optional(),
  timeout: z.number().optional(),
  retryAttempts: z.number().optional(),
  dependencies: z.array(z.string()).optional(),
  compensateOnFailure: z.boolean().optional(),
});

const stepDefinitionSchema = z.custom<SagaStepDefinition>((v) => stepShape.safeParse(v).success, {
  error: 'must be a saga step definition',
});

const jsonSchema = z.custom<JsonValue>(() => true);

/** A step (or compensation) to run, as the orchestrator sends it. */
export const commandSchema = z.strictObject({
  commandId: z.string().min(1),
  kind: z.enum(['step', 'compensation']),
  sagaId: z.string().min(1),
  sagaType: z.string(),
  stepId: z.string(),
  /** The orchestrator instance waiting for the reply. */
  replyTo: routingWordSchema,
  step: stepDefinitionSchema,
  context: jsonSchema,
  attempt: z.number().int().min(1),
  execution: z.number().int().min(0),
  results: z.record(z.string(), jsonSchema),
  correlationId: z.string().optional(),
  /** Compensations: the step's recorded result, and whether the step failed or its outcome was lost. */
  result: jsonSchema.optional(),
  failed: z.boolean().optional(),
});

/** A command as sent. */
export type SagaCommand = z.infer<typeof commandSchema>;

/** An error as it travels: enough to rebuild the ServiceError, and whether it was a plain Error. */
export const wireErrorSchema = z.strictObject({
  code: z.string(),
  message: z.string(),
  retryable: z.boolean(),
  service: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  /** The handler threw something other than a ServiceError (a plain Error): retried like locally. */
  plain: z.boolean(),
});

export type WireError = z.infer<typeof wireErrorSchema>;

/** What a participant answers. */
export const replySchema = z.strictObject({
  commandId: z.string().min(1),
  kind: z.enum(['step', 'compensation']),
  sagaId: z.string(),
  stepId: z.string(),
  service: z.string(),
  ok: z.boolean(),
  result: jsonSchema.optional(),
  error: wireErrorSchema.optional(),
  /** The answer came from the participant's record of an earlier execution. */
  replayed: z.boolean(),
});

export type SagaReply = z.infer<typeof replySchema>;

/** A participant's announcement of what it serves. */
export const announceSchema = z.strictObject({
  service: routingWordSchema,
  instanceId: z.string(),
  actions: z.array(z.string()),
  compensations: z.array(z.string()),
});

export type ParticipantAnnouncement = z.infer<typeof announceSchema>;

/** An error a handler threw, as it travels. `thrown` is what it threw; `error` its normalised form. */
export function toWireError(error: ServiceError, thrown: unknown): WireError {
  const wire: WireError = {
    code: error.code,
    message: error.message,
    retryable: error.retryable,
    plain: !(thrown instanceof ServiceError) && thrown instanceof Error,
  };
  if (error.service !== undefined) wire.service = error.service;
  if (error.metadata !== undefined) wire.metadata = error.metadata;
  return wire;
}

/**
 * The ServiceError again. A plain Error thrown by a remote handler comes back as an
 * INTERNAL_ERROR whose cause is a plain Error, exactly what a local handler's plain Error
 * becomes, so a step's `retryAttempts` retries it the same way in both modes.
 */
export function fromWireError(wire: WireError, service: string): ServiceError {
  const cause = wire.plain ? new Error(wire.message) : undefined;
  const code = isServiceErrorCode(wire.code) ? wire.code : ServiceErrorCode.INTERNAL_ERROR;
  return new ServiceError(code, wire.message, wire.service ?? service, {
    retryable: wire.retryable,
    metadata: wire.metadata,
    cause,
  });
}
