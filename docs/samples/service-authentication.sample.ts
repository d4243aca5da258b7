import { ServiceAuthManager } from '@clone/service-auth';

const authManager = new ServiceAuthManager({
  jwtSecret: process.env.JWT_SECRET!,
  tokenExpirySeconds: 3600,
});

// Generate service token
const token = authManager.generateServiceToken('websocket-server-1', 'websocket-server', [
  'asr:read',
  'llm:read',
  'rag:read',
  'tts:read',
]);

// Verify token
try {
  const payload = authManager.verifyServiceToken(token);
  console.log('Service:', payload.serviceName);
  console.log('Permissions:', payload.permissions);

  // Check permission
  if (authManager.hasPermission(payload, 'asr:read')) {
    console.log('Has ASR read permission');
  }
} catch (error) {
  console.error('Token verification failed:', error);
}
