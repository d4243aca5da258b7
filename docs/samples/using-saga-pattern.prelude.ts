// provides: transcribeAudio, retrieveContext, generateResponse, synthesizeSpeech, clearContextCache, cleanupAudioResources
/**
 * Stand-ins for the ASR, RAG, LLM and TTS calls of the conversation saga: small, deterministic
 * functions (the saga sample is about ordering and compensation, not about these services).
 */
export default async function setup() {
  const cache = new Map<string, string>();
  const audio = new Map<string, Buffer>();
  const transcribeAudio = async (sessionId: string): Promise<string> => `transcript of ${sessionId}`;
  const retrieveContext = async (userId: string, transcript: string): Promise<string> => {
    const context = `context for ${userId}: ${transcript.length} chars`;
    cache.set(userId, context);
    return context;
  };
  const generateResponse = async (transcript: string, ragContext: string): Promise<string> =>
    `reply to "${transcript}" using ${ragContext}`;
  const synthesizeSpeech = async (text: string): Promise<Buffer> => {
    const pcm = Buffer.from(text, 'utf8');
    audio.set(text, pcm);
    return pcm;
  };
  const clearContextCache = async (sessionId: string): Promise<void> => {
    cache.delete(sessionId);
  };
  const cleanupAudioResources = async (sessionId: string): Promise<void> => {
    audio.delete(sessionId);
  };
  return {
    transcribeAudio,
    retrieveContext,
    generateResponse,
    synthesizeSpeech,
    clearContextCache,
    cleanupAudioResources,
    teardown: async () => {
      cache.clear();
      audio.clear();
    },
  };
}
