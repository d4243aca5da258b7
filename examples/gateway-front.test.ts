import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Deployment, inProcess } from './deployments';
import { type GatewayFront, startGatewayFront } from './gateway-front';
import { ConversationOrchestrator } from './orchestrator';
import { DEMO_JWT_SECRET } from './services/index';

let deployment: Deployment;
let orchestrator: ConversationOrchestrator;
let front: GatewayFront;

beforeAll(async () => {
  deployment = await inProcess({
    jwtSecret: DEMO_JWT_SECRET,
    healthCheckIntervalMs: 30_000,
    onInterrupt: new Set(),
  });
  orchestrator = new ConversationOrchestrator({
    jwtSecret: DEMO_JWT_SECRET,
    endpoints: deployment.endpoints,
    registry: deployment.registry,
  });
  await deployment.ready(orchestrator);
  front = await startGatewayFront({
    orchestrator,
    registry: deployment.registry,
    jwtSecret: DEMO_JWT_SECRET,
  });
});

afterAll(async () => {
  await front?.close();
  await orchestrator?.close();
  await deployment?.close();
});

async function call(path: string, init: { method?: string; body?: string; token?: string | null } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const token = init.token === undefined ? front.token : init.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await request(`${front.url}${path}`, {
    method: (init.method ?? 'GET') as 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  return { status: res.statusCode, headers: res.headers, json: (await res.body.json()) as any };
}

describe('the demo behind the gateway', () => {
  it('runs a conversation saga through POST /api/v1/conversations and reads it back', async () => {
    const posted = await call('/api/v1/conversations', {
      method: 'POST',
      body: JSON.stringify({ sessionId: 'front-1', text: 'Where did you grow up?' }),
    });
    expect(posted.status).toBe(201);
    expect(posted.json.data).toMatchObject({
      sessionId: 'front-1',
      userId: 'user-123',
      transcript: 'Where did you grow up?',
      completedSteps: ['transcribe-audio', 'retrieve-context', 'generate-response', 'synthesize-speech'],
    });
    expect(posted.json.data.reply).toContain('Lisbon');
    expect(posted.headers['ratelimit-policy']).toContain('"second";q=10;w=1');
    const read = await call('/api/v1/conversations/front-1');
    expect(read.status).toBe(200);
    expect(read.json.data.reply).toBe(posted.json.data.reply);
  });

  it('refuses a request without a token at the gateway, in the error format', async () => {
    const res = await call('/api/v1/conversations', { method: 'POST', body: '{"text":"hi"}', token: null });
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ success: false, code: 'UNAUTHORIZED' });
  });

  it('answers a bad body with 400 from the service, passed through', async () => {
    const res = await call('/api/v1/conversations', { method: 'POST', body: '{}' });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ success: false, code: 'BAD_REQUEST' });
  });

  it('lists the conversation service through the gateway and the mounted registry API', async () => {
    const services = await call('/api/v1/gateway/services');
    expect(services.json.data.services[0]).toMatchObject({ name: 'conversation-service' });
    const registry = await call('/api/v1/registry/services');
    expect(registry.status).toBe(200);
    expect(registry.json.data.map((s: { name: string }) => s.name)).toContain('conversation-service');
  });
});
