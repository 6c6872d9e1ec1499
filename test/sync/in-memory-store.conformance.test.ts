import { createInMemorySyncStore, describeSyncStoreConformance } from 'levelsync/testing';

describeSyncStoreConformance('in-memory (number ids)', {
  duplicates: true,
  nullLevels: true,
  create: async (seed) => {
    const store = createInMemorySyncStore(seed);
    return {
      store,
      snapshot: async () => store.snapshot(),
      setLevel: async (side, userId, specializationId, level) => store.setLevel(side, userId, specializationId, level),
      close: async () => {},
    };
  },
});

describeSyncStoreConformance('in-memory (string ids)', {
  userIds: 'string',
  create: async (seed) => {
    const store = createInMemorySyncStore(seed, { pageSize: 4 });
    return {
      store,
      snapshot: async () => store.snapshot(),
      setLevel: async (side, userId, specializationId, level) => store.setLevel(side, userId, specializationId, level),
      close: async () => {},
    };
  },
});
