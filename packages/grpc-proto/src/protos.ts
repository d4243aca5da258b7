import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import * as grpc from '@grpc/grpc-js';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';
import type { ProtoGrpcType as AsrProto } from './generated/asr';
import type { ASRServiceClient, ASRServiceDefinition, ASRServiceHandlers } from './generated/asr/ASRService';
import type { ProtoGrpcType as LipSyncProto } from './generated/lipsync';
import type {
  LipSyncServiceClient,
  LipSyncServiceDefinition,
  LipSyncServiceHandlers,
} from './generated/lipsync/LipSyncService';
import type { ProtoGrpcType as LlmProto } from './generated/llm';
import type { LLMServiceClient, LLMServiceDefinition, LLMServiceHandlers } from './generated/llm/LLMService';
import type { ProtoGrpcType as RagProto } from './generated/rag';
import type { RAGServiceClient, RAGServiceDefinition, RAGServiceHandlers } from './generated/rag/RAGService';
import type { ProtoGrpcType as TtsProto } from './generated/tts';
import type { TTSServiceClient, TTSServiceDefinition, TTSServiceHandlers } from './generated/tts/TTSService';

/**
 * proto-loader options the generated types were made for (scripts/gen.mjs passes the same as
 * flags): camelCase fields, enums as strings, 64-bit integers as numbers, defaults filled in.
 */
export const LOADER_OPTIONS: Readonly<Options> = Object.freeze({
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});

/** The five services of the system, by short name. */
export type ServiceKind = 'asr' | 'llm' | 'rag' | 'tts' | 'lipsync';

/** Every {@link ServiceKind}. */
export const SERVICE_KINDS: readonly ServiceKind[] = Object.freeze(['asr', 'llm', 'rag', 'tts', 'lipsync']);

/** Per service: its proto file, fully qualified name, grpc-js client and handler types. */
export interface ServiceTypes {
  asr: { client: ASRServiceClient; handlers: ASRServiceHandlers; definition: ASRServiceDefinition };
  llm: { client: LLMServiceClient; handlers: LLMServiceHandlers; definition: LLMServiceDefinition };
  rag: { client: RAGServiceClient; handlers: RAGServiceHandlers; definition: RAGServiceDefinition };
  tts: { client: TTSServiceClient; handlers: TTSServiceHandlers; definition: TTSServiceDefinition };
  lipsync: {
    client: LipSyncServiceClient;
    handlers: LipSyncServiceHandlers;
    definition: LipSyncServiceDefinition;
  };
}

/** Where each service lives in the protos. */
export const SERVICE_PROTOS: Readonly<Record<ServiceKind, { file: string; fullName: string }>> =
  Object.freeze({
    asr: { file: 'asr.proto', fullName: 'asr.ASRService' },
    llm: { file: 'llm.proto', fullName: 'llm.LLMService' },
    rag: { file: 'rag.proto', fullName: 'rag.RAGService' },
    tts: { file: 'tts.proto', fullName: 'tts.TTSService' },
    lipsync: { file: 'lipsync.proto', fullName: 'lipsync.LipSyncService' },
  });

function moduleDir(): string {
  // The ESM build and the sources have import.meta.url; tsup shims it for the CommonJS build.
  return dirname(fileURLToPath(import.meta.url));
}

function findProtoDir(): string {
  // dist/index.js and src/protos.ts both sit one level below the package root.
  const shipped = join(moduleDir(), '..', 'proto');
  if (existsSync(join(shipped, 'asr.proto'))) return shipped;
  // Run from sources in this repository (tests, demo): the one source is the top-level proto/;
  // the build copies it into the package.
  const repository = join(moduleDir(), '..', '..', '..', 'proto');
  if (existsSync(join(repository, 'asr.proto'))) return repository;
  throw new ServiceError(
    ServiceErrorCode.INTERNAL_ERROR,
    `@clone/grpc-proto: the shipped protos are missing from ${shipped}`,
    undefined,
    { retryable: false },
  );
}

let protoDir: string | undefined;

/** The directory holding the shipped `.proto` files (`<package>/proto`). */
export function getProtoDir(): string {
  protoDir ??= findProtoDir();
  return protoDir;
}

/** Absolute path of a shipped proto, e.g. `protoPath('asr')` or `protoPath('asr.proto')`. */
export function protoPath(name: ServiceKind | `${ServiceKind}.proto`): string {
  const file = name.endsWith('.proto') ? name : SERVICE_PROTOS[name as ServiceKind].file;
  return join(getProtoDir(), file);
}

/** The loaded gRPC objects of all five protos, as grpc-js `loadPackageDefinition` returns them. */
export type ProtoGrpcType = AsrProto & LlmProto & RagProto & TtsProto & LipSyncProto;

let packageDefinition: PackageDefinition | undefined;
let loaded: ProtoGrpcType | undefined;

/** The proto-loader package definition of the five protos (loaded once, from the shipped files). */
export function getPackageDefinition(): PackageDefinition {
  packageDefinition ??= loadSync(
    SERVICE_KINDS.map((k) => SERVICE_PROTOS[k].file),
    { ...LOADER_OPTIONS, includeDirs: [getProtoDir()] },
  );
  return packageDefinition;
}

/** The five protos loaded into grpc-js: client constructors, service definitions, message types. */
export function loadProtos(): ProtoGrpcType {
  loaded ??= grpc.loadPackageDefinition(getPackageDefinition()) as unknown as ProtoGrpcType;
  return loaded;
}

/** The grpc-js service definition of one service, for `server.addService`. */
export function serviceDefinition<K extends ServiceKind>(kind: K): ServiceTypes[K]['definition'] {
  return clientConstructor(kind).service as ServiceTypes[K]['definition'];
}

/** The grpc-js client constructor of one service. */
export function clientConstructor(kind: ServiceKind): grpc.ServiceClientConstructor {
  const protos = loadProtos();
  const ctor = {
    asr: protos.asr.ASRService,
    llm: protos.llm.LLMService,
    rag: protos.rag.RAGService,
    tts: protos.tts.TTSService,
    lipsync: protos.lipsync.LipSyncService,
  }[kind];
  return ctor as unknown as grpc.ServiceClientConstructor;
}
