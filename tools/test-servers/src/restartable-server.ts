/**
 * A private server a test can take down and bring back: what an outage test needs of etcd and
 * RabbitMQ alike. Ports and data survive `kill()`, so clients reconnect to the same address.
 */
export interface RestartableServer {
  readonly port: number;
  /** The temporary data directory (removed by `stop()`). */
  readonly dataDir: string;
  /** The server's (process-group leader's) pid; `undefined` while it is down. */
  readonly pid: number | undefined;
  /**
   * Takes the server down but keeps its data and ports: an outage. SIGKILL (the default) is a
   * crash; SIGTERM a clean stop, as an operator's.
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same ports and data after `kill()`; resolves once it accepts clients. */
  start(): Promise<void>;
  /** Stops the server for good and removes its data directory. */
  stop(): Promise<void>;
}
