import { pino } from 'pino';
import type { Logger as PinoLogger } from 'pino';

/**
 * The agent's logger: pino JSON lines on stderr (stdout is left to the
 * stdout sink and to command output).
 */
export function createAgentLogger(level: string, name: string): PinoLogger {
  return pino(
    { level, base: { name, pid: process.pid } },
    pino.destination({ fd: 2, sync: true }),
  );
}
