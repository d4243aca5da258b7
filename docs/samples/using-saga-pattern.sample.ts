import { createSaga } from '@clone/saga';

interface ConversationContext {
  userId: string;
  sessionId: string;
  transcript?: string;
  ragContext?: string;
  llmResponse?: string;
  audioData?: Buffer;
}

// Create a saga for conversation processing
const result = await createSaga<ConversationContext>({
  userId: 'user-123',
  sessionId: 'session-456',
})
  .step(
    'transcribe-audio',
    async (ctx) => {
      // Call ASR service
      const transcript = await transcribeAudio(ctx.sessionId);
      ctx.transcript = transcript;
      return transcript;
    },
    async (ctx) => {
      // Compensation: log the failure
      console.log('Transcription failed, no cleanup needed');
    }
  )
  .step(
    'retrieve-context',
    async (ctx) => {
      // Call RAG service
      const context = await retrieveContext(ctx.userId, ctx.transcript!);
      ctx.ragContext = context;
      return context;
    },
    async (ctx) => {
      // Compensation: clear cached context
      await clearContextCache(ctx.sessionId);
    }
  )
  .step(
    'generate-response',
    async (ctx) => {
      // Call LLM service
      const response = await generateResponse(ctx.transcript!, ctx.ragContext!);
      ctx.llmResponse = response;
      return response;
    },
    async (ctx) => {
      // Compensation: log failed generation
      console.log('LLM generation failed');
    }
  )
  .step(
    'synthesize-speech',
    async (ctx) => {
      // Call TTS service
      const audio = await synthesizeSpeech(ctx.llmResponse!);
      ctx.audioData = audio;
      return audio;
    },
    async (ctx) => {
      // Compensation: clean up audio resources
      await cleanupAudioResources(ctx.sessionId);
    }
  )
  .execute();

if (result.success) {
  console.log('Conversation processed successfully');
  console.log('Completed steps:', result.completedSteps);
} else {
  console.error('Conversation processing failed:', result.error);
  console.error('Failed at step:', result.failedStep);
  console.log('Compensated steps:', result.completedSteps);
}
