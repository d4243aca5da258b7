import { clockOption as clockShape, loggerOption as loggerShape } from '@clone/internal';
import type { Clock } from './clock';
import type { Logger } from './logger';

/** An injected {@link Clock}: an object with `now`, `setTimeout` and `clearTimeout`. */
export const clockOption = clockShape<Clock>();

/** An injected {@link Logger}. */
export const loggerOption = loggerShape<Logger>();
