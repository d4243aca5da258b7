import { MemoryStore } from '../src/memory-store';
import { describeStoreContract } from './store-contract';

describeStoreContract('MemoryStore', () => new MemoryStore());
