import { ServiceError, ServiceErrorCode } from '@clone/service-errors';

throw new ServiceError(ServiceErrorCode.ASR_FAILED, 'Failed to transcribe audio', 'asr-service', {
  retryable: true,
  metadata: { sessionId: 'session-123' },
});
