// Create ASR client
const asrClient = commManager.createASRClient({ host: 'asr-service', port: 50051 }, ['asr:read']);

// Create LLM client
const llmClient = commManager.createLLMClient({ host: 'llm-service', port: 50052 }, ['llm:read']);

// Create RAG client
const ragClient = commManager.createRAGClient({ host: 'rag-service', port: 50053 }, [
  'rag:read',
  'rag:write',
]);

// Create TTS client
const ttsClient = commManager.createTTSClient({ host: 'tts-service', port: 50054 }, ['tts:read']);

// Create Lip-sync client
const lipSyncClient = commManager.createLipSyncClient({ host: 'lipsync-service', port: 50055 }, [
  'lipsync:read',
]);
