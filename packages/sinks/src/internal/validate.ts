import { LcError } from '@lc/core';

/** Throw `LC_ERR_INVALID_OPTION` naming the option and what was given. */
export function invalidOption(
  factory: string,
  option: string,
  expected: string,
  given: unknown,
): never {
  throw new LcError({
    code: 'LC_ERR_INVALID_OPTION',
    message: `${factory}: ${option} must be ${expected}, got ${JSON.stringify(given)}`,
    details: { option },
  });
}

/** A finite number > 0. */
export function validatePositive(
  factory: string,
  option: string,
  value: number,
): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    invalidOption(factory, option, 'a positive finite number', value);
  }
  return value;
}

/** An http(s) URL. */
export function requireUrl(
  factory: string,
  option: string,
  value: string,
): URL {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (
    url === undefined ||
    (url.protocol !== 'http:' && url.protocol !== 'https:')
  ) {
    invalidOption(factory, option, 'an http:// or https:// URL', value);
  }
  return url;
}
