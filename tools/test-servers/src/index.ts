export { type EtcdServer, startEtcd } from './etcd';
export { freePort, waitFor } from './ports';
export { type PostgresServer, startPostgres } from './postgres';
