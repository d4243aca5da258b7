import { RetryPolicy } from '@clone/service-errors';

const retryPolicy = new RetryPolicy({
  maxAttempts: 3,
  initialDelayMs: 100,
  maxDelayMs: 5000,
  backoffMultiplier: 2,
  retryableErrors: ['UNAVAILABLE', 'TIMEOUT'],
});

try {
  const result = await retryPolicy.execute(async () => {
    // Operation that might fail
    return await unreliableOperation();
  });

  console.log('Success:', result);
} catch (error) {
  console.error('Failed after retries:', error);
}
