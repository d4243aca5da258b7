import { ServiceError, ServiceErrorCode } from '@clone/service-errors';

try {
  // Execute with automatic retry and circuit breaker
  const result = await commManager.executeServiceCall('asr', async () => {
    return new Promise((resolve, reject) => {
      asrClient.HealthCheck({}, (error: any, response: any) => {
        if (error) reject(error);
        else resolve(response);
      });
    });
  });

  console.log('ASR service health:', result);
} catch (error) {
  if (error instanceof ServiceError) {
    console.error(`Service error [${error.code}]:`, error.message);

    if (error.retryable) {
      // Handle retryable error
    }
  }
}
