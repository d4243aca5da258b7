export { type ConsumeScript, consumeScript } from './redis-script';
export { type RedisScriptClient, RedisStore, type RedisStoreOptions } from './redis-store';
