import type { llm } from '@clone/grpc-proto';
import { terms } from '../lib/knowledge-base';
import { respond, tokenize } from '../lib/responder';
import {
  badRequest,
  type ExampleServiceOptions,
  healthCheck,
  type RunningService,
  startService,
} from './common';

interface Completion {
  tokens: string[];
  finishReason: 'STOP' | 'LENGTH';
  usage: llm.TokenUsage;
}

/** The deterministic "model": lib/responder.ts answering from the retrieved context. */
function complete(request: llm.GenerateRequest__Output): Completion {
  if (request.prompt.trim() === '') throw badRequest('prompt is empty', 'llm');
  const context = request.context.split('\n').filter((line) => line.trim() !== '');
  let tokens = tokenize(respond(request.prompt, context));
  let finishReason: Completion['finishReason'] = 'STOP';
  if (request.maxTokens > 0 && tokens.length > request.maxTokens) {
    tokens = tokens.slice(0, request.maxTokens);
    finishReason = 'LENGTH';
  }
  const history = request.history.map((m) => m.content).join(' ');
  const promptTokens = terms(`${history} ${request.prompt} ${request.context}`).length;
  return { tokens, finishReason, usage: { promptTokens, completionTokens: tokens.length } };
}

/**
 * LLM: `Generate` answers at once; `StreamGenerate` sends the same answer token by token, the
 * last chunk carrying the finish reason and token usage.
 */
export function startLLMService(options: ExampleServiceOptions = {}): Promise<RunningService> {
  return startService(
    'llm',
    {
      Generate: async (call) => {
        const { tokens, finishReason, usage } = complete(call.request);
        return { text: tokens.join('').trimEnd(), finishReason, usage };
      },
      StreamGenerate: async (call) => {
        const { tokens, finishReason, usage } = complete(call.request);
        for (const [index, delta] of tokens.entries()) {
          if (call.cancelled) return;
          const last = index === tokens.length - 1;
          call.write(last ? { delta, index, finishReason, usage } : { delta, index });
        }
        call.end();
      },
      HealthCheck: healthCheck('llm'),
    },
    { llm: ['llm:read'] },
    options,
  );
}
