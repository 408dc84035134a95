// The presets against realistic output: a Java stack trace (logback, with
// `Caused by:`, `Suppressed:` and `... N more`), a Python traceback (plain
// and chained, 3.11 carets), a Go panic with several goroutines (and
// net/http's recovered panic), and pretty-printed JSON objects.
import { describe, expect, it } from 'vitest';
import type { JoinedRecord } from './multiline-joiner.js';
import { createMultilineJoiner } from './multiline-joiner.js';
import type { MultilinePreset } from './multiline-options.js';

function records(preset: MultilinePreset, blocks: string[][]): string[] {
  const j = createMultilineJoiner<{ text: string }>({ preset });
  const out: JoinedRecord<{ text: string }>[] = [];
  for (const line of blocks.flat()) j.push({ text: line }, 0, out);
  j.flush(out);
  return out.map((r) => r.text);
}

const expectRecords = (preset: MultilinePreset, blocks: string[][]) =>
  expect(records(preset, blocks)).toEqual(blocks.map((b) => b.join('\n')));

describe('createMultilineJoiner', () => {
  describe('preset java', () => {
    it('should keep a log line with its exception, frames, causes and "... N more"', () => {
      expectRecords('java', [
        ['2026-11-23 10:00:00.123 INFO  [main] c.a.Server - started in 1.2s'],
        [
          '2026-11-23 10:00:01.001 ERROR [http-nio-8080-exec-1] c.a.OrderController - order 42 failed',
          'org.springframework.dao.DataAccessResourceFailureException: could not get connection; nested exception is java.sql.SQLException: pool exhausted',
          '\tat org.springframework.jdbc.support.SQLStateSQLExceptionTranslator.doTranslate(SQLStateSQLExceptionTranslator.java:105)',
          '\tat com.acme.orders.OrderRepository.find(OrderRepository.java:57)',
          '\tat com.acme.orders.OrderController.get(OrderController.java:31)',
          '\tSuppressed: java.lang.IllegalStateException: rollback failed',
          '\t\tat com.acme.orders.Tx.rollback(Tx.java:12)',
          '\t\t... 3 more',
          'Caused by: java.sql.SQLException: pool exhausted',
          '\tat com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:181)',
          '\t... 12 more',
          'Caused by: java.net.ConnectException: Connection refused',
          '\tat java.base/sun.nio.ch.Net.connect0(Native Method)',
          '\t... 27 common frames omitted',
        ],
        ['2026-11-23 10:00:02.000 WARN  [main] c.a.Health - db degraded'],
        [
          'Exception in thread "main" java.lang.NullPointerException: Cannot invoke "String.length()" because "s" is null',
          '\tat com.acme.Main.main(Main.java:5)',
        ],
        ['2026-11-23 10:00:03.000 INFO  [main] c.a.Server - stopping'],
      ]);
    });
  });

  describe('preset python', () => {
    it('should keep a log line with its traceback up to the exception, chained tracebacks included', () => {
      expectRecords('python', [
        ['2026-11-23 10:00:00,001 INFO app: listening on :8000'],
        [
          '2026-11-23 10:00:01,002 ERROR app: request /orders/42 failed',
          'Traceback (most recent call last):',
          '  File "/srv/app/db.py", line 12, in fetch',
          '    return conn.execute(query)',
          '           ^^^^^^^^^^^^^^^^^^^',
          'ConnectionError: pool exhausted',
          '',
          'During handling of the above exception, another exception occurred:',
          '',
          'Traceback (most recent call last):',
          '  File "/srv/app/views.py", line 30, in get_order',
          '    order = db.fetch(order_id)',
          '  File "/srv/app/db.py", line 14, in fetch',
          '    raise DatabaseUnavailable("orders") from None',
          'app.errors.DatabaseUnavailable: orders',
        ],
        // A traceback always joins the line before it (as logger.exception
        // writes them), an uncaught one too.
        [
          '2026-11-23 10:00:02,003 WARNING app: retrying',
          'Traceback (most recent call last):',
          '  File "/srv/app/main.py", line 3, in <module>',
          '    main()',
          'KeyboardInterrupt',
        ],
        ['2026-11-23 10:00:03,004 INFO app: bye'],
      ]);
    });
  });

  describe('preset go', () => {
    it('should keep a panic with every goroutine dump, and a log line with the dump that follows it', () => {
      expectRecords('go', [
        ['2026/11/23 10:00:00 listening on :8080'],
        [
          '2026/11/23 10:00:01 http: panic serving 10.0.0.7:51234: runtime error: invalid memory address or nil pointer dereference',
          'goroutine 34 [running]:',
          'net/http.(*conn).serve.func1()',
          '\t/usr/local/go/src/net/http/server.go:1898 +0xbe',
          'panic({0x6c9ec0?, 0x9b2d30?})',
          '\t/usr/local/go/src/runtime/panic.go:770 +0x132',
          'main.handler({0x7d4a18, 0xc0001b4000}, 0xc0001aa000)',
          '\t/app/main.go:21 +0x1d',
        ],
        [
          'panic: assignment to entry in nil map',
          '',
          'goroutine 1 [running]:',
          'main.(*Cache).Put(...)',
          '\t/app/cache.go:14',
          'main.main()',
          '\t/app/main.go:9 +0x2c',
          '',
          'goroutine 6 [chan receive, 2 minutes]:',
          'main.worker(0xc000020060)',
          '\t/app/worker.go:20 +0x3c',
          'created by main.main in goroutine 1',
          '\t/app/main.go:7 +0x45',
          'exit status 2',
        ],
        ['2026/11/23 10:00:05 restarted'],
        [
          'fatal error: all goroutines are asleep - deadlock!',
          '',
          'goroutine 1 [semacquire]:',
          'sync.runtime_Semacquire(0xc000012345?)',
          '\t/usr/local/go/src/runtime/sema.go:62 +0x25',
        ],
        ['2026/11/23 10:00:06 done'],
      ]);
    });
  });

  describe('preset json', () => {
    it('should join pretty-printed objects and leave every other line alone', () => {
      const j = createMultilineJoiner<{ text: string }>({ preset: 'json' });
      const out: JoinedRecord<{ text: string }>[] = [];
      const object = [
        '{',
        '  "level": "error",',
        '  "msg": "closing brace } and \\"quote\\" in a string {",',
        '  "items": [',
        '    { "id": 1 },',
        '    { "id": 2 }',
        '  ],',
        '  "nested": { "a": { "b": [] } }',
        '}',
      ];
      const lines = [
        'plain text before',
        ...object,
        '{"level":"info","msg":"one line"}',
        '  {',
        '    "indented": true',
        '  }',
        '[not an object]',
      ];
      for (const text of lines) j.push({ text }, 0, out);
      // Complete records leave at once: nothing waits for a next line.
      expect(j.pending).toBe(false);
      expect(out.map((r) => r.text)).toEqual([
        'plain text before',
        object.join('\n'),
        '{"level":"info","msg":"one line"}',
        '  {\n    "indented": true\n  }',
        '[not an object]',
      ]);
      for (const r of out.slice(1, 4))
        expect(() => JSON.parse(r.text) as unknown).not.toThrow();
    });
  });
});
