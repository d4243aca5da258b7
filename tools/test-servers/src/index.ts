export { freePort, waitFor } from './ports';
export { type EtcdServer, startEtcd } from './etcd';
export { type PostgresServer, startPostgres } from './postgres';
