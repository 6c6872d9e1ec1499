import {
  createInMemorySyncStore,
  describeSyncStoreConformance,
  type InMemorySyncStoreOptions,
  type SyncStoreHarness,
  type SyncStoreSeed,
} from 'levelsync/testing';

/** A harness over a fresh in-memory store holding the seed; nothing to close. */
const inMemory =
  (storeOptions: InMemorySyncStoreOptions = {}) =>
  async (seed: SyncStoreSeed): Promise<SyncStoreHarness> => {
    const store = createInMemorySyncStore(seed, storeOptions);
    return {
      store,
      snapshot: async () => store.snapshot(),
      setLevel: async (side, userId, specializationId, level) => store.setLevel(side, userId, specializationId, level),
    };
  };

describeSyncStoreConformance('in-memory (number ids)', {
  duplicates: true,
  nullLevels: true,
  setup: inMemory(),
});

describeSyncStoreConformance('in-memory (string ids)', {
  userIds: 'string',
  setup: inMemory({ pageSize: 4 }),
});
