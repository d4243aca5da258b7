export { type CorrelationScope, correlationStorage } from './correlation-storage';
export { DURATION_TEXT, durationMs, fitsTimer, MAX_TIMER_MS } from './duration';
export { durationSeconds, MAX_TIMER_SECONDS } from './duration-seconds';
export { type Endpoint, endpointSchema, formatEndpoint, parseEndpointString, portSchema } from './endpoint';
export { formatValue } from './format-value';
export { randomId } from './ids';
export { type EnvProblem, type EnvVariables, numbersFromEnv } from './numbers-from-env';
export {
  type ClockLike,
  clockOption,
  functionOption,
  intAtLeast,
  type LoggerLike,
  loggerOption,
  nonEmptyString,
  numberAtLeast,
  objectOption,
  randomOption,
  sqlTableName,
} from './option-schemas';
export { isUnsafeKey, UNSAFE_KEYS, unsafeKeyReason } from './safe-key';
export { safeRecord } from './safe-record';
