export {
  CommandDispatcher,
  type CommandDispatcherEvents,
  type CommandDispatcherStats,
} from './command-dispatcher';
export {
  DistributedSagaOrchestrator,
  type DistributedSagaOrchestratorOptions,
} from './distributed-orchestrator';
export {
  commandId,
  type ParticipantAnnouncement,
  type SagaCommand,
  type SagaReply,
  type WireError,
} from './messages';
export { ParticipantDirectory, type ParticipantInfo } from './participant-directory';
export { MemoryParticipantStore, type ParticipantStore, type RecordedOutcome } from './participant-store';
export {
  type CommandOutcome,
  SagaParticipant,
  type SagaParticipantEvents,
  type SagaParticipantOptions,
  type SagaParticipantStats,
} from './saga-participant';
