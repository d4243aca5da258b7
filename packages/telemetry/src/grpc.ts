// The gRPC parts, apart so that `import '@clone/telemetry'` never loads @grpc/grpc-js.
export { tracingClientInterceptor } from './grpc-client-interceptor';
export { extractMetadata, injectMetadata } from './grpc-metadata-propagation';
export { tracingServerInterceptor } from './grpc-server-interceptor';
