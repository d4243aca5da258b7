export { type Certificates, type IssueOptions, type KeyPair, makeCertificates } from './certificates';
export { type EtcdServer, startEtcd } from './etcd';
export { freePort, waitFor } from './ports';
export { type PostgresServer, startPostgres } from './postgres';
export { type RabbitMQServer, startRabbitMQ } from './rabbitmq';
export { type RedisServer, type RedisStartOptions, startRedis } from './redis';
export type { RestartableServer } from './restartable-server';
