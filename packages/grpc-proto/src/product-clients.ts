import type { ClientTarget } from './client-factory';
import type { ServiceKind } from './protos';
import type {
  ASRClient,
  LipSyncClient,
  LLMClient,
  RAGClient,
  ServiceClient,
  TTSClient,
} from './typed-client';

/** The permissions a client of each product service asks for by default: `<kind>:read`. */
export const CLIENT_PERMISSIONS: Readonly<Record<ServiceKind, readonly string[]>> = Object.freeze({
  asr: Object.freeze(['asr:read']),
  llm: Object.freeze(['llm:read']),
  rag: Object.freeze(['rag:read']),
  tts: Object.freeze(['tts:read']),
  lipsync: Object.freeze(['lipsync:read']),
});

/**
 * The design document's five client constructors (`createASRClient`, …), each a typed
 * `createClient(kind, …)`. The manager inherits them, so the facade's own file holds only
 * what is not per product.
 */
export abstract class ProductClients {
  /** A typed client of `kind`; see `ServiceCommunicationManager.createClient`. */
  abstract createClient<K extends ServiceKind>(
    kind: K,
    target?: ClientTarget,
    permissions?: readonly string[],
  ): ServiceClient<K>;

  /** A client of `asr.ASRService`; `endpoint` default: the configured one, else discovery. */
  createASRClient(endpoint?: ClientTarget, permissions?: readonly string[]): ASRClient {
    return this.createClient('asr', endpoint, permissions);
  }

  /** A client of `llm.LLMService`. */
  createLLMClient(endpoint?: ClientTarget, permissions?: readonly string[]): LLMClient {
    return this.createClient('llm', endpoint, permissions);
  }

  /** A client of `rag.RAGService`. */
  createRAGClient(endpoint?: ClientTarget, permissions?: readonly string[]): RAGClient {
    return this.createClient('rag', endpoint, permissions);
  }

  /** A client of `tts.TTSService`. */
  createTTSClient(endpoint?: ClientTarget, permissions?: readonly string[]): TTSClient {
    return this.createClient('tts', endpoint, permissions);
  }

  /** A client of `lipsync.LipSyncService`. */
  createLipSyncClient(endpoint?: ClientTarget, permissions?: readonly string[]): LipSyncClient {
    return this.createClient('lipsync', endpoint, permissions);
  }
}
