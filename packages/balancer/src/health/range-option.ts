import { invalidConfig } from '../errors.ts';

/** Bounds of a numeric option, for {@link rangeOption}. */
export interface OptionRange {
  readonly min: number;
  readonly max: number;
  /** Whole numbers only. @default false */
  readonly integer?: boolean;
  /** Unit named in the error message, e.g. `ms`. */
  readonly unit?: string;
}

/**
 * Reads an optional numeric option: `fallback` when it is `undefined`, else a finite number
 * within `range`; anything else throws `RK_ERR_INVALID_CONFIG` naming `key`.
 */
export function rangeOption(key: string, value: unknown, fallback: number, range: OptionRange): number {
  if (value === undefined) return fallback;
  const whole = range.integer === true;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    (whole && !Number.isInteger(value)) ||
    value < range.min ||
    value > range.max
  ) {
    const what = whole ? 'a whole number' : 'a number';
    const unit = range.unit === undefined ? '' : ` ${range.unit}`;
    throw invalidConfig(key, `${what} from ${range.min}${unit} to ${range.max}${unit}`, value);
  }
  return value;
}
