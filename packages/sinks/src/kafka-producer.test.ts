import { createServer } from 'node:net';
import type { Logger } from '@lc/core';
import { describe, expect, it } from 'vitest';
import { createKafkaJsProducer } from './kafka-producer.js';

/** A logger whose methods need their `this`, like pino's. */
class MethodLogger implements Logger {
  readonly lines: Array<{ level: string; msg: unknown }> = [];
  private push(level: string, a: unknown, b?: unknown): void {
    this.lines.push({ level, msg: b ?? a });
  }
  trace(a: unknown, b?: unknown): void {
    this.push('trace', a, b);
  }
  debug(a: unknown, b?: unknown): void {
    this.push('debug', a, b);
  }
  info(a: unknown, b?: unknown): void {
    this.push('info', a, b);
  }
  warn(a: unknown, b?: unknown): void {
    this.push('warn', a, b);
  }
  error(a: unknown, b?: unknown): void {
    this.push('error', a, b);
  }
  fatal(a: unknown, b?: unknown): void {
    this.push('fatal', a, b);
  }
  child(): Logger {
    return this;
  }
}

describe('createKafkaJsProducer', () => {
  it('should log kafkajs connection errors through a method-bound logger without throwing', async () => {
    // A port that refuses: kafkajs logs the connection error from inside
    // its socket handler, where a throw would crash the process.
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const logger = new MethodLogger();
    const producer = createKafkaJsProducer({
      brokers: [`127.0.0.1:${port}`],
      logger,
      retries: 0,
      connectionTimeoutMs: 500,
    });
    await expect(producer.connect()).rejects.toThrow();
    await producer.disconnect();
    expect(logger.lines.some((l) => l.level === 'error')).toBe(true);
  });
});
