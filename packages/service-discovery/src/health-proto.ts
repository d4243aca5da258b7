import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';

/**
 * `grpc.health.v1`, the standard gRPC health checking protocol. The package ships
 * `proto/grpc/health/v1/health.proto`; the same definition is inlined here as a protobufjs
 * descriptor so that loading it needs no file system path (works the same from ESM, CommonJS
 * and bundles). A test checks the two agree.
 */
const healthDescriptor = {
  nested: {
    grpc: {
      nested: {
        health: {
          nested: {
            v1: {
              nested: {
                HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
                HealthCheckResponse: {
                  fields: { status: { type: 'ServingStatus', id: 1 } },
                  nested: {
                    ServingStatus: {
                      values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 },
                    },
                  },
                },
                Health: {
                  methods: {
                    Check: { requestType: 'HealthCheckRequest', responseType: 'HealthCheckResponse' },
                    Watch: {
                      requestType: 'HealthCheckRequest',
                      responseType: 'HealthCheckResponse',
                      responseStream: true,
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

/** Options shared by the inlined definition and the test that loads the shipped file. */
export const HEALTH_PROTO_LOADER_OPTIONS = { keepCase: true, enums: String, defaults: true } as const;

/** The serving states of `grpc.health.v1.HealthCheckResponse`. */
export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/** `grpc.health.v1.HealthCheckRequest`. */
export interface HealthCheckRequest {
  service: string;
}

/** `grpc.health.v1.HealthCheckResponse`. */
export interface HealthCheckResponse {
  status: ServingStatus;
}

const loaded = grpc.loadPackageDefinition(
  fromJSON(healthDescriptor as unknown as Parameters<typeof fromJSON>[0], HEALTH_PROTO_LOADER_OPTIONS),
) as unknown as {
  grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
};

/** A grpc-js client of `grpc.health.v1.Health`. */
export interface HealthClient extends grpc.Client {
  Check(
    request: HealthCheckRequest,
    callback: (error: grpc.ServiceError | null, response?: HealthCheckResponse) => void,
  ): grpc.ClientUnaryCall;
  Check(
    request: HealthCheckRequest,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: HealthCheckResponse) => void,
  ): grpc.ClientUnaryCall;
  Watch(
    request: HealthCheckRequest,
    options?: grpc.CallOptions,
  ): grpc.ClientReadableStream<HealthCheckResponse>;
}

/** The grpc-js client constructor for `grpc.health.v1.Health`. */
export const HealthClient = loaded.grpc.health.v1.Health as unknown as {
  new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions): HealthClient;
  readonly service: grpc.ServiceDefinition;
};

/** The service definition of `grpc.health.v1.Health`, for `server.addService()`. */
export const healthServiceDefinition: grpc.ServiceDefinition = loaded.grpc.health.v1.Health.service;
