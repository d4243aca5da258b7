/** Collecting a gRPC server stream into an array, cancellable. */
import { ServiceError } from '@clone/service-errors';

/** A grpc-js server stream, as the typed clients return it. */
export type Stream<T> = NodeJS.ReadableStream & {
  cancel(): void;
  on(event: 'data', fn: (item: T) => void): unknown;
};

/** Collects a server stream; rejects with a ServiceError; `signal` cancels it. */
export function collect<T>(stream: Stream<T>, service: string, signal: AbortSignal): Promise<T[]> {
  return new Promise<T[]>((resolve, reject) => {
    const items: T[] = [];
    const onAbort = (): void => stream.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (item: T) => items.push(item));
    stream.on('error', (error: unknown) => {
      signal.removeEventListener('abort', onAbort);
      reject(ServiceError.from(error, service));
    });
    stream.on('end', () => {
      signal.removeEventListener('abort', onAbort);
      resolve(items);
    });
  });
}
