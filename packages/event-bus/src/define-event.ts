import { parseOptions } from '@clone/service-errors';
import { z } from 'zod';
import { badRequest } from './bad-request';
import { type EventEnvelope, eventTypeSchema } from './event';
import { EventBuilder, type EventInput } from './event-builder';

/**
 * An event type declared once with the zod schema of its `data`: `publish` validates against it,
 * consumers validate what they receive, and a subscriber of the type gets `event.data` typed.
 */
export interface EventDefinition<K extends string = string, S extends z.ZodType = z.ZodType> {
  readonly type: K;
  readonly schema: S;
  /** The version stamped on events built with {@link EventDefinition.create}. */
  readonly version: number;
  /** Builds an envelope of this type (data not yet validated: `publish` does that). */
  create(
    data: z.input<S>,
    source: string,
    input?: Omit<EventInput<unknown>, 'data'>,
  ): EventEnvelope<z.output<S>, K>;
}

/** The event type of a definition. */
export type EventOf<D> = D extends EventDefinition<infer K, infer S> ? EventEnvelope<z.output<S>, K> : never;

/**
 * Declares an event type: `defineEvent('sample.created', z.object({ sampleId: z.string() }))`.
 * A bad type name is a BAD_REQUEST at declaration, not a silent routing miss later.
 */
export function defineEvent<K extends string, S extends z.ZodType>(
  type: K,
  schema: S,
  options: { version?: number } = {},
): EventDefinition<K, S> {
  const parsed = parseOptions(
    z.strictObject({ type: eventTypeSchema, version: z.number().int().min(1).default(1) }),
    { type, version: options.version },
    'defineEvent',
  );
  if (!(schema instanceof z.ZodType)) {
    throw badRequest('defineEvent: schema must be a zod schema', 'schema');
  }
  return {
    type,
    schema,
    version: parsed.version,
    create(data, source, input = {}) {
      return EventBuilder.create(
        type,
        { ...input, version: input.version ?? parsed.version, data },
        source,
      ) as never;
    },
  };
}

/**
 * Validates `data` of an event against its definition, naming the field (`data.sampleId`) in the
 * BAD_REQUEST; returns the parsed data (zod defaults and transforms applied).
 */
export function parseEventData(definition: EventDefinition, data: unknown, context: string): unknown {
  return parseOptions(dataSchemaOf(definition.schema), { data }, context).data;
}

// One wrapper per schema, built on first use: building a zod object costs more than parsing with it.
const wrappers = new WeakMap<z.ZodType, z.ZodObject<{ data: z.ZodType }>>();

/** `{ data: schema }`, so an issue's path names `data.<field>`. */
function dataSchemaOf(schema: z.ZodType): z.ZodObject<{ data: z.ZodType }> {
  let wrapper = wrappers.get(schema);
  if (wrapper === undefined) {
    wrapper = z.object({ data: schema });
    wrappers.set(schema, wrapper);
  }
  return wrapper;
}
