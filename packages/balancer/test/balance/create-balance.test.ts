import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALGORITHM_NAMES, type AlgorithmName } from '../../src/balance/candidate.ts';
import { createBalance } from '../../src/balance/create-balance.ts';
import { Maglev } from '../../src/balance/maglev.ts';
import { BalancerError } from '../../src/errors.ts';
import { seededRng } from '../support/seeded-rng.ts';
import { candidates } from './candidates.ts';

describe('createBalance', () => {
  for (const name of ALGORITHM_NAMES) {
    it(`creates ${name}, which picks from the candidates`, () => {
      const balance = createBalance(name);
      assert.equal(balance.name, name);
      const list = candidates(3);
      const picked = balance.pick(list, { rng: seededRng(1), now: 0, hashKey: 'k' });
      assert.ok(picked !== undefined && list.includes(picked));
      assert.equal(
        balance.pick(list, { rng: seededRng(1), now: 0, excluded: new Set(['b0', 'b1', 'b2']) }),
        undefined,
      );
    });
  }

  it('returns a fresh instance each time, so state is not shared between pools', () => {
    assert.notEqual(createBalance('round-robin'), createBalance('round-robin'));
  });

  it('passes the table size to Maglev and validates it', () => {
    const maglev = createBalance('maglev', { tableSize: 1009 });
    assert.ok(maglev instanceof Maglev);
    assert.equal(maglev.tableSize, 1009);
    assert.throws(
      () => createBalance('maglev', { tableSize: 1000 }),
      /^BalancerError: tableSize must be a prime/,
    );
  });

  it('refuses an unknown name, naming the option', () => {
    assert.throws(
      () => createBalance('fastest' as AlgorithmName),
      (error: unknown) =>
        error instanceof BalancerError &&
        error.code === 'RK_ERR_INVALID_CONFIG' &&
        error.message ===
          'algorithm must be one of p2c-ewma, round-robin, least-request, random, maglev, got "fastest"',
    );
  });
});
