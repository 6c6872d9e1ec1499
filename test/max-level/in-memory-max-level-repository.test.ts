import { describe, expect, it } from 'vitest';
import { createInMemoryMaxLevelRepository } from 'levelsync/testing';

describe('createInMemoryMaxLevelRepository', () => {
  it('is named "memory" unless told otherwise', () => {
    expect(createInMemoryMaxLevelRepository().name).toBe('memory');
    expect(createInMemoryMaxLevelRepository({ name: 'config' }).name).toBe('config');
  });

  it('set() and delete() change what findMaxLevel() and findAll() return', async () => {
    const repository = createInMemoryMaxLevelRepository({ values: { INTERNSHIP: 3 } });

    repository.set('LFA_COACH', 3.5);
    repository.delete('INTERNSHIP');

    expect((await repository.findMaxLevel('LFA_COACH'))._unsafeUnwrap()).toEqual({ specializationId: 'LFA_COACH', maxLevel: 3.5 });
    expect((await repository.findMaxLevel('INTERNSHIP'))._unsafeUnwrap()).toBeNull();
    expect((await repository.findAll())._unsafeUnwrap()).toEqual([{ specializationId: 'LFA_COACH', maxLevel: 3.5 }]);
  });

  it('failWith(cause) makes every call an err(RepositoryUnavailable) with that cause until failWith(null)', async () => {
    const repository = createInMemoryMaxLevelRepository({ name: 'postgres', values: { INTERNSHIP: 3 } });
    const cause = new Error('connection refused');

    repository.failWith(cause);
    const failed = (await repository.findMaxLevel('INTERNSHIP'))._unsafeUnwrapErr();
    const failedAll = (await repository.findAll())._unsafeUnwrapErr();
    repository.failWith(null);

    expect(failed).toMatchObject({ _tag: 'RepositoryUnavailable', repository: 'postgres', cause });
    expect(failed.message).toBe('Repository "postgres" is unavailable: connection refused');
    expect(failedAll.cause).toBe(cause);
    expect((await repository.findMaxLevel('INTERNSHIP'))._unsafeUnwrap()?.maxLevel).toBe(3);
  });

  it('counts findMaxLevel() and findAll() calls, failed ones included, until resetCalls()', async () => {
    const repository = createInMemoryMaxLevelRepository();

    await repository.findMaxLevel('A');
    await repository.findAll();
    repository.failWith('down');
    await repository.findMaxLevel('B');

    expect(repository.calls).toBe(3);
    repository.resetCalls();
    expect(repository.calls).toBe(0);
  });

  it('answers on a microtask by default, before any timer', async () => {
    const repository = createInMemoryMaxLevelRepository({ values: { A: 1 } });
    const order: string[] = [];

    const timer = new Promise<void>((resolve) => setTimeout(() => resolve(order.push('timer') as never), 0));
    await repository.findMaxLevel('A').map(() => order.push('answer'));
    await timer;

    expect(order).toEqual(['answer', 'timer']);
  });
});
