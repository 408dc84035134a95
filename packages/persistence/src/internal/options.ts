import { LcError } from '@lc/core';

/** Validate an optional number option; returns the default when absent. */
export function numberOption(
  component: string,
  name: string,
  value: number | undefined,
  fallback: number,
  { min = 0, integer = true }: { min?: number; integer?: boolean } = {},
): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    Number.isNaN(value) ||
    value < min ||
    (integer && !Number.isInteger(value) && value !== Number.POSITIVE_INFINITY)
  ) {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `${component}: option "${name}" must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${JSON.stringify(value)}`,
      details: { option: name, value },
    });
  }
  return value;
}

/** Validate a required non-empty string option. */
export function stringOption(
  component: string,
  name: string,
  value: unknown,
): string {
  if (typeof value !== 'string' || value === '') {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `${component}: option "${name}" must be a non-empty string, got ${JSON.stringify(value)}`,
      details: { option: name },
    });
  }
  return value;
}

/** Validate an option drawn from a fixed set. */
export function enumOption<T extends string>(
  component: string,
  name: string,
  value: T | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `${component}: option "${name}" must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`,
      details: { option: name, value },
    });
  }
  return value;
}
