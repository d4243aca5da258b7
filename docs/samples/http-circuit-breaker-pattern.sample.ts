import { ServiceClient } from '@clone/http-client';

const client = new ServiceClient({
  serviceName: 'external-service',
  circuitBreaker: {
    failureThreshold: 5,      // Open after 5 failures
    successThreshold: 2,      // Close after 2 successes
    timeout: 10000,          // Request timeout
    resetTimeout: 60000,     // Try half-open after 60s
  },
});

// Monitor circuit state
client.onCircuitEvent('circuit:state_changed', (state) => {
  console.log('Circuit state:', state);
});

// Check circuit state
const state = client.getCircuitState();
if (state === 'OPEN') {
  console.log('Circuit is open, requests will fail fast');
}
