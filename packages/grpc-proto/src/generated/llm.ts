import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ChatMessage as _llm_ChatMessage, ChatMessage__Output as _llm_ChatMessage__Output } from './llm/ChatMessage';
import type { GenerateChunk as _llm_GenerateChunk, GenerateChunk__Output as _llm_GenerateChunk__Output } from './llm/GenerateChunk';
import type { GenerateRequest as _llm_GenerateRequest, GenerateRequest__Output as _llm_GenerateRequest__Output } from './llm/GenerateRequest';
import type { GenerateResponse as _llm_GenerateResponse, GenerateResponse__Output as _llm_GenerateResponse__Output } from './llm/GenerateResponse';
import type { HealthCheckRequest as _llm_HealthCheckRequest, HealthCheckRequest__Output as _llm_HealthCheckRequest__Output } from './llm/HealthCheckRequest';
import type { HealthCheckResponse as _llm_HealthCheckResponse, HealthCheckResponse__Output as _llm_HealthCheckResponse__Output } from './llm/HealthCheckResponse';
import type { LLMServiceClient as _llm_LLMServiceClient, LLMServiceDefinition as _llm_LLMServiceDefinition } from './llm/LLMService';
import type { TokenUsage as _llm_TokenUsage, TokenUsage__Output as _llm_TokenUsage__Output } from './llm/TokenUsage';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  llm: {
    ChatMessage: MessageTypeDefinition<_llm_ChatMessage, _llm_ChatMessage__Output>
    FinishReason: EnumTypeDefinition
    GenerateChunk: MessageTypeDefinition<_llm_GenerateChunk, _llm_GenerateChunk__Output>
    GenerateRequest: MessageTypeDefinition<_llm_GenerateRequest, _llm_GenerateRequest__Output>
    GenerateResponse: MessageTypeDefinition<_llm_GenerateResponse, _llm_GenerateResponse__Output>
    HealthCheckRequest: MessageTypeDefinition<_llm_HealthCheckRequest, _llm_HealthCheckRequest__Output>
    HealthCheckResponse: MessageTypeDefinition<_llm_HealthCheckResponse, _llm_HealthCheckResponse__Output>
    /**
     * Generates responses. Generation has no side effects on the server (sampling may differ
     * between attempts, which a retry accepts), so both rpcs are safe to retry.
     */
    LLMService: SubtypeConstructor<typeof grpc.Client, _llm_LLMServiceClient> & { service: _llm_LLMServiceDefinition }
    TokenUsage: MessageTypeDefinition<_llm_TokenUsage, _llm_TokenUsage__Output>
  }
}

