import { createServiceAuth } from '@clone/service-auth';

const serviceAuth = createServiceAuth({
  serviceName: 'auth-service',
  serviceSecret: process.env.SERVICE_SECRET,
  jwtSecret: process.env.JWT_SECRET,
  logger,
});

// Generate token for service-to-service calls
const authHeader = await serviceAuth.createAuthHeader('access-service');

// Use in HTTP client
const response = await axios.get(url, {
  headers: authHeader,
});
