import { ServiceClient } from '@clone/http-client';

// The design document's ServiceHttpClient('http://user-service:3001', 'order-service'):
// X-Service-Name and X-Correlation-ID on every request, a 5 s timeout, JSON in and out.
const userServiceClient = new ServiceClient({
  serviceName: 'user-service',
  baseUrl: userServiceUrl, // 'http://user-service:3001'
  callerName: 'order-service', // sent as X-Service-Name
  circuitBreaker: { timeout: 5000 },
});

const user = await userServiceClient.get<{ id: string; email: string }>('/users/123');
const created = await userServiceClient.post<{ id: string }>('/users', { email: 'user@example.com', name: 'Ada' });
await userServiceClient.put('/users/123', { name: 'Ada L.' });
await userServiceClient.delete('/users/123');
console.log('user', user.id, 'created', created.id);
await userServiceClient.close();
