// The live dashboard in real headless Chromium: the example services and the conversation
// orchestrator run, TTS dies, its tile turns OPEN; TTS comes back, the tile turns CLOSED.
// `DASHBOARD_SCREENSHOT=1` writes the OPEN moment to docs/dashboard.png.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceKind } from '@clone/grpc-proto';
import { ServiceRegistry } from '@clone/service-discovery';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSpeech } from '../lib/speech-codec';
import { ConversationOrchestrator } from '../orchestrator';
import { DEMO_JWT_SECRET, type RunningService, STARTERS } from '../services/index';
import { type Dashboard, startDashboard } from './dashboard-server';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const KINDS: ServiceKind[] = ['asr', 'rag', 'llm', 'tts', 'lipsync'];
const auth = { jwtSecret: DEMO_JWT_SECRET };

describe('the live dashboard', () => {
  const services = new Map<ServiceKind, RunningService>();
  let registry: ServiceRegistry;
  let orchestrator: ConversationOrchestrator;
  let dashboard: Dashboard;
  let browser: Browser;
  let page: Page;
  let turns = 0;

  const converse = (text: string) =>
    orchestrator.converse({ userId: 'user-1', sessionId: `s-${++turns}`, audio: encodeSpeech(text) });
  const tile = (service: string, state: string) => `[data-service="${service}"][data-state="${state}"]`;
  /** Waits until the page shows `n` for the count `name` (a saga outcome). */
  const count = (name: string, n: number) =>
    page.locator(`[data-count="${name}"] b`, { hasText: new RegExp(`^${n}$`) }).waitFor();

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`no Chromium at ${CHROMIUM}: run scripts/servers.sh (apt-get install chromium)`);
    registry = new ServiceRegistry({ healthCheckIntervalMs: 500 });
    for (const kind of KINDS) services.set(kind, await STARTERS[kind]({ registry, auth }));
    const endpoints = Object.fromEntries([...services].map(([k, s]) => [k, { host: s.host, port: s.port }]));
    orchestrator = new ConversationOrchestrator({
      jwtSecret: DEMO_JWT_SECRET,
      endpoints,
      registry,
      circuitBreaker: { failureThreshold: 3, successThreshold: 1, timeout: 2_000, resetTimeoutMs: 1_500 },
      retry: { maxAttempts: 3, initialDelayMs: 50, maxDelayMs: 200, backoffMultiplier: 2 },
      client: {
        defaultDeadlineMs: 5_000,
        channelOptions: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 500 },
      },
    });
    dashboard = await startDashboard({
      comm: orchestrator.comm,
      registry,
      sagas: orchestrator.sagas,
      intervalMs: 200,
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 640 } });
    await page.goto(dashboard.url);
  });

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    await orchestrator?.close();
    for (const s of services.values()) await s.shutdown();
    await registry?.close();
  });

  it('shows a CLOSED tile per callee with live numbers', async () => {
    expect((await converse('Where did you grow up?')).saga.success).toBe(true);
    expect((await converse('Do you have a cat?')).saga.success).toBe(true);
    for (const kind of KINDS) await page.waitForSelector(tile(kind, 'CLOSED'));
    await count('completed', 2);
    await page.locator(tile('tts', 'CLOSED'), { hasText: /p50 \/ p99\s*[\d.]+ ms \/ [\d.]+ ms/ }).waitFor();
  });

  it('turns the TTS tile OPEN when TTS dies, with its retries and rejections', async () => {
    services.get('tts')!.crash();
    expect((await converse('What do you build at work?')).saga.success).toBe(false);
    expect((await converse('What do you do on weekends?')).saga.success).toBe(false);
    await page.waitForSelector(tile('tts', 'OPEN'));
    // The second conversation's call was refused by the open circuit, never sent.
    await count('compensated', 2);
    await page.locator(tile('tts', 'OPEN'), { hasText: /retries\s*2\s*rejections\s*1/ }).waitFor();
    for (const kind of ['asr', 'rag', 'llm'])
      expect(await page.locator(tile(kind, 'CLOSED')).count()).toBe(1);
    const path = process.env.DASHBOARD_SCREENSHOT
      ? join(ROOT, 'docs/dashboard.png')
      : join(tmpdir(), 'dashboard.png');
    await page.screenshot({ path, fullPage: true });
    const metrics = await (await fetch(new URL('/metrics', dashboard.url))).text();
    expect(metrics).toMatch(/clone_circuit_state\{[^}]*rpc_service="tts"[^}]*\} 2/);
    expect(metrics).toMatch(/rpc_client_duration_count\{[^}]*rpc_service="asr"/);
  });

  it('turns it CLOSED again once TTS is back and a call succeeds', async () => {
    const old = services.get('tts')!;
    await old.shutdown();
    services.set('tts', await STARTERS.tts({ registry, auth, port: old.port }));
    const wait = Math.max(0, (orchestrator.comm.getCircuitStats().tts?.nextAttemptTime ?? 0) - Date.now());
    await new Promise((r) => setTimeout(r, wait + 50));
    expect((await converse('Tell me about your cat again.')).saga.success).toBe(true);
    await page.waitForSelector(tile('tts', 'CLOSED'));
  });
});
