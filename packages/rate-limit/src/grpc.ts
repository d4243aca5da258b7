export { type RateLimitInterceptorOptions, rateLimitServerInterceptor } from './grpc-interceptor';
