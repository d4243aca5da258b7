export { CONSUME_SCRIPT, CONSUME_SCRIPT_SHA } from './redis-script';
export { type RedisScriptClient, RedisStore, type RedisStoreOptions } from './redis-store';
