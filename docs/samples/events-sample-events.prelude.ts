// provides: correlationId
/**
 * The configuration variables of the sample-tracking services, as a deployment sets them, and the
 * correlation id of the request the events belong to. Teardown restores the environment.
 */
export default async function setup() {
  const variables = {
    EVENT_BUS_MAX_LISTENERS: '100',
    EVENT_BUS_RETRY_DELAY: '1000',
    EVENT_BUS_MAX_RETRIES: '3',
    EVENT_BUS_DEAD_LETTER_THRESHOLD: '100',
  };
  const before = Object.fromEntries(Object.keys(variables).map((k) => [k, process.env[k]]));
  Object.assign(process.env, variables);
  return {
    correlationId: 'req-7f3a',
    teardown: async () => {
      for (const [key, value] of Object.entries(before)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    },
  };
}
