export {
  PostgresParticipantStore,
  type PostgresParticipantStoreOptions,
} from './postgres-participant-store';
