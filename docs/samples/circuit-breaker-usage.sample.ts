import { CircuitBreaker, CircuitState } from '@clone/service-errors';

const circuitBreaker = new CircuitBreaker({
  failureThreshold: 5, // Open after 5 failures
  successThreshold: 2, // Close after 2 successes in half-open
  timeout: 30000, // 30 second timeout
  resetTimeoutMs: 60000, // Try again after 60 seconds
});

try {
  const result = await circuitBreaker.execute(async () => {
    // Call external service
    return await callExternalService();
  });

  console.log('Result:', result);
} catch (error) {
  const stats = circuitBreaker.getStats();
  console.log('Circuit breaker state:', stats.state);
  console.log('Failure count:', stats.failureCount);

  if (stats.state === CircuitState.OPEN) {
    console.log('Circuit is open, service unavailable');
  }
}
