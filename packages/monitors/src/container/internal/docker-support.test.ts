import { describe, expect, it } from 'vitest';
import { isGoneForLogs, isNotFound } from './docker-support.js';

/** Errors shaped as docker-modem builds them from the engine's answers. */
function engineError(statusCode: number, message: string): Error {
  return Object.assign(new Error(message), { statusCode });
}

describe('isGoneForLogs', () => {
  it('should be true for the 409 on a container dead or marked for removal', () => {
    expect(
      isGoneForLogs(
        engineError(
          409,
          '(HTTP code 409) unexpected - can not get logs from container which is dead or marked for removal ',
        ),
      ),
    ).toBe(true);
  });

  it('should be true for the 500 once the removal deleted its log file', () => {
    expect(
      isGoneForLogs(
        engineError(
          500,
          '(HTTP code 500) server error - open /var/lib/docker/containers/abc/abc-json.log: no such file or directory',
        ),
      ),
    ).toBe(true);
  });

  it('should be false for other conflicts and server errors', () => {
    expect(isGoneForLogs(engineError(409, 'container is paused'))).toBe(false);
    expect(isGoneForLogs(engineError(500, 'server error - EOF'))).toBe(false);
    expect(isGoneForLogs(undefined)).toBe(false);
  });
});

describe('isNotFound', () => {
  it('should be true only for a 404', () => {
    expect(isNotFound(engineError(404, 'no such container'))).toBe(true);
    expect(isNotFound(engineError(409, 'conflict'))).toBe(false);
  });
});
