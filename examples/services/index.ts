import type { ServiceKind } from '@clone/grpc-proto';
import { startASRService } from './asr';
import type { ExampleServiceOptions, RunningService } from './common';
import { startLipSyncService } from './lipsync';
import { startLLMService } from './llm';
import { startRAGService } from './rag';
import { startTTSService } from './tts';

export { startASRService } from './asr';
export { DEMO_JWT_SECRET, type ExampleServiceOptions, type RunningService, type ServiceTls } from './common';
export { startLipSyncService } from './lipsync';
export { startLLMService } from './llm';
export { startRAGService } from './rag';
export { startTTSService } from './tts';

/** The starter of each example service, by kind. */
export const STARTERS: Readonly<
  Record<ServiceKind, (options?: ExampleServiceOptions) => Promise<RunningService>>
> = {
  asr: startASRService,
  llm: startLLMService,
  rag: startRAGService,
  tts: startTTSService,
  lipsync: startLipSyncService,
};
