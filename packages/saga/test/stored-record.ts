import type { SagaRecord } from '../src/store';

/** A one-step saga record as a store holds it: what store tests write and read back. */
export function storedRecord(id: string, status: SagaRecord['status'] = 'running'): SagaRecord {
  return {
    id,
    type: 't',
    status,
    context: {},
    steps: [{ id: 'a', name: 'a', service: 's', action: 'a' }],
    stepStates: { a: { status: 'running', attempts: 1 } },
    completionOrder: [],
    startedAt: 0,
    updatedAt: 0,
  };
}
