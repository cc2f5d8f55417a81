import { invalidConfig } from '../errors.ts';
import { ALGORITHM_NAMES, type AlgorithmName, type Balance } from './candidate.ts';
import { LeastRequest } from './least-request.ts';
import { Maglev } from './maglev.ts';
import { P2cEwma } from './p2c-ewma.ts';
import { WeightedRandom } from './random.ts';
import { RoundRobin } from './round-robin.ts';

/** Options of {@link createBalance}; each applies to one algorithm and is ignored by the others. */
export interface CreateBalanceOptions {
  /** Maglev lookup table size, a prime. @default 65537 */
  readonly tableSize?: number;
}

/**
 * A new instance of the algorithm called `name` (one of `ALGORITHM_NAMES`). Stateful algorithms
 * (round robin's current weights, Maglev's table) keep their state in the instance: use one per
 * pool of backends.
 * @throws BalancerError `RK_ERR_INVALID_CONFIG` naming `algorithm` or `tableSize`.
 */
export function createBalance(name: AlgorithmName, options: CreateBalanceOptions = {}): Balance {
  switch (name) {
    case 'p2c-ewma':
      return new P2cEwma();
    case 'round-robin':
      return new RoundRobin();
    case 'least-request':
      return new LeastRequest();
    case 'random':
      return new WeightedRandom();
    case 'maglev':
      return new Maglev(options.tableSize === undefined ? {} : { tableSize: options.tableSize });
    default:
      throw invalidConfig('algorithm', `one of ${ALGORITHM_NAMES.join(', ')}`, name);
  }
}
